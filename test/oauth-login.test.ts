import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { mailboxStatuses, schema } from '@blend/db';
import { parseImapUrl } from '@blend/mail';
import { waitFor } from './support/database';
import { asDelivered, createMailDomain, sendRaw, withImap } from './support/mail-server';
import { run } from './support/process';
import { buildMessage, finalRow } from './support/messages';
import { startOAuthDovecot, type OAuthDovecot } from './support/oauth-dovecot';
import { startOAuthServer, type OAuthServer } from './support/oauth-server';
import { startOAuthSmtp, type OAuthSmtp } from './support/oauth-smtp';
import { startStack, type Stack } from './support/stack';
import { startTcpProxy } from './support/tcp-proxy';

// Blend logs in as Microsoft 365 and Google Workspace need it: IMAP with SASL XOAUTH2 against a
// Dovecot whose oauth2 passdb checks every token at a real authorisation server, SMTP with
// XOAUTH2 against a submission server that checks them too; tokens live 3 s.
const LIFETIME_S = 3;
const SECRET = 'client-secret-never-logged-9f2c';
let auth: OAuthServer;
let imap: OAuthDovecot;
let smtp: OAuthSmtp;
let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
let s: Stack;
let bridge: string;
let alice: string;
let erinToken: string;

beforeAll(async () => {
  auth = await startOAuthServer({ tokenLifetimeSeconds: LIFETIME_S });
  // XOAUTH2 only, the mechanism Exchange Online offers (imapflow prefers OAUTHBEARER when offered).
  imap = await startOAuthDovecot({ introspectionUrl: auth.introspectionUrl, mechanisms: ['xoauth2'] });
  smtp = await startOAuthSmtp(auth.introspectionUrl);
  // Between the poller and Dovecot, so a test can end the IMAP session as a server does when a token expires.
  proxy = await startTcpProxy(imap.port);
  s = await startStack(
    { BLEND_POLL_INTERVAL_MS: '1000', BLEND_MAILBOX_REFRESH_MS: '1000', BLEND_NOTIFY_SWEEP_MS: '200', BLEND_NOTIFY_COALESCE_MS: '0', BLEND_DIGEST_TICK_MS: '3600000' },
    {
      env: (mail) => {
        // The app may use this one mailbox (Exchange's application access policy); its tokens are for it.
        auth.addClient({ clientId: 'blend-app', clientSecret: SECRET, mailbox: mail.user });
        return {
          BLEND_IMAP_URL: imap.imapUrl(mail.user).replace(`:${imap.port}/`, `:${proxy.port}/`),
          BLEND_IMAP_AUTH: 'oauth2',
          BLEND_SMTP_URL: smtp.url(mail.user),
          BLEND_SMTP_AUTH: 'oauth2',
          BLEND_OAUTH_TOKEN_URL: auth.tokenUrl,
          BLEND_OAUTH_CLIENT_ID: 'blend-app',
          BLEND_OAUTH_CLIENT_SECRET: SECRET,
          BLEND_OAUTH_SCOPE: 'https://outlook.office365.com/.default',
        };
      },
    },
  );
  bridge = `status@${s.mail.domain}`;
  alice = `alice@${s.people.domain}`;
  await s.person(alice, { name: 'Alice Mail' });
  erinToken = await s.person(`erin@${s.people.domain}`, { name: 'Erin Esn' });
  await s.db.db.update(schema.people).set({ quietStart: '00:00', quietEnd: '00:00' });
}, 60_000);
afterAll(async () => {
  await s?.stop();
  await proxy?.close();
  await smtp?.close();
  await imap?.stop();
  await auth?.close();
});

/** Ends the poller's IMAP session (as Exchange does once its token expires) and waits for the next one. */
async function dropSession(): Promise<void> {
  const before = s.poller().reconnects;
  proxy.cut();
  proxy.restore();
  await waitFor(async () => s.poller().reconnects > before && s.poller().state === 'connected', 'the poller to log in again', 30_000, 50);
}

