import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { SMTPServer, type SMTPServerAuthentication, type SMTPServerSession } from 'smtp-server';
import type { Transporter } from 'nodemailer';
import { PermanentError } from '@blend/core';
import { addOutbound, schema } from '@blend/db';
import { createSmtpTransport } from '@blend/mail';
import { createLogger } from '@blend/runtime';
import { send } from '@blend/worker';
import { createTestDatabase, type TestDatabase } from './support/database';

// What an outbox row becomes when the submission server refuses Blend itself rather than the
// mail: its login (an expired password or OAuth token, SMTP AUTH switched off), its sending
// rights or its quota. The row stays pending and the send is retried with backoff; only an
// answer about the recipient or the mail fails it. Real nodemailer errors from an SMTP server
// that answers with the replies Exchange Online and Gmail document.
let t: TestDatabase;
let server: SMTPServer;
let transport: Transporter | null = null;
/** The reply the server gives next, at the stage it is set for. */
let script: { stage: 'auth' | 'mail' | 'rcpt'; code: number; text: string } | null = null;

const refuse = (stage: 'auth' | 'mail' | 'rcpt', cb: (err?: Error | null) => void): boolean => {
  if (script?.stage !== stage) return false;
  cb(Object.assign(new Error(script.text), { responseCode: script.code }));
  return true;
};

beforeAll(async () => {
  t = await createTestDatabase();
  server = new SMTPServer({
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(_auth: SMTPServerAuthentication, _session: SMTPServerSession, cb) {
      if (!refuse('auth', cb)) cb(null, { user: 'bridge@corp.test' });
    },
    onMailFrom(_address, _session, cb) {
      if (!refuse('mail', cb)) cb();
    },
    onRcptTo(_address, _session, cb) {
      if (!refuse('rcpt', cb)) cb();
    },
    onData(stream, _session, cb) {
      stream.resume();
      stream.on('end', () => cb());
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
});

afterEach(() => {
  // A fresh pool per case: a pooled session keeps its login, so the next AUTH answer would not be asked for.
  transport?.close();
  transport = null;
  script = null;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await t?.drop();
});

async function attempt(reply: NonNullable<typeof script>) {
  script = reply;
  const port = (server.server.address() as { port: number }).port;
  transport = createSmtpTransport(`smtp://bridge%40corp.test:secret@127.0.0.1:${port}`);
  const id = randomUUID();
  await addOutbound(t.db, { id, kind: 'test', toAddress: 'dora@elsewhere.test', messageId: `blend.${id}@example.test`, subject: 'Hello', textBody: 'Hello\n' });
  const deps = { db: t.db, log: createLogger('test', 'silent'), transport, addressing: { mode: 'domain' as const, domain: 'example.test' }, secret: 's'.repeat(32) };
  const error = await send({ outboundId: id }, deps).then(
    () => null,
    (err: unknown) => err as Error,
  );
  const [row] = await t.db.select().from(schema.outboundMessages).where(eq(schema.outboundMessages.id, id));
  return { error, row: row! };
}

describe('SMTP failures of Blend’s own account', () => {
  it.each([
    ['Exchange Online: 535 5.7.3 to AUTH', { stage: 'auth', code: 535, text: '5.7.3 Authentication unsuccessful [AM0PR02CA0001.eurprd02.prod.outlook.com]' }],
    ['Exchange Online: SMTP AUTH disabled for the tenant', { stage: 'auth', code: 535, text: '5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.' }],
    ['Gmail: 535 5.7.8 bad credentials', { stage: 'auth', code: 535, text: '5.7.8 Username and Password not accepted. For more information, go to https://support.google.com/mail/?p=BadCredentials - gsmtp' }],
    ['Gmail: 454 4.7.0 too many logins', { stage: 'auth', code: 454, text: '4.7.0 Too many login attempts, please try again later.' }],
    ['Exchange Online: 530 5.7.57 at MAIL FROM', { stage: 'mail', code: 530, text: '5.7.57 Client not authenticated to send mail.' }],
    ['Exchange Online: 432 4.3.2 sender thread limit', { stage: 'mail', code: 432, text: '4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded' }],
    ['Gmail: 421 4.7.28 unusual rate', { stage: 'mail', code: 421, text: '4.7.28 Gmail has detected an unusual rate of mail originating from your SPF domain.' }],
    ['Gmail: 550 5.4.5 daily sending limit', { stage: 'mail', code: 550, text: '5.4.5 Daily user sending limit exceeded.' }],
  ] as const)('%s: the row stays pending and the send is retried', async (_what, reply) => {
    const { error, row } = await attempt(reply);
    expect(error).not.toBeNull();
    expect(error).not.toBeInstanceOf(PermanentError); // the worker retries it with backoff
    expect(row).toMatchObject({ state: 'pending', attempts: 1 });
    expect(row.lastError).toContain(`${reply.code} ${reply.text.slice(0, 20)}`);
  });

  it('a refused recipient still fails the row at once', async () => {
    const { error, row } = await attempt({ stage: 'rcpt', code: 550, text: '5.1.1 <dora@elsewhere.test>: Recipient address rejected: User unknown' });
    expect(error).toBeInstanceOf(PermanentError);
    expect(row).toMatchObject({ state: 'failed', attempts: 1 });
  });
});
