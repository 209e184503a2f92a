import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { eq } from 'drizzle-orm';
import { ensureGroup, finishInbound, insertComment, insertPost, issueApiToken, schema, setOptIn, storeFetched, upsertPerson, type EsnPostView } from '@blend/db';
import { type TestDatabase } from './support/database';
import { startTestApi, type TestApi } from './support/api';

// The ESN JSON API with app.inject() on real Postgres and Redis.
let t: TestDatabase;
let app: FastifyInstance;
let api: TestApi;
const tokens: Record<string, string> = {};
const ids: Record<string, string> = {};
const NOPE = '00000000-0000-4000-8000-000000000000';

beforeAll(async () => {
  api = await startTestApi({ addressing: { mode: 'domain', domain: 'bridge.test' } });
  ({ t, app } = api);
  for (const [name, optIn] of [['alice', true], ['bob', true], ['carol', false], ['dave', true]] as const) {
    const { person } = await upsertPerson(t.db, { email: `${name}@corp.test`, name: name[0]!.toUpperCase() + name.slice(1), optIn });
    ids[name] = person.id;
    tokens[name] = await issueApiToken(t.db, person.id);
  }
  await setOptIn(t.db, ids.dave!, 'opted_out', 'admin');
  const general = await ensureGroup(t.db, 'general');
  const sales = await ensureGroup(t.db, 'sales', 'Sales');
  ids.general = general.id;
  await t.db.insert(schema.groupMembers).values([{ groupId: sales.id, personId: ids.alice! }, { groupId: sales.id, personId: ids.bob!, role: 'owner' }]);
  const mail = await insertPost(t.db, { groupId: general.id, authorId: ids.bob!, title: 'From mail', bodyText: 'mailed', bodyHtml: '<p>mailed</p>', source: 'email', createdAt: new Date(Date.UTC(2026, 0, 1)) });
  ids.mailPost = mail.id;
  await insertComment(t.db, { postId: mail.id, authorId: ids.alice!, bodyText: 'reply', bodyHtml: '<p>reply</p>', source: 'email' });
  const rows = await storeFetched(t.db, 'imap://x', 1, [{ uid: 1, size: 10, raw: Buffer.from('x'), internalDate: null }]);
  await t.db.transaction((tx) => finishInbound(tx, rows[0]!.id, { state: 'withheld', reason: 'not_opted_in', postId: mail.id }));
});
afterAll(async () => {
  await api?.close();
});

type Method = 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
const req = (method: Method, url: string, who?: string, payload?: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method, url, headers: { ...headers, ...(who ? { authorization: `Bearer ${tokens[who]}` } : {}) }, ...(payload !== undefined ? { payload: payload as object } : {}) });
const code = (res: { json(): unknown }) => (res.json() as { error: { code: string } }).error.code;
const feed = async (qs: string, who = 'alice') => {
  const res = await req('GET', `/api/v1/feed?${qs}`, who);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { items: EsnPostView[]; next_cursor: string | null };
};

