import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { Transporter } from 'nodemailer';
import { createSmtpTransport, fileContent, SMTP_WRITE_BYTES } from './compose';

// The socket writes a message takes on its way to the SMTP server (createSmtpTransport's
// WriteGathering), against an SMTP server in this process.

let server: SMTPServer;
let transport: Transporter;
const received: string[] = [];

beforeAll(async () => {
  server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, done) {
      const parts: Buffer[] = [];
      stream.on('data', (b: Buffer) => parts.push(b));
      stream.on('end', () => {
        received.push(Buffer.concat(parts).toString('latin1'));
        done();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as net.AddressInfo).port;
  transport = createSmtpTransport(`smtp://127.0.0.1:${port}`, { maxConnections: 1 });
});
afterAll(async () => {
  transport?.close();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
});

/** What the client wrote to its sockets after `DATA` while `send` ran (the server's replies left out). */
async function messageWrites(send: () => Promise<unknown>): Promise<string[]> {
  const writes: string[] = [];
  const original = net.Socket.prototype.write;
  const spy = vi.spyOn(net.Socket.prototype, 'write').mockImplementation(function (this: net.Socket, ...args: unknown[]) {
    const data = args[0];
    writes.push(typeof data === 'string' ? data : Buffer.from(data as Uint8Array).toString('latin1'));
    return (original as (...a: unknown[]) => boolean).apply(this, args);
  });
  try {
    await send();
  } finally {
    spy.mockRestore();
  }
  const from = writes.findIndex((w) => w === 'DATA\r\n');
  expect(from).toBeGreaterThanOrEqual(0);
  return writes.slice(from + 1).filter((w) => !/^\d{3}[ -]/.test(w));
}

const mail = (extra: object = {}) => ({
  from: { name: 'Alice via Blend', address: 'blend@corp.test' },
  to: 'bob@corp.test',
  subject: 'Re: Budget',
  messageId: '<m1@corp.test>',
  text: 'Hello there.\n.A line that starts with a dot.\n'.repeat(20),
  html: `<p>${'Hello there, a mirrored comment. '.repeat(40)}</p>`,
  headers: { 'List-Unsubscribe': '<https://blend.test/u>' },
  ...extra,
});

describe('createSmtpTransport', () => {
  it('writes a small message in one write and the final dot, the same bytes arriving', async () => {
    const writes = await messageWrites(() => transport.sendMail(mail()));
    // Each header block, boundary and part went as a write of its own before (ten here).
    expect(writes.length).toBeLessThanOrEqual(2);
    const parsed = await simpleParser(received.at(-1)!);
    expect(parsed.text).toBe('Hello there.\n.A line that starts with a dot.\n'.repeat(20));
    expect(parsed.subject).toBe('Re: Budget');
  });

  it('still streams a large file (as Blend gives it, in slices), a gathering at a time, intact', async () => {
    const content = randomBytes(300 * 1024);
    const writes = await messageWrites(() => transport.sendMail(mail({ attachments: [{ filename: 'a.bin', content: fileContent(content), contentType: 'application/octet-stream' }] })));
    expect(writes.length).toBeGreaterThan(1);
    for (const w of writes) expect(w.length).toBeLessThan(3 * SMTP_WRITE_BYTES);
    const parsed = await simpleParser(received.at(-1)!);
    expect(parsed.attachments[0]!.content.equals(content)).toBe(true);
  });
});
