import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp, FeedCache } from '@blend/api';
import { addGroupMember, createGroup, ensureGroup, insertPost, listenForFeedChanges, removeGroupMember, type FeedChangeListener } from '@blend/db';
import { personWithToken, startTestApi, type TestApi } from './support/api';

// The shared feed cache and private groups (docs/SECURITY.md B37): a page a member read is never
// served to someone who is not one, and joining or leaving changes what the next page shows.
let api: TestApi;
let app: FastifyInstance;
let cache: FeedCache;
let listener: FeedChangeListener;
const who: Record<string, { id: string; token: string }> = {};
let boardId = '';
let secret = '';
let open = '';

beforeAll(async () => {
  api = await startTestApi({ addressing: { mode: 'domain', domain: 'cache.test' } });
  cache = new FeedCache({ maxBytes: 8 * 1024 * 1024, maxAgeMs: 60_000 });
  app = buildApp(api.deps({ feedCache: cache }));
  listener = listenForFeedChanges(api.t.url, { onChange: () => cache.changed(), onListening: (on) => cache.setListening(on) }, { retryMs: 50 });
  const db = api.t.db;
  for (const name of ['mia', 'otto']) who[name] = await personWithToken(db, { email: `${name}@corp.test`, name });
  const general = await ensureGroup(db, 'general');
  boardId = (await createGroup(db, { slug: 'board', name: 'Board', visibility: 'private', ownerId: who.mia!.id }))!.id;
  open = (await insertPost(db, { groupId: general.id, authorId: who.mia!.id, title: 'Cake', bodyText: 'In the kitchen', bodyHtml: '<p>In the kitchen</p>', source: 'esn' })).id;
  secret = (await insertPost(db, { groupId: boardId, authorId: who.mia!.id, title: 'Reorg', bodyText: 'Board only', bodyHtml: '<p>Board only</p>', source: 'esn' })).id;
  await vi.waitFor(() => expect(cache.active).toBe(true), { timeout: 5_000 });
});
afterAll(async () => {
  await listener?.stop();
  await app?.close();
  await api?.close();
});

const feed = async (person: string) => {
  const res = await app.inject({ method: 'GET', url: '/api/v1/feed', headers: { authorization: `Bearer ${who[person]!.token}` } });
  expect(res.statusCode).toBe(200);
  return { cache: res.headers['x-blend-cache'], ids: (res.json() as { items: { id: string }[] }).items.map((i) => i.id) };
};

describe('the feed cache with a private group', () => {
  it('never serves a member\'s page to someone who is not a member', async () => {
    expect(await feed('mia')).toEqual({ cache: 'miss', ids: [secret, open] });
    expect(await feed('mia')).toEqual({ cache: 'hit', ids: [secret, open] });
    expect(await feed('otto')).toEqual({ cache: 'miss', ids: [open] });
    expect(await feed('otto')).toEqual({ cache: 'hit', ids: [open] });
  });

  it('shows the group\'s posts after joining, and hides them again after leaving', async () => {
    await addGroupMember(api.t.db, boardId, who.otto!.id);
    await vi.waitFor(async () => expect((await feed('otto')).ids).toEqual([secret, open]), { timeout: 5_000 });
    await removeGroupMember(api.t.db, boardId, who.otto!.id);
    await vi.waitFor(async () => expect((await feed('otto')).ids).toEqual([open]), { timeout: 5_000 });
  });
});
