import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildApp, FeedCache } from '@blend/api';
import { addLike, ensureGroup, FEED_CHANNEL, insertPost, listenForFeedChanges, recordMentions, type FeedChangeListener } from '@blend/db';
import { personWithToken, startTestApi, type TestApi } from './support/api';

// The API's feed cache against real Postgres: a hit is byte for byte what a fresh read gives
// each reader, every change to what a page shows (whoever writes it) empties the cache through
// NOTIFY, and the cache is off while the listening connection is down.
let api: TestApi;
let app: FastifyInstance;
let cache: FeedCache;
let listener: FeedChangeListener;
/** The test's own LISTEN connection: which statements notify, in order. */
let probe: pg.Client;
const heard: string[] = [];
const who: Record<string, { id: string; token: string }> = {};
const posts: string[] = [];
let groupId: string;

beforeAll(async () => {
  api = await startTestApi({ addressing: { mode: 'domain', domain: 'cache.test' } });
  cache = new FeedCache({ maxBytes: 8 * 1024 * 1024, maxAgeMs: 60_000 });
  app = buildApp(api.deps({ feedCache: cache }));
  listener = listenForFeedChanges(api.t.url, { onChange: () => cache.changed(), onListening: (on) => cache.setListening(on) }, { retryMs: 50 });
  probe = new pg.Client({ connectionString: api.t.url });
  await probe.connect();
  probe.on('notification', (n) => heard.push(n.payload ?? ''));
  await probe.query(`LISTEN ${FEED_CHANNEL}`);
  const db = api.t.db;
  for (const name of ['alice', 'bob', 'carol']) who[name] = await personWithToken(db, { email: `${name}@corp.test`, name });
  groupId = (await ensureGroup(db, 'general')).id;
  for (let i = 0; i < 5; i++) {
    const p = await insertPost(db, { groupId, authorId: who.alice!.id, title: `Post ${i}`, bodyText: `body ${i} — ünïcode`, bodyHtml: `<p>body ${i}</p>`, source: 'esn', createdAt: new Date(Date.UTC(2021, 0, 1, 9, i)) });
    posts.push(p.id);
  }
  await addLike(db, posts[1]!, who.bob!.id);
  await addLike(db, posts[3]!, who.bob!.id);
  await addLike(db, posts[3]!, who.carol!.id);
  await recordMentions(db, posts[2]!, null, ['carol@corp.test']);
  await vi.waitFor(() => expect(cache.active).toBe(true), { timeout: 5_000 });
});
afterAll(async () => {
  await listener?.stop();
  await probe?.end();
  await app?.close();
  await api?.close();
});

const get = (url: string, person: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'GET', url, headers: { ...headers, authorization: `Bearer ${who[person]!.token}` } });

/** Wait until the probe has heard the marker sent after `write`, and say whether `write` notified. */
async function notifies(write: () => Promise<unknown>): Promise<boolean> {
  heard.length = 0;
  await write();
  const marker = `marker-${Math.random()}`;
  await api.t.pool.query('select pg_notify($1, $2)', [FEED_CHANNEL, marker]);
  await vi.waitFor(() => expect(heard).toContain(marker), { timeout: 5_000 });
  return heard.indexOf(marker) > 0;
}

