import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { addressingFrom, ConfigError, loadConfig, maskConfig, smtpAuthOf } from './config';
import { oauthSettings } from './oauth-settings';
import { parseAfterAction, sameFolder } from './imap-after';
import { MINIMAL_ENV } from './minimal-env.fixture';

const good = { ...MINIMAL_ENV, BLEND_MAIL_DOMAIN: 'Example.TEST' };

describe('loadConfig', () => {
  it('accepts a complete environment and applies defaults', () => {
    const c = loadConfig(good);
    expect(c.PORT).toBe(3000);
    expect(c.BLEND_MAIL_DOMAIN).toBe('example.test');
    expect(c.BLEND_MIGRATE_ON_START).toBe(true);
    expect(c.BLEND_IMAP_AFTER).toBe('flag');
    expect(c.BLEND_MAILBOX_REFRESH_MS).toBe(5000);
  });

  it.each([
    ['DATABASE_URL', undefined, /DATABASE_URL: is required/],
    ['DATABASE_URL', 'mysql://x/y', /DATABASE_URL: must be a URL starting with postgres:/],
    ['REDIS_URL', 'not a url', /REDIS_URL: must be a URL/],
    ['BLEND_IMAP_URL', 'http://x', /BLEND_IMAP_URL: must be a URL starting with imap:\/\/ or imaps:\/\//],
    ['BLEND_SMTP_URL', undefined, /BLEND_SMTP_URL: is required/],
    ['BLEND_MAIL_DOMAIN', 'not a domain', /BLEND_MAIL_DOMAIN: must be a domain name/],
    ['BLEND_SECRET', 'short', /BLEND_SECRET: must be at least 32 characters/],
    ['PORT', 'abc', /PORT:/],
    ['PORT', '70000', /PORT:/],
    ['BLEND_MIGRATE_ON_START', 'maybe', /BLEND_MIGRATE_ON_START: must be true or false/],
    ['BLEND_IMAP_AFTER', 'archive', /BLEND_IMAP_AFTER: must be flag, move:FOLDER or delete/],
    ['BLEND_IMAP_AFTER', 'move:', /BLEND_IMAP_AFTER: move needs a folder/],
    ['BLEND_IMAP_AFTER', 'move:Done*', /BLEND_IMAP_AFTER: folder "Done\*" must not contain/],
    ['BLEND_IMAP_AFTER', 'move:inbox', /BLEND_IMAP_AFTER: cannot move processed mail into inbox: that is the folder being watched/],
    ['BLEND_MAILBOX_REFRESH_MS', '10', /BLEND_MAILBOX_REFRESH_MS:/],
    ['BLEND_PARSE_THREADS', '0', /BLEND_PARSE_THREADS:/],
  ])('%s=%s is refused with a message naming it', (name, value, message) => {
    const env: Record<string, string | undefined> = { ...good, [name]: value };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('reads BLEND_PARSE_THREADS, unset by default (one thread per core)', () => {
    expect(loadConfig(good).BLEND_PARSE_THREADS).toBeUndefined();
    expect(loadConfig({ ...good, BLEND_PARSE_THREADS: '1' }).BLEND_PARSE_THREADS).toBe(1);
  });

  it('names every bad variable at once', () => {
    try {
      loadConfig({});
      expect.unreachable();
    } catch (err) {
      const vars = (err as ConfigError).issues.map((i) => i.variable).sort();
      expect(vars).toEqual(['BLEND_IMAP_URL', 'BLEND_MAIL_DOMAIN', 'BLEND_SECRET', 'BLEND_SMTP_URL', 'DATABASE_URL', 'REDIS_URL']);
    }
  });

  it.each([
    ['flag', { kind: 'flag' }],
    ['delete', { kind: 'delete' }],
    ['move:Processed', { kind: 'move', folder: 'Processed' }],
    ['move:Blend/Done 2026', { kind: 'move', folder: 'Blend/Done 2026' }],
  ])('BLEND_IMAP_AFTER=%s is read as %o', (value, action) => {
    expect(parseAfterAction(loadConfig({ ...good, BLEND_IMAP_AFTER: value }).BLEND_IMAP_AFTER)).toEqual(action);
  });

  it('lets a mailbox that watches another folder move mail into INBOX', () => {
    expect(() => loadConfig({ ...good, BLEND_IMAP_URL: 'imap://u:p@127.0.0.1/Bridge', BLEND_IMAP_AFTER: 'move:INBOX' })).not.toThrow();
    expect(sameFolder('Inbox', 'INBOX')).toBe(true);
    expect(sameFolder('Done', 'done')).toBe(false);
  });

  it('masks secrets', () => {
    const masked = JSON.stringify(maskConfig(loadConfig({ ...good, DATABASE_URL: 'postgres://u:pw123@h/db' })));
    expect(masked).not.toContain('secret@');
    expect(masked).not.toContain('pw123');
    expect(masked).not.toContain('x'.repeat(32));
  });
});

describe('BLEND_ADDRESSING', () => {
  const { BLEND_MAIL_DOMAIN: _domain, ...noDomain } = good;
  const plus = { ...noDomain, BLEND_ADDRESSING: 'plus', BLEND_MAIL_ADDRESS: 'Bridge@Example.TEST' };

  it('is domain by default: the catch-all domain of BLEND_MAIL_DOMAIN', () => {
    const c = loadConfig(good);
    expect(c.BLEND_ADDRESSING).toBe('domain');
    expect(addressingFrom(c)).toEqual({ mode: 'domain', domain: 'example.test' });
  });

  it('is one mailbox in plus mode, without BLEND_MAIL_DOMAIN', () => {
    const c = loadConfig(plus);
    expect(c.BLEND_MAIL_ADDRESS).toBe('bridge@example.test');
    expect(addressingFrom(c)).toEqual({ mode: 'plus', mailbox: 'bridge', domain: 'example.test' });
    expect(addressingFrom(loadConfig({ ...plus, BLEND_MAIL_DOMAIN: 'example.test' }))).toEqual({ mode: 'plus', mailbox: 'bridge', domain: 'example.test' });
  });

  it.each<[string, Record<string, string | undefined>, RegExp]>([
    ['domain mode without BLEND_MAIL_DOMAIN', noDomain, /BLEND_MAIL_DOMAIN: is required when BLEND_ADDRESSING=domain/],
    ['domain mode with only BLEND_MAIL_ADDRESS', { ...noDomain, BLEND_MAIL_ADDRESS: 'bridge@example.test' }, /BLEND_MAIL_DOMAIN: is required when BLEND_ADDRESSING=domain .*BLEND_ADDRESSING=plus/],
    ['plus mode without BLEND_MAIL_ADDRESS', { ...good, BLEND_ADDRESSING: 'plus' }, /BLEND_MAIL_ADDRESS: is required when BLEND_ADDRESSING=plus/],
    ['plus mode with another BLEND_MAIL_DOMAIN', { ...plus, BLEND_MAIL_DOMAIN: 'blend.example.test' }, /BLEND_MAIL_DOMAIN: is not used when BLEND_ADDRESSING=plus/],
    ['an unknown mode', { ...good, BLEND_ADDRESSING: 'alias' }, /BLEND_ADDRESSING: must be domain or plus/],
    ['an address without a domain', { ...plus, BLEND_MAIL_ADDRESS: 'bridge' }, /BLEND_MAIL_ADDRESS: must be a mail address such as bridge@example.com/],
    ['an address at no domain name', { ...plus, BLEND_MAIL_ADDRESS: 'bridge@localhost' }, /BLEND_MAIL_ADDRESS: must be a mail address/],
    ['a sub-address', { ...plus, BLEND_MAIL_ADDRESS: 'bridge+blend@example.test' }, /BLEND_MAIL_ADDRESS: .*must not contain "\+"/],
    ['a quoted local part', { ...plus, BLEND_MAIL_ADDRESS: '"bridge"@example.test' }, /BLEND_MAIL_ADDRESS: .*letters, digits/],
    [
      'a local part too long for +bounce- and 32 hex digits',
      { ...plus, BLEND_MAIL_ADDRESS: `${'b'.repeat(25)}@example.test` },
      /BLEND_MAIL_ADDRESS: the local part "b{25}" has 25 characters; at most 24 leave room for "\+bounce-" and a 32-character id within the 64-octet local part of RFC 5321/,
    ],
    ['a default group that is a reply sub-address', { ...good, BLEND_DEFAULT_GROUP: 'reply-all' }, /BLEND_DEFAULT_GROUP: must not start with "reply-" or "bounce-"/],
    ['a default group named status', { ...good, BLEND_DEFAULT_GROUP: 'status' }, /BLEND_DEFAULT_GROUP: "status" is one of Blend's own addresses/],
    ['a trusted Received-by wildcard over a whole TLD', { ...good, BLEND_TRUSTED_RECEIVED_BY: 'mx.example.com, *.com' }, /BLEND_TRUSTED_RECEIVED_BY: "\*\.com" is too wide/],
    ['a trusted Received-by entry that is no host name', { ...good, BLEND_TRUSTED_RECEIVED_BY: 'mx example.com' }, /BLEND_TRUSTED_RECEIVED_BY: "mx example.com" is not a host name/],
  ])('refuses %s, naming the variable', (_what, env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('reads BLEND_TRUSTED_RECEIVED_BY as lower-cased host patterns', () => {
    expect(loadConfig({ ...good, BLEND_TRUSTED_RECEIVED_BY: ' MX.Example.com., *.prod.outlook.com ,' }).BLEND_TRUSTED_RECEIVED_BY).toEqual(['mx.example.com', '*.prod.outlook.com']);
    expect(loadConfig(good).BLEND_TRUSTED_RECEIVED_BY).toEqual([]);
  });

  it('accepts a local part of 24 characters', () => {
    expect(addressingFrom(loadConfig({ ...plus, BLEND_MAIL_ADDRESS: `${'b'.repeat(24)}@example.test` }))).toMatchObject({ mailbox: 'b'.repeat(24) });
  });

  it('names the missing address with the other missing variables at once', () => {
    for (const [env, variable] of [[{ BLEND_ADDRESSING: 'plus' }, 'BLEND_MAIL_ADDRESS'], [{}, 'BLEND_MAIL_DOMAIN']] as const) {
      try {
        loadConfig(env);
        expect.unreachable();
      } catch (err) {
        expect((err as ConfigError).issues.map((i) => i.variable)).toEqual(expect.arrayContaining(['DATABASE_URL', variable]));
      }
    }
  });

  it('is checked when a tool loads only some settings', () => {
    expect(() => addressingFrom({ BLEND_ADDRESSING: 'plus', BLEND_MAIL_ADDRESS: undefined, BLEND_MAIL_DOMAIN: 'example.test' })).toThrow(/BLEND_MAIL_ADDRESS: is required/);
  });
});

describe('OAuth 2.0 logins', () => {
  const oauthImap = { ...good, BLEND_IMAP_URL: 'imaps://bridge%40example.test@outlook.office365.com:993/INBOX', BLEND_IMAP_AUTH: 'oauth2' };
  const client = { BLEND_OAUTH_TOKEN_URL: 'https://login.example.test/tenant/oauth2/v2.0/token', BLEND_OAUTH_CLIENT_ID: 'app-1', BLEND_OAUTH_CLIENT_SECRET: 'cs-very-secret', BLEND_OAUTH_SCOPE: 'https://outlook.office365.com/.default' };

  it('defaults to passwords, and SMTP to the URL (a user: password, else no login)', () => {
    const c = loadConfig(good);
    expect(c.BLEND_IMAP_AUTH).toBe('password');
    expect(smtpAuthOf(c)).toBe('none');
    expect(smtpAuthOf(loadConfig({ ...good, BLEND_SMTP_URL: 'smtp://u:p@127.0.0.1:587' }))).toBe('password');
    expect(smtpAuthOf(loadConfig({ ...good, BLEND_SMTP_URL: 'smtp://u:p@127.0.0.1:587', BLEND_SMTP_AUTH: 'none' }))).toBe('none');
  });

  it.each([
    ['client credentials with a secret', client],
    ['a refresh token', { BLEND_OAUTH_TOKEN_URL: client.BLEND_OAUTH_TOKEN_URL, BLEND_OAUTH_CLIENT_ID: 'app-1', BLEND_OAUTH_REFRESH_TOKEN: 'rt' }],
    ['a certificate', { BLEND_OAUTH_TOKEN_URL: client.BLEND_OAUTH_TOKEN_URL, BLEND_OAUTH_CLIENT_ID: 'app-1', BLEND_OAUTH_SCOPE: 'x', BLEND_OAUTH_CLIENT_CERTIFICATE_FILE: '/etc/blend/cert.pem' }],
    ['a service-account key alone', { BLEND_OAUTH_SERVICE_ACCOUNT_FILE: '/etc/blend/sa.json' }],
  ])('accepts an OAuth mailbox with %s', (_what, settings) => {
    expect(loadConfig({ ...oauthImap, ...settings }).BLEND_IMAP_AUTH).toBe('oauth2');
  });

  it.each([
    ['no token URL', { ...oauthImap, BLEND_OAUTH_CLIENT_ID: 'a', BLEND_OAUTH_CLIENT_SECRET: 's', BLEND_OAUTH_SCOPE: 'x' }, /BLEND_OAUTH_TOKEN_URL: is required/],
    ['no client id', { ...oauthImap, BLEND_OAUTH_TOKEN_URL: client.BLEND_OAUTH_TOKEN_URL, BLEND_OAUTH_CLIENT_SECRET: 's' }, /BLEND_OAUTH_CLIENT_ID: is required/],
    ['no credential', { ...oauthImap, BLEND_OAUTH_TOKEN_URL: client.BLEND_OAUTH_TOKEN_URL, BLEND_OAUTH_CLIENT_ID: 'a' }, /BLEND_OAUTH_CLIENT_SECRET: is required for the client-credentials flow/],
    ['a password in the OAuth URL', { ...oauthImap, ...client, BLEND_IMAP_URL: 'imap://u:p@127.0.0.1/INBOX' }, /BLEND_IMAP_URL: must not carry a password when BLEND_IMAP_AUTH=oauth2/],
    ['no user in the OAuth URL', { ...oauthImap, ...client, BLEND_IMAP_URL: 'imap://127.0.0.1/INBOX' }, /BLEND_IMAP_URL: must name the mailbox user/],
    ['client credentials without a scope', { ...oauthImap, ...client, BLEND_OAUTH_SCOPE: undefined }, /BLEND_OAUTH_SCOPE: is required for the client-credentials flow/],
    ['a token endpoint over plain http', { ...oauthImap, ...client, BLEND_OAUTH_TOKEN_URL: 'http://login.example.test/token' }, /BLEND_OAUTH_TOKEN_URL: must be an https:\/\/ URL/],
    ['SMTP OAuth without a user', { ...good, ...client, BLEND_SMTP_AUTH: 'oauth2' }, /BLEND_SMTP_URL: must name the sending user/],
    ['SMTP password without one', { ...good, BLEND_SMTP_AUTH: 'password' }, /BLEND_SMTP_URL: must carry a user and password/],
    ['an unknown mode', { ...good, BLEND_IMAP_AUTH: 'kerberos' }, /BLEND_IMAP_AUTH: must be password or oauth2/],
  ])('refuses %s, naming the variable', (_what, env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('never shows the client secret or refresh token', () => {
    const c = loadConfig({ ...oauthImap, ...client, BLEND_OAUTH_REFRESH_TOKEN: 'rt-very-secret' });
    const masked = JSON.stringify(maskConfig(c));
    expect(masked).not.toContain('cs-very-secret');
    expect(masked).not.toContain('rt-very-secret');
    expect(masked).toContain('app-1');
  });

  it('reads the credential files, and names the variable of one it cannot read', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'blend-oauth-'));
    const pem = path.join(dir, 'cert.pem');
    writeFileSync(pem, '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n');
    expect(oauthSettings({ BLEND_OAUTH_CLIENT_CERTIFICATE_FILE: pem, BLEND_OAUTH_CLIENT_ID: 'a' })).toEqual({ clientId: 'a', clientCertificatePem: expect.stringContaining('BEGIN PRIVATE KEY') });
    expect(() => oauthSettings({ BLEND_OAUTH_SERVICE_ACCOUNT_FILE: path.join(dir, 'missing.json') })).toThrow(/BLEND_OAUTH_SERVICE_ACCOUNT_FILE: cannot read .*missing\.json \(ENOENT\)/);
  });
});

describe('BLEND_WORKER_QUEUES and BLEND_WORKER_NICE', () => {
  it('a worker takes every queue at nice 0 by default', () => {
    const c = loadConfig(good);
    expect(c.BLEND_WORKER_QUEUES).toEqual(['ingest', 'ingest-backlog', 'send', 'webhook', 'digest', 'notify']);
    expect(c.BLEND_WORKER_NICE).toBe(0);
  });

  it('takes a comma-separated list of queues, each once', () => {
    expect(loadConfig({ ...good, BLEND_WORKER_QUEUES: 'ingest' }).BLEND_WORKER_QUEUES).toEqual(['ingest']);
    expect(loadConfig({ ...good, BLEND_WORKER_QUEUES: ' ingest-backlog, send,send ,notify' }).BLEND_WORKER_QUEUES).toEqual(['ingest-backlog', 'send', 'notify']);
  });

  it('refuses an unknown queue and a nice value out of 0–19', () => {
    expect(() => loadConfig({ ...good, BLEND_WORKER_QUEUES: 'ingest,backlog' })).toThrow(/BLEND_WORKER_QUEUES/);
    expect(() => loadConfig({ ...good, BLEND_WORKER_NICE: '20' })).toThrow(/BLEND_WORKER_NICE/);
    expect(loadConfig({ ...good, BLEND_WORKER_NICE: '10' }).BLEND_WORKER_NICE).toBe(10);
  });
});
