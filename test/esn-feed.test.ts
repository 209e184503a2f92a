import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { sql } from 'drizzle-orm';
import { planAttachments } from '@blend/core';
import { ensureGroup, insertComment, insertPost, recordMentions, replaceTags, storeAttachments, tombstoneComment, type EsnPostView } from '@blend/db';
import { personWithToken, startTestApi, type TestApi } from './support/api';

// The feed's comments (the latest few per post, with the total) and its tag and mention
// filters, through app.inject() on real Postgres and Redis.
let api: TestApi;
let app: FastifyInstance;
const tokens: Record<string, string> = {};
const ids: Record<string, string> = {};
/** The busy thread's comments by name, c1 oldest … c6 newest; c5 is retracted. */
const c: Record<string, string> = {};

const at = (minute: number) => new Date(Date.UTC(2020, 4, 1, 9, minute));

beforeAll(async () => {
  api = await startTestApi({ addressing: { mode: 'domain', domain: 'feed.test' } });
  app = api.app;
  const db = api.t.db;
  for (const name of ['alice', 'bob']) {
    const p = await personWithToken(db, { email: `${name}@corp.test`, name });
    ids[name] = p.id;
    tokens[name] = p.token;
  }
  const general = await ensureGroup(db, 'general');
  const post = (title: string, minute: number) =>
    insertPost(db, { groupId: general.id, authorId: ids.alice!, title, bodyText: title, bodyHtml: `<p>${title}</p>`, source: 'esn', createdAt: at(minute) });
  ids.busy = (await post('Busy', 0)).id;
  ids.quiet = (await post('Quiet', 1)).id;
  // Written out of time order: the feed orders by time, not by insertion.
  for (const n of [4, 1, 6, 3, 5, 2]) {
    const row = await insertComment(db, { postId: ids.busy, authorId: ids.bob!, bodyText: `c${n}`, bodyHtml: `<p>c${n}</p>`, source: 'esn', createdAt: at(10 + n) });
    c[`c${n}`] = row.id;
  }
  await tombstoneComment(db, c.c5!);
  const file = (name: string) => ({ plan: planAttachments([{ filename: name, contentType: 'application/pdf', size: 3, inline: false }])[0]!, content: Buffer.from('pdf') });
  await storeAttachments(db, { postId: ids.busy, commentId: null }, [file('post.pdf')]);
  for (const n of ['c2', 'c5', 'c6']) await storeAttachments(db, { postId: ids.busy, commentId: c[n]! }, [file(`${n}.pdf`)]);
});
afterAll(async () => {
  await api?.close();
});

const get = (url: string, who = 'alice', headers: Record<string, string> = {}) =>
  app.inject({ method: 'GET', url, headers: { ...headers, authorization: `Bearer ${tokens[who]}` } });
async function feed(qs: string, who = 'alice') {
  const res = await get(`/api/v1/feed?${qs}`, who);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { items: EsnPostView[]; next_cursor: string | null };
}
const item = async (qs: string, id: string) => (await feed(qs)).items.find((p) => p.id === id)!;
const bodies = (p: EsnPostView) => p.comments.map((x) => x.body_text);

