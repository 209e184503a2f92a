// Held mail is never lost (docs/SECURITY.md F31): a mail held for a rate limit keeps its source
// in Postgres and its copy in IMAP (even with BLEND_IMAP_AFTER=delete) while held, is released
// by itself once the window allows, and IT sees held mail age on the admin page and in /metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, inArray } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import { createProducerRedis, createQueues, type Queues } from '@blend/queue';
import { createLogger } from '@blend/runtime';
import { heldSummary, purgeExpired, schema } from '@blend/db';
import { releaseRateHeld } from '@blend/worker';
import { sessionCookie } from './support/api';
import { waitFor } from './support/database';
import { fetchRawMessages, headerValues, sendRaw } from './support/mail-server';
import { buildMessage } from './support/messages';
import { startStack, type Stack } from './support/stack';

const inbound = schema.inboundMessages;
let s: Stack;
let token: string;
let redis: Redis;
let queues: Queues;

beforeAll(async () => {
  s = await startStack({
    BLEND_IMAP_AFTER: 'delete',
    BLEND_POLL_INTERVAL_MS: '1000',
    BLEND_RATE_SENDER_PER_MINUTE: '1',
    BLEND_RATE_SENDER_PER_HOUR: '0',
    BLEND_RATE_THREAD_PER_MINUTE: '0',
  });
  token = await s.person('alice@corp.test', { name: 'Alice' });
  await s.db.db.update(schema.people).set({ isAdmin: true }).where(eq(schema.people.email, 'alice@corp.test'));
  redis = createProducerRedis(s.config.REDIS_URL);
  redis.on('error', () => undefined);
  queues = createQueues(redis, s.config.BLEND_QUEUE_PREFIX);
}, 60_000);
afterAll(async () => {
  await queues?.close();
  redis?.disconnect();
  await s?.stop();
}, 60_000);

async function sendAs(subject: string): Promise<string> {
  const m = buildMessage({ from: 'Alice <alice@corp.test>', to: `status@${s.mail.domain}`, subject });
  await sendRaw(m.raw, { from: 'alice@corp.test', to: `status@${s.mail.domain}` });
  return m.messageId;
}
const rowOf = async (messageId: string) => (await s.db.db.select().from(inbound).where(eq(inbound.messageId, messageId)))[0];
const finalOf = (messageId: string, state?: string) =>
  waitFor(async () => {
    const r = await rowOf(messageId);
    return r && r.state !== 'received' && (!state || r.state === state) ? r : undefined;
  }, `<${messageId}> ${state ?? 'final'}`, 30_000);
const inImap = async (messageId: string) => (await fetchRawMessages(s.mail.imapUrl)).some((m) => headerValues(m.source, 'Message-ID').includes(`<${messageId}>`));

describe('held mail', () => {
  let first: string;
  let second: string;

  it('is kept in IMAP and in Postgres while held, when published mail is deleted and purged', async () => {
    first = await sendAs('First of two');
    expect((await finalOf(first)).state).toBe('posted');
    second = await sendAs('Second within the minute');
    expect(await finalOf(second)).toMatchObject({ state: 'held', reason: 'sender_rate' });
    // BLEND_IMAP_AFTER=delete removes the published mail's IMAP copy; the held one stays.
    await waitFor(async () => ((await inImap(first)) ? undefined : true), 'the published copy deleted from IMAP');
    await new Promise((r) => setTimeout(r, 1500)); // a few more marking rounds
    expect(await inImap(second)).toBe(true);
    expect((await rowOf(second))!.imapMarkedAt).toBeNull();
    // Retention that purges every processed mail's source leaves the held one's.
    await purgeExpired(s.db.db, { rawDays: 0, withheldDays: 14, outboundDays: 90 });
    const [a, b] = [await rowOf(first), await rowOf(second)];
    expect(a!.raw).toBeNull();
    expect(b!.raw).not.toBeNull();
  });

  it('shows IT how much is held and for how long', async () => {
    expect(await heldSummary(s.db.db)).toMatchObject({ count: 1 });
    const page = await s.app.inject({ method: 'GET', url: '/web/admin', headers: { cookie: await sessionCookie(s.db.db, token) } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/1 mail is held; the oldest arrived less than an hour ago/);
    const metrics = await s.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^blend_inbound_held_oldest_seconds \d/m);
  });

  it('is released by itself once the window allows, and then published and deleted from IMAP', async () => {
    const log = createLogger('test', 'silent');
    // Inside the window nothing is released yet.
    expect(await releaseRateHeld(s.db.db, queues.ingest, log)).toBe(0);
    // A minute passes (the first mail's arrival moves back): released, judged now, published.
    await s.db.db.update(inbound).set({ internalDate: new Date(Date.now() - 120_000), receivedAt: new Date(Date.now() - 120_000) }).where(inArray(inbound.messageId, [first]));
    expect(await releaseRateHeld(s.db.db, queues.ingest, log, 0)).toBe(1);
    const done = await finalOf(second, 'posted');
    expect(done.releasedAt).not.toBeNull();
    await waitFor(async () => ((await inImap(second)) ? undefined : true), 'the released mail deleted from IMAP after publishing');
    expect(await heldSummary(s.db.db)).toMatchObject({ count: 0, oldestAgeSeconds: 0 });
  });
});
