import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Transporter } from 'nodemailer';
import { createSmtpTransport, fileContent, parseMail, SMTP_WRITE_BYTES } from '@blend/mail';
import { createMailDomain, fetchRawMessages, SMTP_HOST, SMTP_PORT, waitForMailboxCount, type MailDomain } from './support/mail-server';

// The socket writes a message takes on its way to the SMTP server (createSmtpTransport's
// WriteGathering), counted on the transport's own socket to the local Postfix, and the mail
// Dovecot then holds.

let mail: MailDomain;
let transport: Transporter;
type GetSocket = (options: unknown, callback: (err: Error | null, socket?: { connection: net.Socket }) => void) => void;
/** Every write the transport made to its sockets, in order. */
const written: string[] = [];

beforeAll(async () => {
  mail = await createMailDomain();
  transport = createSmtpTransport(mail.smtpUrl, { maxConnections: 1 });
  // nodemailer asks for a connected socket before each session it opens; this one is
  // connected to the same server and counts what the transport writes to it.
  (transport as unknown as { getSocket: GetSocket }).getSocket = (_options, callback) => {
    const socket = net.connect(SMTP_PORT, SMTP_HOST);
    const write = socket.write.bind(socket) as (...a: unknown[]) => boolean;
    socket.write = ((...args: unknown[]) => {
      const data = args[0];
      written.push(typeof data === 'string' ? data : Buffer.from(data as Uint8Array).toString('latin1'));
      return write(...args);
    }) as typeof socket.write;
    const failed = (err: Error) => callback(err);
    socket.once('error', failed);
    socket.once('connect', () => {
      socket.off('error', failed);
      callback(null, { connection: socket });
    });
  };
});
afterAll(() => {
  transport?.close();
});

/** What the client wrote after `DATA` while `send` ran: the message, dot-stuffed, and the final dot. */
async function messageWrites(send: () => Promise<unknown>): Promise<string[]> {
  const start = written.length;
  await send();
  const writes = written.slice(start);
  const from = writes.findIndex((w) => w === 'DATA\r\n');
  expect(from).toBeGreaterThanOrEqual(0);
  return writes.slice(from + 1);
}

/** The message the writes carried: the final dot taken off, the dots stuffed at line starts removed. */
function sentMessage(writes: string[]): Buffer {
  const data = writes.join('');
  expect(data.endsWith('\r\n.\r\n')).toBe(true);
  return Buffer.from(data.slice(0, -3).replace(/(^|\r\n)\./g, '$1'), 'latin1');
}

/**
 * The one new message in the bridge's mailbox, which must be `sent` with only the trace
 * headers the MTA and the delivery put in front of it.
 */
async function delivered(count: number, sent: Buffer): Promise<Buffer> {
  await waitForMailboxCount(mail.imapUrl, count);
  const source = (await fetchRawMessages(mail.imapUrl)).at(-1)!.source;
  const trace = source.subarray(0, source.length - sent.length);
  expect(source.subarray(trace.length).equals(sent)).toBe(true);
  const traceNames = trace
    .toString('latin1')
    .split('\r\n')
    .filter((line) => line !== '' && !/^[ \t]/.test(line))
    .map((line) => line.slice(0, line.indexOf(':')));
  expect(new Set(traceNames)).toEqual(new Set(['Return-Path', 'Delivered-To', 'Received']));
  return source;
}

const mail_ = (extra: object = {}) => ({
  from: { name: 'Alice via Blend', address: 'blend@corp.test' },
  to: `bob@${mail.domain}`,
  subject: 'Re: Budget',
  messageId: '<m1@corp.test>',
  text: 'Hello there.\n.A line that starts with a dot.\n'.repeat(20),
  html: `<p>${'Hello there, a mirrored comment. '.repeat(40)}</p>`,
  headers: { 'List-Unsubscribe': '<https://blend.test/u>' },
  ...extra,
});

describe('createSmtpTransport', () => {
  it('writes a small message in one write and the final dot, the same bytes arriving', async () => {
    const writes = await messageWrites(() => transport.sendMail(mail_()));
    // Each header block, boundary and part went as a write of its own before (ten here).
    expect(writes.length).toBeLessThanOrEqual(2);
    const parsed = await parseMail(await delivered(1, sentMessage(writes)));
    expect(parsed.mail.text).toBe('Hello there.\n.A line that starts with a dot.\n'.repeat(20));
    expect(parsed.mail.subject).toBe('Re: Budget');
  });

  it('still streams a large file (as Blend gives it, in slices), a gathering at a time, intact', async () => {
    const content = randomBytes(300 * 1024);
    const writes = await messageWrites(() => transport.sendMail(mail_({ attachments: [{ filename: 'a.bin', content: fileContent(content), contentType: 'application/octet-stream' }] })));
    expect(writes.length).toBeGreaterThan(1);
    for (const w of writes) expect(w.length).toBeLessThan(3 * SMTP_WRITE_BYTES);
    const parsed = await parseMail(await delivered(2, sentMessage(writes)));
    expect(parsed.attachments[0]!.content.equals(content)).toBe(true);
  });
});
