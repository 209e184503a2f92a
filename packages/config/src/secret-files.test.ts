import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, loadConfigSubset } from './config';
import { FILE_SETTINGS, resolveFileSettings, type ReadText } from './secret-files';
import { MINIMAL_ENV } from './minimal-env.fixture';

/** A file system of a few files; anything else is ENOENT, as readFileSync says. */
const files = (table: Record<string, string>): ReadText => (file) => {
  if (file in table) return table[file]!;
  throw Object.assign(new Error(`ENOENT: no such file or directory, open '${file}'`), { code: 'ENOENT' });
};

describe('resolveFileSettings', () => {
  const fs = files({
    '/run/secrets/key': 'k'.repeat(40) + '\n',
    '/run/secrets/crlf': 'secret-with-crlf\r\n',
    '/run/secrets/two-lines': 'line one\nline two\n\n',
    '/run/secrets/plain': 'no newline',
    '/run/secrets/empty': '\n',
  });

  it.each([
    ['a file, its trailing newline dropped', { BLEND_SECRET_FILE: '/run/secrets/key' }, { BLEND_SECRET: 'k'.repeat(40) }, []],
    ['CRLF dropped too', { BLEND_METRICS_TOKEN_FILE: '/run/secrets/crlf' }, { BLEND_METRICS_TOKEN: 'secret-with-crlf' }, []],
    ['inner line breaks kept (a PEM key)', { BLEND_DKIM_PRIVATE_KEY_FILE: '/run/secrets/two-lines' }, { BLEND_DKIM_PRIVATE_KEY: 'line one\nline two' }, []],
    ['a file without a newline', { DATABASE_URL_FILE: '/run/secrets/plain' }, { DATABASE_URL: 'no newline' }, []],
    ['the plain variable alone is left as it is', { REDIS_URL: 'redis://x' }, { REDIS_URL: 'redis://x' }, []],
    ['an empty NAME_FILE is unset', { BLEND_SECRET_FILE: '', BLEND_SECRET: 'v' }, { BLEND_SECRET: 'v' }, []],
    ['an empty NAME with NAME_FILE is no conflict', { BLEND_SECRET: '', BLEND_SECRET_FILE: '/run/secrets/plain' }, { BLEND_SECRET: 'no newline' }, []],
    [
      'both set is an error',
      { BLEND_SECRET: 'v', BLEND_SECRET_FILE: '/run/secrets/key' },
      { BLEND_SECRET: 'v' },
      [{ variable: 'BLEND_SECRET_FILE', message: 'cannot be set together with BLEND_SECRET: give the value or the file, not both' }],
    ],
    [
      'a missing file is an error naming the variable and the path',
      { BLEND_OAUTH_CLIENT_SECRET_FILE: '/run/secrets/nope' },
      {},
      [{ variable: 'BLEND_OAUTH_CLIENT_SECRET_FILE', message: 'cannot read /run/secrets/nope (ENOENT)' }],
    ],
    ['an empty file is an error', { BLEND_SMTP_URL_FILE: '/run/secrets/empty' }, {}, [{ variable: 'BLEND_SMTP_URL_FILE', message: '/run/secrets/empty is empty' }]],
    // Settings that are themselves file names are not secrets read this way.
    ['a _FILE setting of its own is not touched', { BLEND_OAUTH_SERVICE_ACCOUNT_FILE: '/run/secrets/key' }, { BLEND_OAUTH_SERVICE_ACCOUNT_FILE: '/run/secrets/key' }, []],
  ])('%s', (_what, env, expected, issues) => {
    const r = resolveFileSettings(env, FILE_SETTINGS, fs);
    expect(r.env).toEqual(expected);
    expect(r.issues).toEqual(issues);
  });

  it('covers every secret setting', () => {
    expect([...FILE_SETTINGS].sort()).toEqual(
      [
        'BLEND_DKIM_PRIVATE_KEY',
        'BLEND_IMAP_URL',
        'BLEND_INBOUND_SECRET',
        'BLEND_MATTERMOST_TOKEN',
        'BLEND_METRICS_TOKEN',
        'BLEND_OAUTH_CLIENT_SECRET',
        'BLEND_OAUTH_REFRESH_TOKEN',
        'BLEND_OIDC_CLIENT_SECRET',
        'BLEND_ROCKETCHAT_TOKEN',
        'BLEND_SECRET',
        'BLEND_SECRET_PREVIOUS',
        'BLEND_SLACK_SIGNING_SECRET',
        'BLEND_SMTP_URL',
        'DATABASE_URL',
        'REDIS_URL',
      ].sort(),
    );
  });
});

describe('loadConfig with NAME_FILE', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'blend-secrets-'));
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  // DATABASE_URL and BLEND_SECRET come from files here.
  const { DATABASE_URL: _db, BLEND_SECRET: _secret, ...base } = MINIMAL_ENV;

  it('reads secrets from mounted files, as Docker and Kubernetes mount them', () => {
    const secret = 'f'.repeat(64);
    const c = loadConfig({
      ...base,
      DATABASE_URL_FILE: write('db', 'postgres://blend:pw@db:5432/blend\n'),
      BLEND_SECRET_FILE: write('secret', `${secret}\n`),
      BLEND_METRICS_TOKEN_FILE: write('metrics', 'metrics-token-0123456789\n'),
    });
    expect(c.DATABASE_URL).toBe('postgres://blend:pw@db:5432/blend');
    expect(c.BLEND_SECRET).toBe(secret);
    expect(c.BLEND_METRICS_TOKEN).toBe('metrics-token-0123456789');
  });

  it('checks a value read from a file like any other, and names the variable once', () => {
    try {
      loadConfig({ ...base, REDIS_URL: undefined, DATABASE_URL: 'postgres://x/y', BLEND_SECRET_FILE: write('short', 'short\n'), REDIS_URL_FILE: path.join(dir, 'missing') });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const issues = (err as ConfigError).issues;
      expect(issues).toContainEqual({ variable: 'BLEND_SECRET', message: 'must be at least 32 characters (e.g. `openssl rand -hex 32`)' });
      expect(issues).toContainEqual({ variable: 'REDIS_URL_FILE', message: `cannot read ${path.join(dir, 'missing')} (ENOENT)` });
      expect(issues.map((i) => i.variable)).not.toContain('REDIS_URL');
      expect((err as Error).message).not.toContain('short\n');
    }
  });

  it('refuses a setting given twice', () => {
    expect(() => loadConfig({ ...base, DATABASE_URL: 'postgres://x/y', BLEND_SECRET: 's'.repeat(32), BLEND_SECRET_FILE: write('s2', 's'.repeat(32)) })).toThrow(
      /BLEND_SECRET_FILE: cannot be set together with BLEND_SECRET/,
    );
  });

  it('reads only the files of the settings a tool asks for', () => {
    const c = loadConfigSubset(['DATABASE_URL'], { DATABASE_URL_FILE: write('db2', 'postgres://127.0.0.1/blend\n'), BLEND_SECRET_FILE: path.join(dir, 'missing') });
    expect(c).toEqual({ DATABASE_URL: 'postgres://127.0.0.1/blend' });
  });
});