describe('POST /api/v1/posts', () => {
  it('posts a status into a group as source esn, plain text rendered as safe HTML', async () => {
    const res = await req('POST', '/api/v1/posts', 'alice', { group: 'sales', body: 'Q3 is <b>done</b> #Launch #q3\nthanks @bob@corp.test' });
    expect(res.statusCode).toBe(201);
    const post = res.json() as EsnPostView;
    ids.statusPost = post.id;
    expect(res.headers.location).toBe(`/api/v1/posts/${post.id}`);
    expect(post).toMatchObject({ source: 'esn', title: 'Q3 is <b>done</b> #Launch #q3', group: { slug: 'sales', name: 'Sales' }, tags: ['launch', 'q3'], edited_at: null, attachments: [], reactions: { like: 0, liked_by_me: false }, withheld_replies: 0, comments: [] });
    expect(post.body_html).toBe('<p>Q3 is &lt;b&gt;done&lt;/b&gt; #Launch #q3<br />thanks @bob@corp.test</p>');
  });

  it('takes an explicit title', async () => {
    const res = await req('POST', '/api/v1/posts', 'bob', { group: 'general', title: 'Lunch', body: 'Pizza at noon' });
    expect(res.json()).toMatchObject({ title: 'Lunch', body_text: 'Pizza at noon' });
    ids.lunch = (res.json() as EsnPostView).id;
  });

  it.each([
    ['carol', 'pending'],
    ['dave', 'opted out'],
  ])('is 403 for %s (%s), who can still read', async (who) => {
    const res = await req('POST', '/api/v1/posts', who, { group: 'general', body: 'hi' });
    expect(res.statusCode).toBe(403);
    expect(code(res)).toBe('FORBIDDEN');
    expect((await req('GET', '/api/v1/feed', who)).statusCode).toBe(200);
  });

  it.each([[{}], [{ group: 'general' }], [{ group: 'general', body: '' }], [{ group: 'general', body: 'x', extra: 1 }], [{ group: 'Bad Slug!', body: 'x' }], [{ group: 'general', body: '  \n ' }]])(
    'rejects %j with 400',
    async (body) => {
      const res = await req('POST', '/api/v1/posts', 'alice', body);
      expect(res.statusCode).toBe(400);
      expect(code(res)).toBe('VALIDATION');
    },
  );

  it('is 404 for an unknown group and 401 without a token', async () => {
    expect((await req('POST', '/api/v1/posts', 'alice', { group: 'nope', body: 'x' })).statusCode).toBe(404);
    expect((await req('POST', '/api/v1/posts', undefined, { group: 'general', body: 'x' })).statusCode).toBe(401);
  });
});

describe('comments, reactions and edits', () => {
  it('comments on a thread', async () => {
    const res = await req('POST', `/api/v1/posts/${ids.mailPost}/comments`, 'alice', { body: 'From the ESN' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ source: 'esn', body_text: 'From the ESN', body_html: '<p>From the ESN</p>', edited_at: null, author: { email: 'alice@corp.test' } });
    ids.comment = (res.json() as { id: string }).id;
  });

  it.each([
    [NOPE, 'alice', { body: 'x' }, 404],
    ['not-a-uuid', 'alice', { body: 'x' }, 404],
    ['MAIL', 'carol', { body: 'x' }, 403],
    ['MAIL', 'alice', { body: '' }, 400],
    ['MAIL', 'alice', { text: 'x' }, 400],
    ['MAIL', undefined, { body: 'x' }, 401],
  ])('POST comment on %s as %s with %j is %i', async (id, who, body, status) => {
    expect((await req('POST', `/api/v1/posts/${id === 'MAIL' ? ids.mailPost : id}/comments`, who, body)).statusCode).toBe(status);
  });

  it('likes idempotently and takes the like back', async () => {
    const url = `/api/v1/posts/${ids.mailPost}/reactions`;
    expect((await req('POST', url, 'alice')).json()).toMatchObject({ like: 1, liked_by_me: true });
    expect((await req('POST', url, 'alice')).json()).toMatchObject({ like: 1, liked_by_me: true });
    expect((await req('POST', url, 'bob')).json()).toMatchObject({ like: 2, liked_by_me: true });
    expect((await req('DELETE', url, 'bob')).json()).toMatchObject({ like: 1, liked_by_me: false });
    expect((await req('DELETE', url, 'bob')).json()).toMatchObject({ like: 1, liked_by_me: false });
    expect((await req('POST', url, 'carol')).statusCode).toBe(403);
    expect((await req('POST', `/api/v1/posts/${NOPE}/reactions`, 'alice')).statusCode).toBe(404);
    expect((await req('DELETE', url)).statusCode).toBe(401);
  });

  it('lets only the author edit a post, and marks it edited', async () => {
    const url = `/api/v1/posts/${ids.statusPost}`;
    expect((await req('PATCH', url, 'bob', { body: 'hijack' })).statusCode).toBe(403);
    const res = await req('PATCH', url, 'alice', { title: 'Q3 done', body: 'Q3 is done #shipped' });
    expect(res.statusCode).toBe(200);
    const post = res.json() as EsnPostView;
    expect(post).toMatchObject({ title: 'Q3 done', body_text: 'Q3 is done #shipped', tags: ['shipped'] });
    expect(post.edited_at).toEqual(expect.any(String));
    expect((await req('PATCH', url, 'alice', {})).statusCode).toBe(400);
    expect((await req('PATCH', url, 'alice', { body: 'x', group: 'sales' })).statusCode).toBe(400);
    expect((await req('PATCH', `/api/v1/posts/${NOPE}`, 'alice', { body: 'x' })).statusCode).toBe(404);
  });

  it('lets only the author edit a comment', async () => {
    const url = `/api/v1/comments/${ids.comment}`;
    expect((await req('PATCH', url, 'bob', { body: 'no' })).statusCode).toBe(403);
    const res = await req('PATCH', url, 'alice', { body: 'From the ESN (edited)' });
    expect(res.json()).toMatchObject({ id: ids.comment, body_text: 'From the ESN (edited)', edited_at: expect.any(String) });
    expect((await req('PATCH', `/api/v1/comments/${NOPE}`, 'alice', { body: 'x' })).statusCode).toBe(404);
    expect((await req('PATCH', url, 'alice', { body: 'x', title: 'y' })).statusCode).toBe(400);
  });
});

