import nodemailer from 'nodemailer';
import { describe, expect, it } from 'vitest';
import { composeOutbound, FILE_READ_BYTES, type FileSlices } from './compose';

// A file given as its slices is read as nodemailer writes the mail; a read that fails or finds
// the file gone fails the mail (docs/ARCHITECTURE.md "Outbound mail").
const row = { id: '7d1f0c2e-5b1a-4c3e-9f00-0a1b2c3d4e5f', toAddress: 'bob@corp.test', messageId: 'm@x.test', subject: 'figures', textBody: 'figures\n', htmlBody: null, inReplyTo: null, references: [], autoSubmitted: 'auto-generated', replyTo: null };
const opts = { addressing: { mode: 'domain' as const, domain: 'x.test' }, secret: 'x'.repeat(32) };
const size = 3 * FILE_READ_BYTES + 7;

/** Slices of a file of `size` bytes whose read number `failAt` (0-based) gives `fail`'s answer. */
function slices(failAt: number, fail: () => Promise<Buffer | null>): FileSlices & { reads: number } {
  const file = {
    size,
    reads: 0,
    read(at: number, count: number) {
      return file.reads++ === failAt ? fail() : Promise.resolve(Buffer.alloc(Math.min(count, size - at), 1));
    },
  };
  return file;
}

const sendThrough = (file: FileSlices) =>
  nodemailer.createTransport({ streamTransport: true, buffer: true }).sendMail(composeOutbound(row, opts, [{ filename: 'f.pdf', contentType: 'application/pdf', content: file }]));

describe('a file given as its slices', () => {
  it('is read whole, in reads of FILE_READ_BYTES, only once the mail is written', async () => {
    const file = slices(-1, () => Promise.resolve(null));
    const mail = composeOutbound(row, opts, [{ filename: 'f.pdf', contentType: 'application/pdf', content: file }]);
    expect(file.reads).toBe(0);
    await nodemailer.createTransport({ streamTransport: true, buffer: true }).sendMail(mail);
    expect(file.reads).toBe(4);
  });

  it.each([
    ['gone after the first read', 1, () => Promise.resolve(null), /no longer stored/],
    ['short', 2, () => Promise.resolve(Buffer.alloc(10)), /no longer stored/],
    ['failing to read', 1, () => Promise.reject(new Error('connection terminated')), /connection terminated/],
  ])('fails the mail when the file is %s', async (_name, failAt, fail, message) => {
    const file = slices(failAt, fail);
    await expect(sendThrough(file)).rejects.toThrow(message);
    expect(file.reads).toBe(failAt + 1);
  });
});