describe('hits', () => {
  it.each([
    ['the first page', '/api/v1/feed'],
    ['a small page with a cursor after it', '/api/v1/feed?limit=2&comments=0'],
    ['a group', '/api/v1/feed?group=general'],
    ['an author', '/api/v1/feed?author=alice%40corp.test'],
  ])('%s: a hit is byte for byte a fresh read, for each reader and their likes', async (_name, url) => {
    expect((await get(url, 'alice')).headers['x-blend-cache']).toMatch(/^(miss|hit)$/);
    for (const person of ['alice', 'bob', 'carol']) {
      const hit = await get(url, person);
      expect(hit.statusCode, hit.body).toBe(200);
      expect(hit.headers['x-blend-cache']).toBe('hit');
      expect(hit.headers['content-type']).toBe('application/json; charset=utf-8');
      const fresh = await get(url, person, { 'cache-control': 'no-cache' });
      expect(fresh.headers['x-blend-cache']).toBe('off');
      expect(hit.body).toBe(fresh.body);
    }
    const liked = (body: string) => (JSON.parse(body) as { items: { id: string; reactions: { liked_by_me: boolean } }[] }).items.filter((p) => p.reactions.liked_by_me).map((p) => p.id);
    if (url === '/api/v1/feed') expect(liked((await get(url, 'bob')).body).sort()).toEqual([posts[1], posts[3]].sort());
  });

  it('the next page of a cached page comes through its own cursor', async () => {
    const first = (await get('/api/v1/feed?limit=2', 'bob')).json() as { items: { id: string }[]; next_cursor: string };
    const url = `/api/v1/feed?limit=2&cursor=${encodeURIComponent(first.next_cursor)}`;
    await get(url, 'alice');
    const hit = await get(url, 'bob');
    expect(hit.headers['x-blend-cache']).toBe('hit');
    expect((hit.json() as { items: { id: string }[] }).items.map((p) => p.id)).toEqual([posts[2], posts[1]]);
  });

  it('answers 304 to a reader whose copy is current, until the page or their likes change', async () => {
    const first = await get('/api/v1/feed', 'bob');
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[^"]+"$/);
    expect(first.headers['cache-control']).toBe('private, no-cache');
    const again = await get('/api/v1/feed', 'bob', { 'if-none-match': etag });
    expect([again.statusCode, again.headers['x-blend-cache'], again.body]).toEqual([304, 'hit', '']);
    // Another reader with other likes has another tag.
    const alice = await get('/api/v1/feed', 'alice');
    expect(alice.headers.etag).not.toBe(etag);
    expect((await get('/api/v1/feed', 'alice', { 'if-none-match': etag })).statusCode).toBe(200);
    // Bob likes one more post through the API: his copy is stale.
    const liked = await app.inject({ method: 'POST', url: `/api/v1/posts/${posts[0]}/reactions`, headers: { authorization: `Bearer ${who.bob!.token}` }, payload: { kind: 'like' } });
    expect(liked.statusCode, liked.body).toBeLessThan(300);
    const changed = await get('/api/v1/feed', 'bob', { 'if-none-match': etag });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect((await get('/api/v1/feed', 'bob', { 'if-none-match': changed.headers.etag as string })).statusCode).toBe(304);
    await app.inject({ method: 'DELETE', url: `/api/v1/posts/${posts[0]}/reactions`, headers: { authorization: `Bearer ${who.bob!.token}` } });
  });

  it('mentions=me is kept per reader', async () => {
    await get('/api/v1/feed?mentions=me', 'carol');
    await get('/api/v1/feed?mentions=me', 'bob');
    const carol = await get('/api/v1/feed?mentions=me', 'carol');
    const bob = await get('/api/v1/feed?mentions=me', 'bob');
    expect([carol.headers['x-blend-cache'], bob.headers['x-blend-cache']]).toEqual(['hit', 'hit']);
    expect((carol.json() as { items: { id: string }[] }).items.map((p) => p.id)).toEqual([posts[2]]);
    expect((bob.json() as { items: unknown[] }).items).toEqual([]);
  });

  it('ActivityStreams answers and refused caching are read afresh', async () => {
    await get('/api/v1/feed', 'alice');
    expect((await get('/api/v1/feed', 'alice', { accept: 'application/activity+json' })).headers['x-blend-cache']).toBe('off');
    expect((await get('/api/v1/feed', 'alice', { 'cache-control': 'no-store' })).headers['x-blend-cache']).toBe('off');
    expect((await get('/api/v1/feed', 'alice')).headers['x-blend-cache']).toBe('hit');
  });
});

