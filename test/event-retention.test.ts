import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { assignEventPositions, ensureGroup, purgeExpired, schema } from '@blend/db';
import { personWithToken, startTestApi, type TestApi } from './support/api';

// Retention of the events outbox (docs/ARCHITECTURE.md "Events", BLEND_EVENT_RETENTION_DAYS):
// finished deliveries and the events no hook waits for go after their days, on real Postgres;
// what a receiver still needs stays, and numbering goes on where it was.
let api: TestApi;
let root: { id: string; token: string };
let hookId = '';

const call = async (method: 'GET' | 'POST', url: string, payload?: object) => {
  const res = await api.app.inject({ method, url, headers: { authorization: `Bearer ${root.token}` }, ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
};
const eventsOf = async (postId: string) =>
  api.t.db.select().from(schema.events).where(eq(schema.events.threadId, postId)).orderBy(schema.events.sequence);
const deliveryOf = async (eventId: string) => api.t.db.select().from(schema.webhookDeliveries).where(eq(schema.webhookDeliveries.eventId, eventId));

beforeAll(async () => {
  api = await startTestApi();
  root = await personWithToken(api.t.db, { email: 'root@corp.test', name: 'Root', isAdmin: true });
  await ensureGroup(api.t.db, 'general');
  const [hook] = await api.t.db
    .insert(schema.webhooks)
    .values({ url: 'https://hooks.example.test/in', events: ['post.created', 'comment.created'], format: 'cloudevents', secret: 'whsec_' + 'a'.repeat(32) })
    .returning();
  hookId = hook!.id;
});
afterAll(async () => api?.close());

describe('event retention', () => {
  it('deletes old finished deliveries and events, keeping pending ones and the latest of each thread', async () => {
    const a = (await call('POST', '/api/v1/posts', { group: 'general', body: 'Thread A' })).body.id as string;
    for (const body of ['first comment', 'second comment']) expect((await call('POST', `/api/v1/posts/${a}/comments`, { body })).status).toBe(201);
    const b = (await call('POST', '/api/v1/posts', { group: 'general', body: 'Thread B' })).body.id as string;
    await assignEventPositions(api.t.db);
    const [a1, a2, a3] = await eventsOf(a);
    const [b1] = await eventsOf(b);
    expect([a1, a2, a3, b1].every((e) => e && e.position !== null)).toBe(true);

    // Forty days old: a1 and a3 delivered, b1 failed, a2 still waiting for its receiver.
    const old = sql`now() - interval '40 days'`;
    await api.t.db.update(schema.events).set({ createdAt: old as unknown as Date }).where(inArray(schema.events.threadId, [a, b]));
    await api.t.db.update(schema.webhookDeliveries).set({ createdAt: old as unknown as Date, state: 'delivered' }).where(inArray(schema.webhookDeliveries.eventId, [a1!.id, a3!.id]));
    await api.t.db.update(schema.webhookDeliveries).set({ createdAt: old as unknown as Date, state: 'failed' }).where(eq(schema.webhookDeliveries.eventId, b1!.id));
    await api.t.db.update(schema.webhookDeliveries).set({ createdAt: old as unknown as Date }).where(eq(schema.webhookDeliveries.eventId, a2!.id));
    // A thread of today.
    const c = (await call('POST', '/api/v1/posts', { group: 'general', body: 'Thread C' })).body.id as string;
    await assignEventPositions(api.t.db);
    const [c1] = await eventsOf(c);

    // Sixty days keeps everything; thirty does not.
    expect((await purgeExpired(api.t.db, { rawDays: 30, withheldDays: 14, outboundDays: 90, eventDays: 60 })).events).toBe(0);
    const counts = await purgeExpired(api.t.db, { rawDays: 30, withheldDays: 14, outboundDays: 90, eventDays: 30 });
    expect(counts.events).toBe(1);

    // a1 is gone with its delivery; a2 waits for its hook; a3 and b1 are their threads' latest.
    expect((await eventsOf(a)).map((e) => e.id)).toEqual([a2!.id, a3!.id]);
    expect((await eventsOf(b)).map((e) => e.id)).toEqual([b1!.id]);
    expect((await eventsOf(c)).map((e) => e.id)).toEqual([c1!.id]);
    // Finished deliveries older than thirty days go even when their event stays.
    expect(await deliveryOf(a3!.id)).toEqual([]);
    expect(await deliveryOf(b1!.id)).toEqual([]);
    expect((await deliveryOf(a2!.id)).map((d) => d.state)).toEqual(['pending']);
    expect((await deliveryOf(c1!.id)).map((d) => d.state)).toEqual(['pending']);

    // The pull API starts later, and the next event of thread A follows its old numbering.
    const page = await call('GET', '/api/v1/events?limit=500');
    expect(page.status).toBe(200);
    const pulled = (page.body.items as { event: { id: string } }[]).map((i) => i.event.id);
    expect(pulled).not.toContain(a1!.id);
    expect(pulled).toEqual(expect.arrayContaining([a2!.id, a3!.id, b1!.id, c1!.id]));
    expect((await call('POST', `/api/v1/posts/${a}/comments`, { body: 'third comment' })).status).toBe(201);
    expect((await eventsOf(a)).map((e) => e.sequence)).toEqual([2, 3, 4]);
    await assignEventPositions(api.t.db);
    const [a4] = (await eventsOf(a)).slice(-1);
    expect(a4!.position).toBeGreaterThan(c1!.position!);
    expect(await api.t.db.select().from(schema.webhookDeliveries).where(and(eq(schema.webhookDeliveries.webhookId, hookId), eq(schema.webhookDeliveries.eventId, a4!.id)))).toHaveLength(1);
  });

  it('keeps the latest event of the stream, so positions never go back', async () => {
    // The stream's latest is an event of no thread (as `person.erased` is); every event is old
    // and delivered, so only that rule keeps it.
    await api.t.db.insert(schema.events).values({ type: 'person.erased', threadId: null, groupId: null, origin: 'esn', payload: {} });
    await assignEventPositions(api.t.db);
    await api.t.db.update(schema.events).set({ createdAt: sql`now() - interval '40 days'` as unknown as Date });
    await api.t.db.update(schema.webhookDeliveries).set({ createdAt: sql`now() - interval '40 days'` as unknown as Date, state: 'delivered' });
    const [top] = await api.t.db.select({ max: sql<string>`max(${schema.events.position})` }).from(schema.events);
    const before = Number(top!.max);
    await purgeExpired(api.t.db, { rawDays: 30, withheldDays: 14, outboundDays: 90, eventDays: 30 });
    expect(await api.t.db.select().from(schema.webhookDeliveries)).toEqual([]);
    expect(await api.t.db.select().from(schema.events).where(sql`${schema.events.position} = ${before}`)).toHaveLength(1);
    const d = (await call('POST', '/api/v1/posts', { group: 'general', body: 'Thread D' })).body.id as string;
    await assignEventPositions(api.t.db);
    expect((await eventsOf(d))[0]!.position).toBe(before + 1);
  });
});