async function mailPost(subject: string): Promise<string> {
  const m = buildMessage({ from: `Alice Mail <${alice}>`, to: bridge, subject, body: `Body of ${subject}.` });
  await sendRaw(m.raw, { from: alice, to: bridge });
  return m.messageId;
}

const leaseOf = async () => (await mailboxStatuses(s.db.db)).get(parseImapUrl(s.config.BLEND_IMAP_URL).key);

let threadPost: string;

describe('IMAP with OAuth 2.0 (XOAUTH2, client credentials)', () => {
  it('receives mail sent through Postfix across several token expiries, with a new token for each new session', async () => {
    expect(s.poller().state).toBe('connected');
    const issuedBefore = auth.issued.client_credentials;
    for (let round = 1; round <= 3; round++) {
      // The cached token is past its lifetime: the next session must not offer it.
      await sleep(LIFETIME_S * 1000 + 300);
      await dropSession();
      const row = await finalRow(s.db.db, await mailPost(`Across expiry ${round}`), 30_000);
      expect(row.state).toBe('posted');
      threadPost = row.postId!;
    }
    expect(auth.issued.client_credentials - issuedBefore).toBeGreaterThanOrEqual(3);
  });

  it('shows auth_failed with the OAuth reason while the token endpoint refuses, and recovers by itself', async () => {
    auth.refuse('invalid_client', 'Client authentication failed');
    try {
      await sleep(LIFETIME_S * 1000 + 300);
      proxy.cut();
      proxy.restore();
      await waitFor(async () => s.poller().state === 'auth_failed', 'the poller to report the refused token', 20_000, 50);
      expect(s.poller().lastError).toMatch(/^invalid_client: /);
      expect(s.poller().lastError).not.toContain(SECRET);
      // What `blend mailbox list`, the admin page and the lease report.
      const lease = await waitFor(async () => {
        const l = await leaseOf();
        return l?.state === 'auth_failed' ? l : undefined;
      }, 'the lease to carry the state', 10_000);
      expect(lease.lastError).toMatch(/invalid_client/);
    } finally {
      auth.refuse(null);
    }
    // Mail that arrives meanwhile waits in the mailbox, then is read once a token is had again.
    const id = await mailPost('While the endpoint refused');
    await waitFor(async () => s.poller().state === 'connected', 'the poller to recover', 60_000, 100);
    expect((await finalRow(s.db.db, id, 30_000)).state).toBe('posted');
    await waitFor(async () => (await leaseOf())?.state === 'connected', 'the lease to carry the recovered state', 10_000);
  });
});

describe('SMTP with OAuth 2.0 (XOAUTH2)', () => {
  const comment = async (body: string) => {
    const res = await s.app.inject({ method: 'POST', url: `/api/v1/posts/${threadPost}/comments`, headers: { authorization: `Bearer ${erinToken}` }, payload: { body } });
    expect(res.statusCode).toBe(201);
  };
  const mirrorOf = (body: string) => smtp.accepted.find((m) => m.raw.includes(body));

  it('sends the mirrored ESN comment with a token for the bridge mailbox', async () => {
    await comment('Mirrored with a token');
    const sent = await waitFor(async () => mirrorOf('Mirrored with a token'), 'the mirrored comment at the SMTP server', 30_000);
    expect(sent.user).toBe(s.mail.user);
    expect(sent.to).toEqual([alice]);
  });

  it('keeps a mail pending while the token is refused, and sends it once the endpoint issues tokens again', async () => {
    auth.refuse('invalid_client', 'Client authentication failed');
    let rowId: string;
    try {
      await sleep(LIFETIME_S * 1000 + 300);
      await comment('Sent after the refusal');
      const row = await waitFor(async () => {
        const rows = await s.db.db.select().from(schema.outboundMessages).where(eq(schema.outboundMessages.toAddress, alice));
        return rows.find((x) => x.attempts > 0 && x.state === 'pending');
      }, 'a send attempt to fail on the refused token', 30_000);
      expect(row.lastError).toMatch(/invalid_client/);
      expect(row.lastError).not.toContain(SECRET);
      rowId = row.id;
    } finally {
      auth.refuse(null);
    }
    await waitFor(async () => mirrorOf('Sent after the refusal'), 'the retried send', 60_000);
    // The mail can reach the mailbox a moment before the worker records the send.
    const after = await waitFor(async () => {
      const [r] = await s.db.db.select().from(schema.outboundMessages).where(eq(schema.outboundMessages.id, rowId!));
      return r?.state === 'pending' ? undefined : r;
    }, 'the send to be recorded', 10_000);
    expect(after.state).toBe('sent');
  });
});