describe('changes empty the cache', () => {
  const q = (text: string, values: unknown[] = []) => () => api.t.pool.query(text, values);
  const ids = () => ({ post: posts[0]!, bob: who.bob!.id, carol: who.carol!.id });
  // What a worker or the CLI writes: heard through NOTIFY, not through the API.
  it.each<[string, () => () => Promise<unknown>]>([
    ['a comment', () => q(`insert into comments (post_id, author_id, body_text, body_html, source) values ($1, $2, 'new', '<p>new</p>', 'email')`, [ids().post, ids().bob])],
    ['a like', () => q(`insert into reactions (post_id, person_id, kind) values ($1, $2, 'like')`, [ids().post, ids().carol])],
    ['a tag', () => q(`insert into post_tags (post_id, tag, post_created_at) select id, 'fresh', created_at from posts where id = $1`, [ids().post])],
    ['a post edited', () => q(`update posts set title = 'Edited', edited_at = now() where id = $1`, [ids().post])],
    ['an author renamed', () => q(`update people set name = 'Robert' where id = $1`, [ids().bob])],
    ['a group renamed', () => q(`update groups set name = 'Everyone' where slug = 'general'`)],
    ['a reply withheld', () => q(`insert into inbound_messages (mailbox, uid_validity, uid, size, state, post_id) values ('INBOX', 1, 1, 10, 'withheld', $1)`, [ids().post])],
    ['a withheld reply released', () => q(`update inbound_messages set state = 'commented' where uid = 1`)],
  ])('%s', async (_name, write) => {
    await get('/api/v1/feed', 'alice');
    expect((await get('/api/v1/feed', 'alice')).headers['x-blend-cache']).toBe('hit');
    expect(await notifies(write())).toBe(true);
    await vi.waitFor(() => expect(cache.size.pages).toBe(0), { timeout: 5_000 });
    const after = await get('/api/v1/feed', 'alice');
    expect(after.headers['x-blend-cache']).toBe('miss');
    expect(after.body).toBe((await get('/api/v1/feed', 'alice', { 'cache-control': 'no-cache' })).body);
  });

  it.each<[string, () => () => Promise<unknown>]>([
    ['mail received, not on a post', () => q(`insert into inbound_messages (mailbox, uid_validity, uid, size) values ('INBOX', 1, 2, 10)`)],
    ['mail processed', () => q(`update inbound_messages set state = 'posted' where uid = 2`)],
    ['an opt-in changed', () => q(`update people set opt_in = 'opted_out' where id = $1`, [ids().carol])],
    ['a person added', () => q(`insert into people (email, name) values ('dave@corp.test', 'Dave')`)],
  ])('%s does not', async (_name, write) => {
    expect(await notifies(write())).toBe(false);
  });

  it('a comment through the API is in the next page at once (read your own writes)', async () => {
    await get('/api/v1/feed', 'alice');
    const posted = await app.inject({ method: 'POST', url: `/api/v1/posts/${posts[4]}/comments`, headers: { authorization: `Bearer ${who.bob!.token}` }, payload: { body: 'straight in' } });
    expect(posted.statusCode, posted.body).toBe(201);
    const next = await get('/api/v1/feed', 'alice');
    expect(next.headers['x-blend-cache']).toBe('miss');
    expect(next.body).toContain('straight in');
  });
});

/** A gauge's value on an API's /metrics. */
async function metric(name: string, on = app): Promise<number | undefined> {
  const body = (await on.inject({ method: 'GET', url: '/metrics' })).body;
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(body);
  return m ? Number(m[1]) : undefined;
}

describe('listening', () => {
  it('says on /metrics whether the cache is working', async () => {
    const own = new FeedCache({ maxBytes: 1024 * 1024, maxAgeMs: 60_000 });
    const other = buildApp(api.deps({ feedCache: own }));
    try {
      expect(await metric('blend_api_feed_cache_active', other)).toBe(0); // has never heard Postgres
      own.setListening(true);
      expect(await metric('blend_api_feed_cache_active', other)).toBe(1);
      own.setListening(false);
      expect(await metric('blend_api_feed_cache_active', other)).toBe(0);
    } finally {
      await other.close();
    }
  });

  it("shows how full Postgres' NOTIFY queue gets while a listening session stops reading", async () => {
    // A session that LISTENs and sits in a transaction holds the queue's tail, as a frozen
    // API process would.
    const stuck = new pg.Client({ connectionString: api.t.url });
    await stuck.connect();
    try {
      await stuck.query(`LISTEN ${FEED_CHANNEL}`);
      await stuck.query('BEGIN');
      await stuck.query('select 1');
      // ~2 MB of notifications: a few pages of the queue (its usage moves a page at a time).
      for (let i = 0; i < 300; i++) await api.t.pool.query(`select pg_notify($1, $2 || repeat('x', 7000))`, [FEED_CHANNEL, String(i)]);
      expect(await metric('blend_pg_notify_queue_usage')).toBeGreaterThan(0);
    } finally {
      await stuck.query('ROLLBACK').catch(() => undefined);
      await stuck.end();
    }
  });

  it('is off while the listening connection is down, and on again once it is back', async () => {
    await get('/api/v1/feed', 'alice');
    const killed = await api.t.pool.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'blend-feed-listener' and datname = current_database()`);
    expect(killed.rowCount).toBe(1);
    await vi.waitFor(() => expect(cache.active).toBe(false), { timeout: 5_000 });
    expect(cache.size.pages).toBe(0);
    expect((await get('/api/v1/feed', 'alice')).headers['x-blend-cache']).toBe('off');
    await vi.waitFor(() => expect(cache.active).toBe(true), { timeout: 5_000 });
    expect((await get('/api/v1/feed', 'alice')).headers['x-blend-cache']).toBe('miss');
    expect((await get('/api/v1/feed', 'alice')).headers['x-blend-cache']).toBe('hit');
    // Heard again after the reconnect.
    await insertPost(api.t.db, { groupId, authorId: who.carol!.id, title: 'After', bodyText: 'after', bodyHtml: '<p>after</p>', source: 'esn' });
    await vi.waitFor(() => expect(cache.size.pages).toBe(0), { timeout: 5_000 });
    expect((await get('/api/v1/feed', 'alice')).body).toContain('After');
  });
});
