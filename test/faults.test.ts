import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { count, eq, inArray } from 'drizzle-orm';
import { schema } from '@blend/db';
import { parseImapUrl } from '@blend/mail';
import { waitFor } from './support/database';
import { freePort } from './support/ports';
import { asDelivered, fetchRawMessages, sendRaw, withImap } from './support/mail-server';
import { buildMessage } from './support/messages';
import { serviceEnv, startStack, type Stack } from './support/stack';
import { startTcpProxy } from './support/tcp-proxy';

// Faults against the real services: nothing lost, nothing duplicated (docs/SECURITY.md I1, I2).
let s: Stack | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await s?.stop();
  s = undefined;
  for (const c of cleanups.splice(0)) await c();
}, 120_000);

const fast = { BLEND_POLL_INTERVAL_MS: '1000', BLEND_RECONCILE_INTERVAL_MS: '2000', BLEND_RATE_SENDER_PER_MINUTE: '0', BLEND_RATE_SENDER_PER_HOUR: '0', BLEND_RATE_ORG_PER_MINUTE: '0' };

async function appendBurst(stack: Stack, n: number, tag: string) {
  const { folder } = parseImapUrl(stack.mail.imapUrl);
  await withImap(stack.mail.imapUrl, async (client) => {
    for (let i = 0; i < n; i++) {
      const m = buildMessage({ from: 'alice@corp.test', to: `status@${stack.mail.domain}`, subject: `${tag} ${i}`, messageId: `${tag}-${i}-${randomBytes(3).toString('hex')}@corp.test` });
      await client.append(folder, asDelivered(m.raw, 'alice@corp.test'));
    }
  });
}
const counts = async (stack: Stack) => {
  const rows = await stack.db.db.select({ state: schema.inboundMessages.state, n: count() }).from(schema.inboundMessages).groupBy(schema.inboundMessages.state);
  const posts = (await stack.db.db.select({ n: count() }).from(schema.posts))[0]!.n;
  return { byState: Object.fromEntries(rows.map((r) => [r.state, r.n])) as Record<string, number>, posts };
};
async function everyPostedOnce(stack: Stack, n: number, timeoutMs: number) {
  await waitFor(async () => (await counts(stack)).byState.posted === n, `${n} posts`, timeoutMs, 250);
  const c = await counts(stack);
  expect(c.posts).toBe(n);
  expect(c.byState).toEqual({ posted: n });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });
}

function redisServer(port: number): ChildProcess {
  return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
}

