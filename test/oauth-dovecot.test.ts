import { readFile } from 'node:fs/promises';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenSource, oauth2GrantFrom } from '@blend/mail';
import { createMailDomain, sendRaw, waitForMailboxCount, type MailDomain } from './support/mail-server';
import { startOAuthDovecot, type OAuthDovecot } from './support/oauth-dovecot';
import { startOAuthServer, type OAuthServer } from './support/oauth-server';

let auth: OAuthServer;
let imap: OAuthDovecot;
/** Offers XOAUTH2 only, as Microsoft documents for Exchange Online. */
let imapXoauth2: OAuthDovecot;
let mail: MailDomain;
let other: MailDomain;

beforeAll(async () => {
  auth = await startOAuthServer({ tokenLifetimeSeconds: 60 });
  [imap, imapXoauth2, mail, other] = await Promise.all([
    startOAuthDovecot({ introspectionUrl: auth.introspectionUrl }),
    startOAuthDovecot({ introspectionUrl: auth.introspectionUrl, mechanisms: ['xoauth2'] }),
    createMailDomain(),
    createMailDomain(),
  ]);
  const subject = 'Quarterly numbers';
  await sendRaw(`From: Alice <alice@${mail.domain}>\r\nTo: status@${mail.domain}\r\nSubject: ${subject}\r\nMessage-ID: <oauth-1@blend.test>\r\n\r\nhello\r\n`, {
    from: `alice@${mail.domain}`,
    to: `status@${mail.domain}`,
  });
  await waitForMailboxCount(mail.imapUrl, 1);
});

afterAll(async () => {
  await Promise.all([imap?.stop(), imapXoauth2?.stop()]);
  await auth?.close();
});

/** Logs in to `server` as `user` with `accessToken`, and returns the INBOX subjects. */
async function subjectsAs(server: OAuthDovecot, user: string, accessToken: string): Promise<string[]> {
  const client = new ImapFlow({ host: '127.0.0.1', port: server.port, secure: false, doSTARTTLS: false, auth: { user, accessToken }, logger: false });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const lock = await client.getMailboxLock('INBOX', { readOnly: true });
    try {
      const subjects: string[] = [];
      for await (const msg of client.fetch('1:*', { envelope: true })) subjects.push(msg.envelope?.subject ?? '');
      return subjects;
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
}

async function refusal(server: OAuthDovecot, user: string, accessToken: string): Promise<unknown> {
  return subjectsAs(server, user, accessToken).then(
    () => null,
    (err: unknown) => err,
  );
}

/** Dovecot's log process writes asynchronously: wait for the line rather than read once. */
async function waitForLog(server: OAuthDovecot, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!pattern.test(await readFile(server.logFile, 'utf8'))) {
    if (Date.now() > deadline) throw new Error(`${server.logFile} has no line matching ${pattern}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('OAuth Dovecot (test/support/oauth-dovecot.ts)', () => {
  it('reads the mail Postfix delivered, logging in with OAUTHBEARER and a client-credentials token', async () => {
    auth.addClient({ clientId: 'm365-app', clientSecret: 'app-secret', mailbox: mail.user });
    const grant = oauth2GrantFrom({ tokenUrl: auth.tokenUrl, clientId: 'm365-app', clientSecret: 'app-secret', scope: 'https://outlook.office365.com/.default' }, mail.user);
    const token = await createTokenSource(grant).getToken();
    expect(await subjectsAs(imap, mail.user, token)).toEqual(['Quarterly numbers']);
    expect(imap.imapUrl(mail.user)).toBe(`imap://${encodeURIComponent(mail.user)}@127.0.0.1:${imap.port}/INBOX`);
    await waitForLog(imap, new RegExp(`Login: user=<${escape(mail.user)}>, method=OAUTHBEARER`));
  });

  it('takes XOAUTH2 when that is all the server offers', async () => {
    expect(await subjectsAs(imapXoauth2, mail.user, auth.issueAccessToken(mail.user))).toEqual(['Quarterly numbers']);
    await waitForLog(imapXoauth2, new RegExp(`Login: user=<${escape(mail.user)}>, method=XOAUTH2`));
  });

  it.each([
    ['OAUTHBEARER', () => imap],
    ['XOAUTH2', () => imapXoauth2],
  ])('%s: refuses an expired token, a made-up one and one for another user', async (_mech, server) => {
    const shortLived = auth.issueAccessToken(mail.user, 1);
    expect(await subjectsAs(server(), mail.user, shortLived)).toHaveLength(1);
    // Wait until the authorisation server calls it expired (RFC 7662 "active": false).
    while (auth.introspect(shortLived).active) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await refusal(server(), mail.user, shortLived)).toMatchObject({ authenticationFailed: true });

    expect(await refusal(server(), mail.user, 'at-made-up-token')).toMatchObject({ authenticationFailed: true });

    const othersToken = auth.issueAccessToken(other.user);
    expect(await refusal(server(), mail.user, othersToken)).toMatchObject({ authenticationFailed: true });
    expect(await subjectsAs(server(), other.user, othersToken)).toEqual([]);
  });
});