describe('comments in the feed', () => {
  it.each([
    ['', ['c3', 'c4', 'c6']],
    ['comments=0', []],
    ['comments=1', ['c6']],
    ['comments=3', ['c3', 'c4', 'c6']],
    ['comments=4', ['c2', 'c3', 'c4', 'c6']],
    ['comments=50', ['c1', 'c2', 'c3', 'c4', 'c6']],
  ])('?%s gives the latest of the comments not retracted, in time order', async (qs, expected) => {
    const busy = await item(qs, ids.busy!);
    expect(bodies(busy)).toEqual(expected);
    expect(busy.comment_count).toBe(5);
    expect((await item(qs, ids.quiet!)).comment_count).toBe(0);
  });

  it.each([
    ['comments=0', ['post.pdf']],
    ['comments=1', ['post.pdf', 'c6.pdf']],
    ['comments=50', ['post.pdf', 'c2.pdf', 'c6.pdf']],
  ])("lists with ?%s the post's files and those of the comments shown, never a retracted comment's", async (qs, names) => {
    expect((await item(qs, ids.busy!)).attachments.map((a) => a.name)).toEqual(names);
  });

  it('leaves the thread whole: every comment in time order, the retracted one as a tombstone', async () => {
    const post = (await get(`/api/v1/posts/${ids.busy}`)).json() as EsnPostView;
    expect(post.comments.map((x) => (x.deleted ? 'retracted' : x.body_text))).toEqual(['c1', 'c2', 'c3', 'c4', 'retracted', 'c6']);
    expect(post.comment_count).toBe(5);
    expect(post.attachments.map((a) => a.name)).toEqual(['post.pdf', 'c2.pdf', 'c6.pdf']);
  });

  it.each(['comments=51', 'comments=-1', 'comments=1.5', 'comments=all'])('rejects ?%s with 400 VALIDATION', async (qs) => {
    const res = await get(`/api/v1/feed?${qs}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'VALIDATION', message: expect.any(String) } });
  });

  it('counts all the comments in AS2 replies, and gives the ones present', async () => {
    const AS = { accept: 'application/activity+json' };
    type Note = { id: string; replies: { totalItems: number; items: { type: string; content?: string }[] } };
    const page = (await get('/api/v1/feed?comments=2', 'alice', AS)).json() as { orderedItems: Note[] };
    const note = page.orderedItems.find((n) => n.id.endsWith(ids.busy!))!;
    expect(note.replies.totalItems).toBe(5);
    expect(note.replies.items.map((r) => r.content)).toEqual(['<p>c4</p>', '<p>c6</p>']);
    const thread = (await get(`/api/v1/posts/${ids.busy}`, 'alice', AS)).json() as Note;
    expect(thread.replies.totalItems).toBe(5);
    expect(thread.replies.items.map((r) => r.type)).toEqual(['Note', 'Note', 'Note', 'Note', 'Tombstone', 'Note']);
  });
});

/** Every page of `qs`, following next_cursor; the titles in order. */
async function allPages(qs: string, who = 'alice'): Promise<string[]> {
  const titles: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await feed(`${qs}&limit=1${cursor ? `&cursor=${cursor}` : ''}`, who);
    titles.push(...page.items.map((p) => p.title));
    cursor = page.next_cursor;
  } while (cursor);
  return titles;
}

describe('tag and mention filters', () => {
  beforeAll(async () => {
    const db = api.t.db;
    const general = await ensureGroup(db, 'general');
    // Two posts at the same instant: the page order, and the cursor, fall back on the id.
    const same = at(30);
    for (const title of ['Tie A', 'Tie B']) {
      const p = await insertPost(db, { groupId: general.id, authorId: ids.bob!, title, bodyText: title, bodyHtml: '', source: 'email', createdAt: same });
      await replaceTags(db, p.id, ['ties']);
      await recordMentions(db, p.id, null, ['alice@corp.test']);
      ids[title] = p.id;
    }
  });

  it('pages a tag with a cursor, newest first, ties by id, each post once', async () => {
    const byId = [ids['Tie A']!, ids['Tie B']!].sort().reverse();
    const expected = byId.map((id) => (id === ids['Tie A'] ? 'Tie A' : 'Tie B'));
    expect(await allPages('tag=ties')).toEqual(expected);
  });

  it('follows a post whose tags are edited through the API', async () => {
    const created = await app.inject({ method: 'POST', url: '/api/v1/posts', headers: { authorization: `Bearer ${tokens.alice}` }, payload: { group: 'general', body: 'Shipping #ties #launch' } });
    expect(created.statusCode).toBe(201);
    const id = (created.json() as { id: string }).id;
    expect((await feed('tag=launch')).items.map((p) => p.id)).toEqual([id]);
    // Newer than the ties, so first.
    expect((await feed('tag=ties')).items.map((p) => p.id)[0]).toBe(id);
    const edited = await app.inject({ method: 'PATCH', url: `/api/v1/posts/${id}`, headers: { authorization: `Bearer ${tokens.alice}` }, payload: { title: 'Shipped', body: 'Shipped #done' } });
    expect(edited.statusCode).toBe(200);
    expect((await feed('tag=launch')).items).toEqual([]);
    expect((await feed('tag=done')).items.map((p) => p.id)).toEqual([id]);
  });

  it('lists a post that mentions me in its body and in a comment once, and pages mentions with a cursor', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/posts', headers: { authorization: `Bearer ${tokens.alice}` }, payload: { group: 'general', title: 'Ping', body: 'over to @bob@corp.test' } });
    const id = (res.json() as { id: string }).id;
    await app.inject({ method: 'POST', url: `/api/v1/posts/${id}/comments`, headers: { authorization: `Bearer ${tokens.alice}` }, payload: { body: 'again @bob@corp.test' } });
    await app.inject({ method: 'POST', url: `/api/v1/posts/${ids['Tie A']}/comments`, headers: { authorization: `Bearer ${tokens.alice}` }, payload: { body: 'and here @bob@corp.test' } });
    expect(await allPages('mentions=me', 'bob')).toEqual(['Ping', 'Tie A']);
    const ties = [ids['Tie A']!, ids['Tie B']!].sort().reverse().map((x) => (x === ids['Tie A'] ? 'Tie A' : 'Tie B'));
    expect(await allPages('mentions=me', 'alice')).toEqual(ties);
    expect((await feed('mentions=me&tag=ties&source=email', 'bob')).items.map((p) => p.title)).toEqual(['Tie A']);
  });

  it("keeps the copies of each post's created_at equal to the post's", async () => {
    const off = await api.t.db.execute<{ n: number }>(sql`
      select (select count(*) from post_tags t join posts p on p.id = t.post_id where t.post_created_at <> p.created_at)
           + (select count(*) from mentions m join posts p on p.id = m.post_id where m.post_created_at <> p.created_at) as n`);
    expect(Number(off.rows[0]!.n)).toBe(0);
    const copies = await api.t.db.execute<{ n: number }>(sql`select (select count(*) from post_tags) + (select count(*) from mentions) as n`);
    expect(Number(copies.rows[0]!.n)).toBeGreaterThan(5);
  });
});
