import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import nodemailer from 'nodemailer';
import { composeOutbound, fileContent, FILE_SLICE_BYTES, textEncodingOf } from './compose';

describe('textEncodingOf', () => {
  it.each([
    ['Hello, the budget is done.', 'quoted-printable'],
    ['Grüße aus München, bis Freitag', 'quoted-printable'],
    ['予算の件、金曜日までにお願いします。', 'base64'],
    ['Привет, бюджет готов', 'base64'],
    ['', 'base64'],
  ])('%j -> %s', (text, encoding) => expect(textEncodingOf(text)).toBe(encoding));

  it('is what composeOutbound gives nodemailer', () => {
    const row = {
      id: '00000000-0000-4000-8000-000000000001',
      kind: 'digest',
      toAddress: 'jane@corp.test',
      subject: 'Digest',
      messageId: 'm1@blend.test',
      references: [],
      textBody: '予算の件、金曜日までにお願いします。',
      htmlBody: '<p>予算の件</p>',
      headers: {},
    } as unknown as Parameters<typeof composeOutbound>[0];
    const addressing = { domain: 'blend.test', localPart: 'status', mode: 'plus' } as unknown as Parameters<typeof composeOutbound>[1]['addressing'];
    expect(composeOutbound(row, { addressing, secret: 'x'.repeat(32) }).textEncoding).toBe('base64');
  });
});

describe('fileContent', () => {
  const row = {
    id: '00000000-0000-4000-8000-000000000002', kind: 'mirror', toAddress: 'jane@corp.test', subject: 'Figures', messageId: 'm2@blend.test',
    references: [], textBody: 'see the file', htmlBody: null, headers: {},
  } as unknown as Parameters<typeof composeOutbound>[0];
  const addressing = { domain: 'blend.test', mode: 'domain' } as unknown as Parameters<typeof composeOutbound>[1]['addressing'];

  /** The message nodemailer writes for `mail`, with its boundaries made the same. */
  async function written(mail: ReturnType<typeof composeOutbound>): Promise<string> {
    const info = await nodemailer.createTransport({ streamTransport: true, buffer: true }).sendMail({ ...mail, date: new Date(0), baseBoundary: 'fixed' } as never);
    return (info.message as Buffer).toString();
  }

  it.each([
    ['a small file stays a Buffer', 1_000, false],
    ['a file of one slice stays a Buffer', FILE_SLICE_BYTES, false],
    ['a larger file goes as a stream of slices', 3 * FILE_SLICE_BYTES + 17, true],
  ])('%s', async (_name, size, streamed) => {
    const content = Buffer.alloc(size);
    for (let i = 0; i < size; i++) content[i] = (i * 131) % 251;
    const given = fileContent(content);
    expect(given instanceof Readable).toBe(streamed);
    // The mail is byte for byte what nodemailer writes for the whole Buffer.
    const files = [{ filename: 'f.bin', contentType: 'application/octet-stream', content }];
    const viaCompose = await written(composeOutbound(row, { addressing, secret: 'x'.repeat(32) }, files));
    const whole = composeOutbound(row, { addressing, secret: 'x'.repeat(32) });
    const viaBuffer = await written({ ...whole, attachments: [{ filename: 'f.bin', contentType: 'application/octet-stream', content, contentDisposition: 'attachment' }] });
    expect(viaCompose).toBe(viaBuffer);
    expect(viaCompose).toContain(content.toString('base64').slice(0, 76));
  });
});