describe('GET /api/v1/feed and /api/v1/posts/:id', () => {
  it('shows reactions, tags, withheld count, attachments and edits on each post', async () => {
    const post = (await req('GET', `/api/v1/posts/${ids.mailPost}`, 'alice')).json() as EsnPostView;
    expect(post).toMatchObject({ source: 'email', withheld_replies: 1, reactions: { like: 1, liked_by_me: true }, attachments: [], tags: [], edited_at: null });
    expect(post.comments.map((c) => [c.body_text, c.source])).toEqual([['reply', 'email'], ['From the ESN (edited)', 'esn']]);
    expect(((await req('GET', `/api/v1/posts/${ids.mailPost}`, 'bob')).json() as EsnPostView).reactions.liked_by_me).toBe(false);
  });

  it.each([
    ['group=sales', ['Q3 done']],
    ['group=general', ['Lunch', 'From mail']],
    ['author=bob@corp.test', ['Lunch', 'From mail']],
    ['author=BOB@corp.test&source=email', ['From mail']],
    ['source=esn', ['Lunch', 'Q3 done']],
    ['tag=shipped', ['Q3 done']],
    ['tag=%23SHIPPED', ['Q3 done']],
    ['tag=launch', []],
    ['group=nope', []],
  ])('filters by %s', async (qs, titles) => {
    expect((await feed(qs)).items.map((p) => p.title)).toEqual(titles);
  });

  it('filters by author id and by mentions of me', async () => {
    expect((await feed(`author=${ids.alice}`)).items.map((p) => p.title)).toEqual(['Q3 done']);
    expect((await feed('mentions=me', 'bob')).items.map((p) => p.title)).toEqual(['Q3 done']);
    expect((await feed('mentions=me', 'alice')).items).toEqual([]);
  });

  it('pages with a cursor', async () => {
    const a = await feed('limit=2');
    expect(a.items).toHaveLength(2);
    const b = await feed(`limit=2&cursor=${a.next_cursor}`);
    expect(b.items.map((p) => p.title)).toEqual(['From mail']);
    expect(b.next_cursor).toBeNull();
  });

  it.each(['limit=0', 'limit=501', 'source=fax', 'mentions=you', 'author=nobody', 'group=Sales!', 'tag=a%20b', 'cursor=xyz', 'other=1'])('rejects ?%s with 400', async (qs) => {
    const res = await req('GET', `/api/v1/feed?${qs}`, 'alice');
    expect(res.statusCode).toBe(400);
    expect(code(res)).toBe('VALIDATION');
  });

  it('needs a token', async () => {
    expect((await req('GET', '/api/v1/feed')).statusCode).toBe(401);
    expect((await req('GET', `/api/v1/posts/${ids.mailPost}`)).statusCode).toBe(401);
  });
});

