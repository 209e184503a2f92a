// `blend` behaves like a command: help and version on a bare machine (no environment at all,
// no servers), a typo prints the usage and exits 2, commands that need no database never
// open a connection, and no command but `blend db migrate` changes the schema.
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dkimTxtRecord } from '@blend/config';
import { ADMIN_DATABASE_URL } from './support/database';

const root = path.resolve(import.meta.dirname, '..');

/** Run the CLI from source with exactly `env` (not even PATH or HOME). */
function blend(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/cli/src/cli.ts', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

describe('blend with no environment at all', () => {
  it.each([['--help'], ['-h'], ['help']])('%s prints the whole usage on stdout and exits 0', async (arg) => {
    const r = await blend([arg]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^usage: blend <command>/);
    for (const c of ['people add EMAIL', 'mailbox add URL', 'db migrate', 'config show', 'preview FILE.eml']) expect(r.out).toContain(c);
    expect(r.err).toBe('');
  });

  it.each([
    [['help', 'people', 'add'], /^usage:\n  blend people add EMAIL .*\n {6}create \(or update\) a person/],
    [['people', 'add', '--help'], /^usage:\n  blend people add EMAIL/],
    [['mailbox', 'set', 'imap://x', '-h'], /^usage:\n  blend mailbox set KEY/],
    [['help', 'mailbox'], /blend mailbox add URL[\s\S]*blend mailbox list[\s\S]*blend mailbox backfill/],
    [['people', '--help'], /blend people add[\s\S]*blend people import[\s\S]*blend people erase/],
    [['digest', '--help'], /^usage:\n  blend digest --now/],
  ])('blend %j prints that command\'s usage and exits 0', async (args, text) => {
    const r = await blend(args);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(text);
    expect(r.out).not.toContain('retention run'); // only the command asked about
    expect(r.err).toBe('');
  });

  it('--version prints the version', async () => {
    const r = await blend(['--version']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^blend \d+\.\d+\.\d+\n$/);
  });

  it.each([
    [['frobnicate'], /^blend: unknown command: frobnicate\n\nusage: blend <command>/],
    [['people', 'ad', 'x@y.test'], /^blend: unknown command: people ad\n\nusage:\n  blend people add/],
    [['people'], /^blend: people needs one of the commands below\n\nusage:\n  blend people add/],
    [['help', 'nope'], /^blend: unknown command: nope\n\nusage: blend <command>/],
    [[], /^blend: no command given\n\nusage: blend <command>/],
  ])('blend %j prints the usage on stderr and exits 2', async (args, text) => {
    const r = await blend(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(text);
    expect(r.out).toBe('');
  });

  it('a command that needs the database names the missing setting and exits 2', async () => {
    const r = await blend(['people', 'add', 'ann@corp.test']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/DATABASE_URL: is required/);
  });
});

describe('blend dkim record', () => {
  it('prints the TXT record of the key in BLEND_DKIM_PRIVATE_KEY_FILE, in strings of at most 255 octets, with no database', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'blend-dkim-'));
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    writeFileSync(path.join(dir, 'dkim.pem'), pem);
    const r = await blend(['dkim', 'record'], { BLEND_DKIM_SELECTOR: 'blend2026', BLEND_DKIM_PRIVATE_KEY_FILE: path.join(dir, 'dkim.pem'), BLEND_MAIL_DOMAIN: 'blend.example.com' });
    expect(r.code).toBe(0);
    const m = /^blend2026\._domainkey\.blend\.example\.com\. IN TXT ((?:"[^"]{1,255}" ?)+)\n$/.exec(r.out);
    expect(m).not.toBeNull();
    const joined = [...m![1]!.matchAll(/"([^"]*)"/g)].map((x) => x[1]).join('');
    expect(joined).toBe(dkimTxtRecord(pem));
    expect(r.out).not.toContain('PRIVATE');
  });

  it('says what is missing without a key', async () => {
    const r = await blend(['dkim', 'record'], { BLEND_MAIL_DOMAIN: 'blend.example.com' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/dkim record needs BLEND_DKIM_SELECTOR and BLEND_DKIM_PRIVATE_KEY/);
  });
});

describe('connections', () => {
  // A stand-in for Postgres that counts the connections made to it.
  let server: Server;
  let connections = 0;
  let url: string;
  beforeAll(async () => {
    server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `postgres://blend@127.0.0.1:${(server.address() as { port: number }).port}/blend`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it.each([
    [['--help']],
    [['--version']],
    [['people', 'add', '--help']],
    [['frobnicate', 'now']],
    [['peple', 'add', 'ann@corp.test']],
    [['keys', 'rotate']],
    [['preview', 'test/fixtures/mail/plain-new-thread.eml']],
  ])('blend %j opens no database connection', async (args) => {
    const before = connections;
    const r = await blend(args, { DATABASE_URL: url });
    expect(r.code).not.toBeNull();
    expect(connections).toBe(before);
  });

  it('a command that uses the database does connect (so the count above can fail)', async () => {
    const before = connections;
    const r = await blend(['people', 'add', 'ann@corp.test'], { DATABASE_URL: url });
    expect(r.code).toBe(1);
    expect(connections).toBeGreaterThan(before);
  });
});

describe('migrations', () => {
  const name = `blend_t_${randomBytes(5).toString('hex')}`;
  let admin: pg.Client;
  let dbUrl: string;
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const u = new URL(ADMIN_DATABASE_URL);
    u.pathname = `/${name}`;
    dbUrl = u.toString();
  });
  afterAll(async () => {
    await admin?.query(`drop database if exists ${name} with (force)`);
    await admin?.end();
  });

  const tables = async () => {
    const c = new pg.Client({ connectionString: dbUrl });
    await c.connect();
    try {
      return (await c.query<{ n: number }>("select count(*)::int as n from information_schema.tables where table_schema in ('public', 'drizzle')")).rows[0]!.n;
    } finally {
      await c.end();
    }
  };

  it('no command migrates by accident, even with BLEND_MIGRATE_ON_START=true; `blend db migrate` does', async () => {
    for (const args of [['people', 'add', 'ann@corp.test'], ['inbound', 'list'], ['mailbox', 'list']]) {
      const r = await blend(args, { DATABASE_URL: dbUrl, BLEND_MIGRATE_ON_START: 'true' });
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/schema is out of date \(pending migrations: 0000_init.*\); run `blend db migrate` first/);
    }
    const typo = await blend(['poeple', 'add', 'ann@corp.test'], { DATABASE_URL: dbUrl });
    expect(typo.code).toBe(2);
    expect(await tables()).toBe(0);

    const status = await blend(['db', 'status'], { DATABASE_URL: dbUrl });
    expect(status.code).toBe(1);
    expect(status.out).toMatch(/^pending migrations: 0000_init/);
    const migrate = await blend(['db', 'migrate'], { DATABASE_URL: dbUrl });
    expect(migrate.code).toBe(0);
    expect(migrate.out).toMatch(/^applied migrations: 0000_init/);
    expect(await tables()).toBeGreaterThan(10);
    expect((await blend(['db', 'status'], { DATABASE_URL: dbUrl })).out).toBe('database is up to date\n');
    const add = await blend(['people', 'add', 'ann@corp.test', '--json'], { DATABASE_URL: dbUrl });
    expect(add.code).toBe(0);
    expect(JSON.parse(add.out)).toMatchObject({ email: 'ann@corp.test' });
  });
});