describe('a mailbox added with `blend mailbox add --oauth2`', () => {
  it('is checked with a token, stored with its OAuth settings sealed, and polled with its own token', async () => {
    const second = await createMailDomain();
    const secret2 = 'second-app-secret-77aa';
    auth.addClient({ clientId: 'blend-app-2', clientSecret: secret2, mailbox: second.user });
    const url = imap.imapUrl(second.user);
    const env = {
      DATABASE_URL: s.config.DATABASE_URL,
      BLEND_SECRET: s.config.BLEND_SECRET,
      BLEND_OAUTH_TOKEN_URL: auth.tokenUrl,
      BLEND_OAUTH_CLIENT_ID: 'blend-app-2',
      BLEND_OAUTH_CLIENT_SECRET: secret2,
      BLEND_OAUTH_SCOPE: 'https://outlook.office365.com/.default',
    };
    const add = run(['services/cli/src/cli.ts', 'mailbox', 'add', url, '--oauth2', '--json'], env, { timeoutMs: 90_000 });
    const { code } = await add.done;
    expect(code, add.err()).toBe(0);
    expect(JSON.parse(add.out())).toMatchObject({ key: parseImapUrl(url).key, auth: 'oauth2', enabled: true });
    expect(add.err()).toMatch(/logged in to .* with an OAuth 2\.0 token/);
    expect(add.out() + add.err()).not.toContain(secret2);
    const [row] = await s.db.db.select().from(schema.watchedMailboxes).where(eq(schema.watchedMailboxes.key, parseImapUrl(url).key));
    expect(row!.passwordSealed).not.toContain(secret2);

    const m = buildMessage({ from: `Alice Mail <${alice}>`, to: bridge, subject: 'Into the OAuth mailbox added by IT' });
    await withImap(second.imapUrl, (c) => c.append('INBOX', asDelivered(m.raw, alice)));
    expect(await finalRow(s.db.db, m.messageId, 30_000)).toMatchObject({ state: 'posted', mailbox: parseImapUrl(url).key });
  }, 90_000);

  it('refuses to save a mailbox whose token is refused', async () => {
    const other = await createMailDomain();
    const url = imap.imapUrl(other.user);
    const env = { DATABASE_URL: s.config.DATABASE_URL, BLEND_SECRET: s.config.BLEND_SECRET, BLEND_OAUTH_TOKEN_URL: auth.tokenUrl, BLEND_OAUTH_CLIENT_ID: 'nobody', BLEND_OAUTH_CLIENT_SECRET: 'wrong-secret-1234', BLEND_OAUTH_SCOPE: 'x' };
    const add = run(['services/cli/src/cli.ts', 'mailbox', 'add', url, '--oauth2'], env, { timeoutMs: 90_000 });
    expect((await add.done).code).toBe(1);
    expect(add.err()).toMatch(/cannot get an OAuth 2\.0 access token .*invalid_client/);
    expect(add.err()).not.toContain('wrong-secret-1234');
    expect(await s.db.db.select().from(schema.watchedMailboxes).where(eq(schema.watchedMailboxes.key, parseImapUrl(url).key))).toHaveLength(0);
  }, 90_000);
});
