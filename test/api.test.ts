import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { buildApp } from '@blend/api';
import { ensureGroup, insertComment, insertPost, issueApiToken, upsertPerson, type PostView } from '@blend/db';
import { type TestDatabase } from './support/database';
import { startTestApi, type TestApi } from './support/api';

// The API with app.inject() on a real Postgres and Redis.
let t: TestDatabase;
let app: FastifyInstance;
let api: TestApi;
let token: string;
const postIds: string[] = [];

beforeAll(async () => {
  api = await startTestApi({});
  ({ t, app } = api);
  const { person } = await upsertPerson(t.db, { email: 'alice@corp.test', name: 'Alice', optIn: true });
  token = await issueApiToken(t.db, person.id);
  const group = await ensureGroup(t.db, 'general');
  for (let i = 0; i < 5; i++) {
    const p = await insertPost(t.db, {
      groupId: group.id,
      authorId: person.id,
      title: `Post ${i}`,
      bodyText: `Body ${i}`,
      bodyHtml: `<p>Body ${i}</p>`,
      source: 'email',
      createdAt: new Date(Date.UTC(2026, 10, 20, 12, 0, i)),
    });
    postIds.push(p.id);
  }
  await insertComment(t.db, { postId: postIds[0]!, authorId: person.id, bodyText: 'second', bodyHtml: '<p>second</p>', source: 'esn', createdAt: new Date(Date.UTC(2026, 10, 21, 9)) });
  await insertComment(t.db, { postId: postIds[0]!, authorId: person.id, bodyText: 'first', bodyHtml: '<p>first</p>', source: 'email', createdAt: new Date(Date.UTC(2026, 10, 21, 8)) });
});
afterAll(async () => {
  await api?.close();
});

const get = (url: string, auth: string | null = token) =>
  app.inject({ method: 'GET', url, headers: auth === null ? {} : { authorization: auth.startsWith('Bearer') || auth === '' ? auth : `Bearer ${auth}` } });

describe('health', () => {
  it('GET /healthz answers without auth', async () => {
    const res = await get('/healthz', null);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz checks Postgres and Redis', async () => {
    const res = await get('/readyz', null);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
  });

  it('GET /readyz is 503 naming Redis when Redis is unreachable', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
    dead.on('error', () => undefined);
    const other = buildApp(api.deps({ redis: dead }));
    const res = await other.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    const body = res.json() as { status: string; checks: Record<string, string> };
    expect(body.status).toBe('not_ready');
    expect(body.checks.postgres).toBe('ok');
    expect(body.checks.redis).not.toBe('ok');
    await other.close();
    dead.disconnect();
  });
});

describe('GET /api/v1/feed', () => {
  it('pages newest first with an opaque cursor', async () => {
    const first = await get('/api/v1/feed?limit=2');
    expect(first.statusCode).toBe(200);
    const a = first.json() as { items: PostView[]; next_cursor: string };
    expect(a.items.map((p) => p.title)).toEqual(['Post 4', 'Post 3']);
    expect(a.next_cursor).toEqual(expect.any(String));
    const b = (await get(`/api/v1/feed?limit=2&cursor=${a.next_cursor}`)).json() as { items: PostView[]; next_cursor: string };
    expect(b.items.map((p) => p.title)).toEqual(['Post 2', 'Post 1']);
    const c = (await get(`/api/v1/feed?limit=2&cursor=${b.next_cursor}`)).json() as { items: PostView[]; next_cursor: string | null };
    expect(c.items.map((p) => p.title)).toEqual(['Post 0']);
    expect(c.next_cursor).toBeNull();
  });

  it('returns posts in the documented shape', async () => {
    const { items } = (await get('/api/v1/feed?limit=1')).json() as { items: PostView[] };
    expect(items[0]).toEqual({
      id: postIds[4],
      group: { id: expect.any(String), slug: 'general', name: 'general' },
      title: 'Post 4',
      body_text: 'Body 4',
      body_html: '<p>Body 4</p>',
      source: 'email',
      author: { id: expect.any(String), email: 'alice@corp.test', name: 'Alice' },
      created_at: '2026-11-20T12:00:04.000Z',
      comments: [],
      comment_count: 0,
      withheld_replies: 0,
      edited_at: null,
      tags: [],
      reactions: { like: 0, liked_by_me: false, counts: { like: 0, heart: 0, tada: 0, smile: 0, thinking: 0 } },
      attachments: [],
      forwarded: [],
    });
  });

  it.each([
    ['no header', null],
    ['empty header', ''],
    ['wrong scheme', 'Basic abc'],
    ['unknown token', 'blend_unknownunknownunknownunknown'],
  ])('refuses %s with 401 and a JSON error', async (_label, auth) => {
    const res = await get('/api/v1/feed', auth);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
    expect(res.headers['www-authenticate']).toContain('Bearer');
  });

  it.each([
    ['limit=0'],
    ['limit=501'],
    ['limit=abc'],
    ['cursor=not-a-cursor'],
    ['unknown=1'],
  ])('rejects ?%s with 400 VALIDATION', async (qs) => {
    const res = await get(`/api/v1/feed?${qs}`);
    expect(res.statusCode).toBe(400);
    expect((res.json() as { error: { code: string } }).error.code).toBe('VALIDATION');
  });
});

describe('GET /api/v1/posts/:id', () => {
  it('returns the post with its comments in time order', async () => {
    const res = await get(`/api/v1/posts/${postIds[0]}`);
    expect(res.statusCode).toBe(200);
    const post = res.json() as PostView;
    expect(post.comments.map((c) => [c.body_text, c.source])).toEqual([
      ['first', 'email'],
      ['second', 'esn'],
    ]);
  });

  it.each(['00000000-0000-4000-8000-000000000000', 'not-a-uuid'])('is 404 for %s', async (id) => {
    const res = await get(`/api/v1/posts/${id}`);
    expect(res.statusCode).toBe(404);
    expect((res.json() as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });

  it('needs a token', async () => {
    expect((await get(`/api/v1/posts/${postIds[0]}`, null)).statusCode).toBe(401);
  });
});

describe('unknown routes', () => {
  it('answer 404 in the same JSON error shape', async () => {
    const res = await get('/api/v2/nothing');
    expect(res.statusCode).toBe(404);
    expect((res.json() as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});
