import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { assignEventPositions, emitPostEvent, ensureGroup, insertEsnPost, issueApiToken, listEvents, movePostIntoThread, schema, tombstoneComment, upsertPerson } from '@blend/db';
import { startTestApi, type TestApi } from './support/api';

// The events outbox under concurrency (docs/ARCHITECTURE.md "Events"): sequences per thread
// follow commit order without gaps or duplicates, a rolled-back change leaves no event, and a
// reader paging by position never skips an event that committed after a later one.
let api: TestApi;
let token = '';
let rootId = '';
let groupId = '';

beforeAll(async () => {
  api = await startTestApi();
  const { person } = await upsertPerson(api.t.db, { email: 'root@corp.test', name: 'Root', optIn: true, isAdmin: true });
  rootId = person.id;
  token = await issueApiToken(api.t.db, person.id);
  groupId = (await ensureGroup(api.t.db, 'general')).id;
});
afterAll(async () => api?.close());

const newPost = (title: string) => insertEsnPost(api.t.db, { groupId, authorId: rootId, title, bodyText: title, bodyHtml: `<p>${title}</p>`, tags: [], mentionedEmails: [] });

describe('the events outbox', () => {
  it('numbers a thread 1..n when many changes commit at once', async () => {
    const made = await api.app.inject({ method: 'POST', url: '/api/v1/posts', headers: { authorization: `Bearer ${token}` }, payload: { group: 'general', body: 'Busy thread' } });
    const { id } = made.json() as { id: string };
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => api.app.inject({ method: 'POST', url: `/api/v1/posts/${id}/comments`, headers: { authorization: `Bearer ${token}` }, payload: { body: `Comment ${i}` } })),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(12).fill(201));
    const rows = await api.t.db.select({ sequence: schema.events.sequence, createdAt: schema.events.createdAt }).from(schema.events).where(eq(schema.events.threadId, id)).orderBy(schema.events.sequence);
    expect(rows.map((r) => r.sequence)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    // Commit order: each later sequence was written after the one before it.
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.createdAt.getTime()).toBeGreaterThanOrEqual(rows[i - 1]!.createdAt.getTime());
    // Each event names the post (with its group) and the author as they are.
    const payloads = (await api.t.db.select({ payload: schema.events.payload }).from(schema.events).where(eq(schema.events.threadId, id)).orderBy(schema.events.sequence)).map((r) => r.payload);
    expect(payloads.map((p) => (p as { thread: { id: string; sequence: number } }).thread)).toEqual(rows.map((r) => ({ id, sequence: r.sequence })));
    expect(payloads[0]).toMatchObject({ event: 'post.created', post: { id, group: { slug: 'general' }, author: { id: rootId, email: 'root@corp.test', name: 'Root' } } });
    expect(payloads[1]).toMatchObject({ event: 'comment.created', post: { id }, comment: { author: { id: rootId, email: 'root@corp.test', name: 'Root' } } });
  });

  it('writes no event for a change that rolled back', async () => {
    const post = await newPost('Rolled back');
    await expect(
      api.t.db.transaction(async (tx) => {
        await emitPostEvent(tx, 'post.updated', post.id);
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await api.t.db.select().from(schema.events).where(eq(schema.events.postId, post.id))).toEqual([]);
  });

  it('places waiting events oldest first after the highest position, at most `limit` at a time', async () => {
    await assignEventPositions(api.t.db);
    const [top] = await api.t.db.select({ max: sql<string | null>`max(${schema.events.position})` }).from(schema.events);
    const before = Number(top?.max ?? 0);
    const post = await newPost('Placed in order');
    for (let i = 0; i < 3; i++) await api.t.db.transaction((tx) => emitPostEvent(tx, 'post.updated', post.id));
    const placedOf = async () =>
      api.t.db.select({ sequence: schema.events.sequence, position: schema.events.position }).from(schema.events).where(eq(schema.events.threadId, post.id)).orderBy(schema.events.sequence);
    const waiting = await placedOf();
    expect(waiting.filter((e) => e.position === null).length).toBeGreaterThanOrEqual(3);
    const n = waiting.filter((e) => e.position === null).length;
    expect(await assignEventPositions(api.t.db, n - 1)).toBe(n - 1);
    const partly = await placedOf();
    expect(partly.map((e) => e.position)).toEqual([...Array.from({ length: n - 1 }, (_, i) => before + 1 + i), null]);
    expect(await assignEventPositions(api.t.db)).toBe(1);
    expect((await placedOf()).map((e) => e.position)).toEqual(Array.from({ length: n }, (_, i) => before + 1 + i));
  });

  it('gives a late commit a later position, so paging does not skip it', async () => {
    const start = (await listEvents(api.t.db, { after: null, limit: 1000, viewerId: rootId }))!;
    let cursor = start.last ?? 0;
    const early = await newPost('Started first, committed last');
    const late = await newPost('Started last, committed first');
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let written!: () => void;
    const inside = new Promise<void>((r) => (written = r));
    // Transaction A writes its event first and commits last.
    const a = api.t.db.transaction(async (tx) => {
      await emitPostEvent(tx, 'post.updated', early.id);
      written();
      await held;
    });
    await inside;
    await api.t.db.transaction((tx) => emitPostEvent(tx, 'post.updated', late.id));
    const first = (await listEvents(api.t.db, { after: cursor, limit: 1000, viewerId: rootId }))!;
    expect(first.items.map((i) => (i.event as { post: { id: string } }).post.id)).toEqual([late.id]);
    cursor = first.last!;
    release();
    await a;
    const second = (await listEvents(api.t.db, { after: cursor, limit: 1000, viewerId: rootId }))!;
    expect(second.items.map((i) => (i.event as { post: { id: string } }).post.id)).toEqual([early.id]);
    expect(second.items[0]!.position).toBeGreaterThan(first.items[0]!.position);
  });

  it('a merged post retracted as the comment it became leaves its old events too', async () => {
    const survivor = await newPost('Survivor');
    const merged = await newPost('Merged words');
    await api.t.db.transaction(async (tx) => {
      await emitPostEvent(tx, 'post.created', survivor.id);
      await emitPostEvent(tx, 'post.created', merged.id);
    });
    const commentId = (await api.t.db.transaction((tx) => movePostIntoThread(tx, merged.id, survivor.id, { kind: 'merged', inboundId: null })))!;
    const mergedEvent = (await api.t.db.select().from(schema.events).where(eq(schema.events.type, 'post.merged'))).find((e) => e.threadId === survivor.id);
    expect(mergedEvent?.payload).toMatchObject({ merged: { id: merged.id, title: 'Merged words', comment_id: commentId } });
    await api.t.db.transaction((tx) => tombstoneComment(tx, commentId));
    const text = JSON.stringify((await api.t.db.select().from(schema.events)).map((e) => e.payload));
    expect(text).not.toContain('Merged words');
  });
});