describe('follows', () => {
  const followRows = () => t.db.select().from(schema.follows).where(eq(schema.follows.personId, ids.alice!));

  it('follows and unfollows a thread and a group, idempotently', async () => {
    for (let i = 0; i < 2; i++) expect((await req('PUT', `/api/v1/posts/${ids.mailPost}/follow`, 'alice')).json()).toEqual({ following: true });
    expect((await req('PUT', '/api/v1/groups/sales/follow', 'alice')).json()).toEqual({ following: true });
    expect(await followRows()).toHaveLength(2);
    expect((await req('DELETE', `/api/v1/posts/${ids.mailPost}/follow`, 'alice')).json()).toEqual({ following: false });
    expect((await req('DELETE', '/api/v1/groups/sales/follow', 'alice')).json()).toEqual({ following: false });
    expect(await followRows()).toHaveLength(0);
  });

  it.each([
    ['PUT', `/api/v1/posts/${NOPE}/follow`, 'alice', 404],
    ['PUT', '/api/v1/groups/nope/follow', 'alice', 404],
    ['PUT', '/api/v1/groups/Bad!/follow', 'alice', 400],
    ['PUT', '/api/v1/groups/sales/follow', 'carol', 403],
    ['DELETE', '/api/v1/groups/sales/follow', undefined, 401],
  ] as const)('%s %s as %s is %i', async (method, url, who, status) => {
    expect((await req(method, url, who)).statusCode).toBe(status);
  });
});

describe('groups', () => {
  it('lists groups with member count and inbound address', async () => {
    await req('PUT', '/api/v1/groups/general/follow', 'bob');
    const { items } = (await req('GET', '/api/v1/groups', 'bob')).json() as { items: unknown[] };
    expect(items).toEqual([
      { id: ids.general, slug: 'general', name: 'general', description: '', visibility: 'public', archived: false, archived_at: null, member_count: 0, address: 'general@bridge.test', followed_by_me: true, my_role: null },
      expect.objectContaining({ slug: 'sales', name: 'Sales', member_count: 2, address: 'sales@bridge.test', followed_by_me: false }),
    ]);
  });

  it('shows one group with its members', async () => {
    const res = await req('GET', '/api/v1/groups/sales', 'carol');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      slug: 'sales',
      member_count: 2,
      members: [
        { id: ids.alice, email: 'alice@corp.test', name: 'Alice', role: 'member' },
        { id: ids.bob, email: 'bob@corp.test', name: 'Bob', role: 'owner' },
      ],
    });
    expect((await req('GET', '/api/v1/groups/nope', 'carol')).statusCode).toBe(404);
    expect((await req('GET', '/api/v1/groups')).statusCode).toBe(401);
  });
});

