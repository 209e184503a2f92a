import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, migrateDb, pendingMigrations, personForToken } from '@blend/db';
import { createTestDatabase, waitFor, type TestDatabase, ADMIN_DATABASE_URL } from './support/database';
import { createMailDomain } from './support/mail-server';
import pg from 'pg';
import { freePorts } from './support/ports';
import { run } from './support/process';

// The commands operators run, as real processes.
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

describe('configuration errors', () => {
  it.each([
    ['services/api/src/main.ts', {}, /DATABASE_URL: is required/],
    ['services/worker/src/main.ts', { BLEND_SECRET: 'short' }, /BLEND_SECRET: must be at least 32 characters/],
    ['services/poller/src/main.ts', { BLEND_IMAP_URL: 'http://x' }, /BLEND_IMAP_URL: must be a URL starting with imap:\/\//],
  ])('%s refuses to start with %o and names the variable', async (main, env, message) => {
    const p = run([main], env);
    const { code } = await p.done;
    expect(code).toBe(2);
    expect(p.err()).toMatch(message);
  });
});

describe('migrations', () => {
  it('several services migrating one fresh database at once all succeed', async () => {
    const name = `blend_t_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(ADMIN_DATABASE_URL);
    url.pathname = `/${name}`;
    const handles = [1, 2, 3].map(() => createDb(url.toString(), { max: 2 }));
    try {
      expect((await pendingMigrations(handles[0]!.pool)).length).toBeGreaterThan(0);
      await Promise.all(handles.map((h) => migrateDb(h.db, h.pool)));
      expect(await pendingMigrations(handles[0]!.pool)).toEqual([]);
    } finally {
      await Promise.all(handles.map((h) => h.close()));
      await admin.query(`drop database ${name} with (force)`);
      await admin.end();
    }
  });

  it('a service with BLEND_MIGRATE_ON_START=false refuses an unmigrated database', async () => {
    const name = `blend_t_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    try {
      const url = new URL(ADMIN_DATABASE_URL);
      url.pathname = `/${name}`;
      const p = run(['services/worker/src/main.ts'], {
        DATABASE_URL: url.toString(),
        REDIS_URL: 'redis://127.0.0.1:6379',
        BLEND_IMAP_URL: 'imap://u:p@127.0.0.1:143/INBOX',
        BLEND_SMTP_URL: 'smtp://127.0.0.1:2525',
        BLEND_MAIL_DOMAIN: 'example.test',
        BLEND_SECRET: 'x'.repeat(32),
        BLEND_MIGRATE_ON_START: 'false',
      });
      const { code } = await p.done;
      expect(code).toBe(1);
      expect(p.err()).toMatch(/schema is out of date \(pending migrations: 0000_init.*pnpm db:migrate/);
    } finally {
      await admin.query(`drop database ${name} with (force)`);
      await admin.end();
    }
  });
});

describe('pnpm blend people add', () => {
  it('creates a person and prints an id and a working token as JSON', async () => {
    const p = run(['services/cli/src/cli.ts', 'people', 'add', 'Dana@Corp.test', '--name', 'Dana', '--opt-in', '--json'], { DATABASE_URL: t.url });
    expect((await p.done).code).toBe(0);
    const out = JSON.parse(p.out()) as { id: string; email: string; opt_in: string; token: string };
    expect(out).toMatchObject({ email: 'dana@corp.test', opt_in: 'opted_in', id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect((await personForToken(t.db, out.token))?.id).toBe(out.id);
  });

  it.each([
    [['people', 'add', 'not-an-address'], /not an email address/],
    [['people', 'add'], /exactly one EMAIL/],
    [['people', 'add', 'a@b.test', '--bogus'], /Unknown option/],
    [['frobnicate', 'now'], /unknown command: frobnicate now/],
  ])('blend %j exits 2 with a clear message', async (args, message) => {
    const p = run(['services/cli/src/cli.ts', ...args], { DATABASE_URL: t.url });
    expect((await p.done).code).toBe(2);
    expect(p.err()).toMatch(message);
  });
});

describe('pnpm start', () => {
  it('runs api, worker and poller together and stops cleanly on SIGTERM', async () => {
    const mail = await createMailDomain();
    const [port, workerPort, pollerPort] = (await freePorts(3)) as [number, number, number];
    const p = run(['scripts/start-all.ts'], {
      DATABASE_URL: t.url,
      REDIS_URL: 'redis://127.0.0.1:6379',
      BLEND_IMAP_URL: mail.imapUrl,
      BLEND_SMTP_URL: mail.smtpUrl,
      BLEND_MAIL_DOMAIN: mail.domain,
      BLEND_SECRET: randomBytes(32).toString('hex'),
      BLEND_QUEUE_PREFIX: `bt${randomBytes(4).toString('hex')}`,
      PORT: String(port),
      BLEND_WORKER_HEALTH_PORT: String(workerPort),
      BLEND_POLLER_HEALTH_PORT: String(pollerPort),
      // Another loopback address, as a pod's own address would be: the health servers listen there only.
      BLEND_HEALTH_HOST: '127.0.0.2',
    });
    // Every service answers its own readiness check: api, worker and poller.
    for (const [host, p] of [['127.0.0.1', port], ['127.0.0.2', workerPort], ['127.0.0.2', pollerPort]] as const) {
      await waitFor(async () => (await fetch(`http://${host}:${p}/readyz`)).ok, `readiness on ${host}:${p}`, 30_000, 200);
    }
    await expect(fetch(`http://127.0.0.1:${workerPort}/healthz`)).rejects.toThrow();
    await waitFor(async () => p.out().includes('imap connected'), 'the poller to connect');
    p.kill('SIGTERM');
    const { code } = await p.done;
    expect(code, `exit code; output:\n${p.out().slice(-3000)}\n${p.err().slice(-2000)}`).toBe(0);
    expect(p.out()).toMatch(/"msg":"poller stopped"[\s\S]*"msg":"api stopped"[\s\S]*"msg":"worker stopped"/);
  });
});