describe('faults', () => {
  it('Redis restarted in the middle of a burst of 500 mails: every mail ends as exactly one post', async () => {
    const port = await freePort();
    let redis = redisServer(port);
    cleanups.push(() => void redis.kill('SIGKILL'));
    await waitFor(() => portOpen(port), 'redis up');
    s = await startStack({ ...fast, REDIS_URL: `redis://127.0.0.1:${port}`, WORKER_CONCURRENCY: '8' });
    await s.person('alice@corp.test');
    await appendBurst(s, 500, 'burst');
    await waitFor(async () => ((await counts(s!)).byState.posted ?? 0) >= 50, 'the burst under way', 60_000, 50);
    redis.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 2_000));
    redis = redisServer(port); // empty: every queued job is gone
    await everyPostedOnce(s, 500, 120_000);
  });

  it('Postgres unreachable for 30 s: workers back off and resume, the checkpoint never passes a stored UID', async () => {
    const proxy = await startTcpProxy(5432);
    cleanups.push(() => proxy.close());
    s = await startStack({ ...fast }, { poller: false });
    await s.person('alice@corp.test');
    const via = new URL(s.config.DATABASE_URL);
    via.port = String(proxy.port);
    // Restart the worker and poller through the proxy; the test itself reads Postgres directly.
    await s.stopWorker();
    s.config.DATABASE_URL = via.toString();
    await s.startWorker();
    await s.startPoller();
    await appendBurst(s, 20, 'before');
    await waitFor(async () => ((await counts(s!)).byState.posted ?? 0) >= 5, 'some posts', 30_000, 50);
    proxy.cut();
    await appendBurst(s, 20, 'during');
    await new Promise((r) => setTimeout(r, 30_000));
    const cp = await s.db.db.select().from(schema.mailboxCheckpoints);
    const maxRow = (await s.db.db.select({ uid: schema.inboundMessages.uid }).from(schema.inboundMessages)).reduce((m, r) => Math.max(m, r.uid), 0);
    expect(cp[0]!.lastUid).toBeLessThanOrEqual(maxRow);
    proxy.restore();
    await everyPostedOnce(s, 40, 120_000);
  });

  it('a worker killed with SIGKILL mid-ingest: its jobs are retried, one post each', async () => {
    s = await startStack({ ...fast, BLEND_JOB_LOCK_MS: '3000' }, { poller: true });
    await s.stopWorker();
    await s.person('alice@corp.test');
    const { run } = await import('./support/process');
    const env = serviceEnv(s, { BLEND_JOB_LOCK_MS: '3000', WORKER_CONCURRENCY: '8', ...fast });
    const doomed = run(['services/worker/src/main.ts'], env, { timeoutMs: 120_000 });
    cleanups.push(() => doomed.kill('SIGKILL'));
    await appendBurst(s, 200, 'kill');
    await waitFor(async () => ((await counts(s!)).byState.posted ?? 0) >= 20, 'the doomed worker under way', 60_000, 20);
    doomed.kill('SIGKILL');
    await s.startWorker();
    await everyPostedOnce(s, 200, 90_000);
  });

  it('the mailbox is recreated with a new UIDVALIDITY: a resync, no duplicate posts', async () => {
    const folder = `Bridge${randomBytes(3).toString('hex')}`;
    s = await startStack({ ...fast }, { poller: false });
    const url = new URL(s.mail.imapUrl);
    url.pathname = `/${folder}`;
    await withImap(s.mail.imapUrl, (c) => c.mailboxCreate(folder).then(() => undefined));
    s.config.BLEND_IMAP_URL = url.toString();
    await s.person('alice@corp.test');
    await withImap(url.toString(), async (c) => {
      for (let i = 0; i < 5; i++) {
        await c.append(folder, asDelivered(buildMessage({ from: 'alice@corp.test', to: `status@${s!.mail.domain}`, subject: `UV ${i}`, messageId: `uv-${i}-${randomBytes(3).toString('hex')}@corp.test` }).raw, 'alice@corp.test'));
      }
    });
    await s.startPoller();
    await everyPostedOnce(s, 5, 30_000);
    await s.stopPoller();
    const before = await withImap(url.toString(), async (c) => Number((await c.mailboxOpen(folder)).uidValidity));
    // Recreate the folder with the same mail: rename it away, create it again, copy back.
    await withImap(url.toString(), async (c) => {
      await c.mailboxRename(folder, `${folder}-old`);
      await c.mailboxCreate(folder);
      await c.mailboxOpen(`${folder}-old`);
      await c.messageCopy('1:*', folder);
    });
    const after = await withImap(url.toString(), async (c) => Number((await c.mailboxOpen(folder)).uidValidity));
    expect(after).not.toBe(before);
    await s.startPoller();
    await waitFor(async () => ((await counts(s!)).byState.duplicate ?? 0) === 5, 'the copies marked duplicate', 30_000);
    expect((await counts(s)).posts).toBe(5);
  });

  it('the SMTP server down for a while: the mail waits and is delivered once when it is back', async () => {
    const proxy = await startTcpProxy(2525);
    cleanups.push(() => proxy.close());
    s = await startStack({ ...fast, BLEND_SMTP_URL: `smtp://127.0.0.1:${proxy.port}` });
    proxy.cut();
    const m = buildMessage({ from: `erin@${s.people.domain}`, to: `status@${s.mail.domain}`, subject: 'help' });
    await sendRaw(m.raw, { from: `erin@${s.people.domain}`, to: `status@${s.mail.domain}` });
    const row = await waitFor(async () => {
      const r = await s!.db.db.select().from(schema.outboundMessages).where(eq(schema.outboundMessages.kind, 'help'));
      return r[0] && r[0].attempts >= 1 ? r[0] : undefined;
    }, 'a failed send attempt', 30_000);
    expect(row.state).toBe('pending');
    proxy.restore();
    await waitFor(async () => {
      const r = await s!.db.db.select().from(schema.outboundMessages).where(inArray(schema.outboundMessages.id, [row.id]));
      return r[0]?.state === 'sent';
    }, 'the send after SMTP is back', 60_000);
    const delivered = (await fetchRawMessages(s.people.imapUrl)).filter((x) => x.source.toString().includes(row.messageId));
    expect(delivered).toHaveLength(1);
  });

  it('SIGTERM of the worker during a burst leaves nothing half-written', async () => {
    s = await startStack({ ...fast });
    await s.person('alice@corp.test');
    await appendBurst(s, 100, 'term');
    await waitFor(async () => ((await counts(s!)).byState.posted ?? 0) >= 10, 'the burst under way', 60_000, 20);
    await s.stopWorker();
    const mid = await counts(s);
    expect(mid.posts).toBe(mid.byState.posted ?? 0);
    await s.startWorker();
    await everyPostedOnce(s, 100, 60_000);
  });
});