describe('GET|PUT /api/v1/me/preferences', () => {
  it('shows the defaults and changes some', async () => {
    expect((await req('GET', '/api/v1/me/preferences', 'carol')).json()).toEqual({
      digest_frequency: 'daily', digest_time: '08:00', timezone: 'UTC', notify_mentions: true, notify_replies: true, receipts: true,
      digest_weekday: 1, quiet_start: '22:00', quiet_end: '07:00', language: null,
    });
    const res = await req('PUT', '/api/v1/me/preferences', 'carol', { digest_frequency: 'weekly', digest_time: '17:30', timezone: 'Europe/Berlin', receipts: false, digest_weekday: 5, quiet_start: '23:00', quiet_end: '06:30', language: 'fr' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      digest_frequency: 'weekly', digest_time: '17:30', timezone: 'Europe/Berlin', notify_mentions: true, notify_replies: true, receipts: false,
      digest_weekday: 5, quiet_start: '23:00', quiet_end: '06:30', language: 'fr',
    });
    expect((await req('GET', '/api/v1/me/preferences', 'carol')).json()).toMatchObject({ digest_frequency: 'weekly' });
  });

  it.each([[{}], [{ digest_frequency: 'monthly' }], [{ digest_time: '25:00' }], [{ digest_time: '8:00' }], [{ timezone: 'Mars/Olympus' }], [{ receipts: 'yes' }], [{ digest_weekday: 0 }], [{ digest_weekday: 8 }], [{ quiet_start: '7:00' }], [{ language: 'xx' }], [{ colour: 'blue' }]])(
    'rejects %j with 400',
    async (body) => {
      const res = await req('PUT', '/api/v1/me/preferences', 'carol', body);
      expect(res.statusCode).toBe(400);
      expect(code(res)).toBe('VALIDATION');
    },
  );

  it('needs a token', async () => {
    expect((await req('GET', '/api/v1/me/preferences')).statusCode).toBe(401);
    expect((await req('PUT', '/api/v1/me/preferences', undefined, { receipts: true })).statusCode).toBe(401);
  });
});

describe('ActivityStreams 2.0', () => {
  const AS = { accept: 'application/activity+json' };

  it('serves the feed as an OrderedCollection of Notes', async () => {
    const res = await req('GET', '/api/v1/feed?group=sales', 'alice', undefined, AS);
    expect(res.headers['content-type']).toMatch(/^application\/activity\+json/);
    const body = res.json() as { '@context': string; type: string; orderedItems: { type: string; name: string }[] };
    expect(body['@context']).toBe('https://www.w3.org/ns/activitystreams');
    expect(body.type).toBe('OrderedCollection');
    expect(body.orderedItems.map((n) => [n.type, n.name])).toEqual([['Note', 'Q3 done']]);
  });

  it('serves a post as a Note with replies, author, tags and sanitised content', async () => {
    const res = await req('GET', `/api/v1/posts/${ids.statusPost}`, 'alice', undefined, { accept: 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"' });
    const note = res.json() as Record<string, unknown>;
    expect(note).toMatchObject({
      '@context': 'https://www.w3.org/ns/activitystreams',
      type: 'Note',
      id: `http://localhost:80/api/v1/posts/${ids.statusPost}`,
      name: 'Q3 done',
      content: '<p>Q3 is done #shipped</p>',
      attributedTo: { type: 'Person', id: `urn:uuid:${ids.alice}`, name: 'Alice' },
      published: expect.any(String),
      updated: expect.any(String),
      tag: [{ type: 'Hashtag', name: '#shipped', href: 'http://localhost:80/api/v1/feed?tag=shipped' }],
      replies: { type: 'Collection', totalItems: 0, items: [] },
    });
    const thread = (await req('GET', `/api/v1/posts/${ids.mailPost}`, 'alice', undefined, AS)).json() as { replies: { items: { type: string; inReplyTo: string }[] } };
    expect(thread.replies.items.map((r) => r.type)).toEqual(['Note', 'Note']);
    expect(thread.replies.items[0]!.inReplyTo).toBe(`http://localhost:80/api/v1/posts/${ids.mailPost}`);
  });
});

describe('OpenAPI', () => {
  it('documents the ESN routes from their schemas', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of ['/api/v1/feed', '/api/v1/posts', '/api/v1/posts/{id}/reactions', '/api/v1/me/preferences', '/api/v1/groups/{slug}', '/api/v1/admin/webhooks']) expect(doc.paths).toHaveProperty([p]);
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/web'))).toBe(false);
    expect((await app.inject({ method: 'GET', url: '/docs/json' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/docs/' })).headers['content-type']).toMatch(/text\/html/);
  });
});
