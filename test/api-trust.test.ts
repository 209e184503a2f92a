import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ensureGroup, insertComment, insertPost, issueApiToken, storeFetched, finishInbound, upsertPerson, type PostView } from '@blend/db';
import { type TestDatabase } from './support/database';
import { startTestApi, type TestApi } from './support/api';

// Roles, retraction and opt-in through the API, with app.inject() on real Postgres/Redis.
let t: TestDatabase;
let app: FastifyInstance;
let api: TestApi;
const tokens: Record<string, string> = {};
const ids: Record<string, string> = {};

beforeAll(async () => {
  api = await startTestApi({});
  ({ t, app } = api);
  for (const [name, admin, optIn] of [['alice', false, true], ['bob', false, true], ['root', true, true], ['carol', false, false]] as const) {
    const { person } = await upsertPerson(t.db, { email: `${name}@corp.test`, name, isAdmin: admin, optIn });
    ids[name] = person.id;
    tokens[name] = await issueApiToken(t.db, person.id);
  }
  const g = await ensureGroup(t.db, 'general');
  const p = await insertPost(t.db, { groupId: g.id, authorId: ids.alice!, title: 'Alice thread', bodyText: 'words', bodyHtml: '<p>words</p>', source: 'email' });
  ids.post = p.id;
  const c = await insertComment(t.db, { postId: p.id, authorId: ids.bob!, bodyText: 'bob words', bodyHtml: '<p>bob words</p>', source: 'email' });
  ids.comment = c.id;
  const rows = await storeFetched(t.db, 'imap://x', 1, [{ uid: 1, size: 10, raw: Buffer.from('x'), internalDate: null }]);
  await t.db.transaction((tx) => finishInbound(tx, rows[0]!.id, { state: 'rejected', reason: 'dmarc_fail', fromAddress: 'mallory@corp.test', subject: 'spoof' }));
});
afterAll(async () => {
  await api?.close();
});

const req = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, who?: string, payload?: unknown) =>
  app.inject({ method, url, headers: who ? { authorization: `Bearer ${tokens[who]}` } : {}, ...(payload !== undefined ? { payload: payload as object } : {}) });

describe('GET /api/v1/admin/inbound', () => {
  it.each([
    [undefined, 401, 'UNAUTHORIZED'],
    ['alice', 403, 'FORBIDDEN'],
  ])('as %s is %i', async (who, status, code) => {
    const res = await req('GET', '/api/v1/admin/inbound', who);
    expect(res.statusCode).toBe(status);
    expect(res.json()).toMatchObject({ error: { code } });
  });

  it('lists inbound mail with sender, subject, state and reason for an admin', async () => {
    const res = await req('GET', '/api/v1/admin/inbound?state=rejected', 'root');
    expect(res.statusCode).toBe(200);
    expect((res.json() as { items: unknown[] }).items).toEqual([
      expect.objectContaining({ sender: 'mallory@corp.test', subject: 'spoof', state: 'rejected', reason: 'dmarc_fail', post_id: null }),
    ]);
  });

  it('validates the state filter', async () => {
    expect((await req('GET', '/api/v1/admin/inbound?state=bogus', 'root')).statusCode).toBe(400);
  });
});

describe('GET /api/v1/me and PUT /api/v1/me/opt-in', () => {
  it('shows the signed-in person', async () => {
    expect((await req('GET', '/api/v1/me', 'carol')).json()).toMatchObject({ email: 'carol@corp.test', opt_in: 'pending', admin: false });
  });

  it('opts in and out', async () => {
    expect((await req('PUT', '/api/v1/me/opt-in', 'carol', { state: 'opted_in' })).json()).toMatchObject({ opt_in: 'opted_in', released: 0 });
    expect((await req('PUT', '/api/v1/me/opt-in', 'carol', { state: 'opted_out' })).json()).toMatchObject({ opt_in: 'opted_out' });
  });

  it.each([[{}], [{ state: 'maybe' }], [{ state: 'opted_in', extra: 1 }]])('rejects %j with 400', async (body) => {
    const res = await req('PUT', '/api/v1/me/opt-in', 'carol', body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'VALIDATION' } });
  });
});

describe('retracting', () => {
  it('lets only the author retract a comment, leaving a tombstone', async () => {
    expect((await req('DELETE', `/api/v1/comments/${ids.comment}`, 'alice')).statusCode).toBe(403);
    expect((await req('DELETE', `/api/v1/comments/${ids.comment}`, 'bob')).statusCode).toBe(204);
    const post = (await req('GET', `/api/v1/posts/${ids.post}`, 'alice')).json() as PostView;
    expect(post.comments).toEqual([expect.objectContaining({ id: ids.comment, deleted: true, body_text: '', body_html: '' })]);
    expect((await req('DELETE', `/api/v1/comments/${ids.comment}`, 'bob')).statusCode).toBe(404);
  });

  it('lets only the sharer un-mirror a thread; it leaves the feed and keeps a tombstone', async () => {
    expect((await req('POST', `/api/v1/posts/${ids.post}/unmirror`, 'bob')).statusCode).toBe(403);
    expect((await req('POST', `/api/v1/posts/${ids.post}/unmirror`, 'alice')).statusCode).toBe(204);
    const feed = (await req('GET', '/api/v1/feed', 'alice')).json() as { items: PostView[] };
    expect(feed.items.map((p) => p.id)).not.toContain(ids.post);
    expect((await req('GET', `/api/v1/posts/${ids.post}`, 'alice')).json()).toMatchObject({ deleted: true, title: '', body_text: '' });
  });
});
