import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { eq } from 'drizzle-orm';
import { createWebhook, digestActivity, ensureGroup, schema, storeAttachments, type EsnPostView } from '@blend/db';
import { buildApp } from '../services/api/src/app';
import { personWithToken, sessionCookie, startTestApi, type TestApi } from './support/api';

// Groups people can use: create, rename, archive, join, leave, members, and private
// groups whose posts only members see (docs/SECURITY.md, private groups). app.inject() on real
// Postgres and Redis.
let api: TestApi;
let app: FastifyInstance;
let open: FastifyInstance;
const who: Record<string, { id: string; token: string }> = {};

beforeAll(async () => {
  api = await startTestApi({ addressing: { mode: 'domain', domain: 'bridge.test' } });
  app = api.app;
  // The same database, with BLEND_GROUP_CREATION=everyone.
  open = buildApp(api.deps({ groupCreation: 'everyone' }));
  who.admin = await personWithToken(api.t.db, { email: 'ida@corp.test', name: 'Ida', isAdmin: true });
  who.owner = await personWithToken(api.t.db, { email: 'olga@corp.test', name: 'Olga' });
  who.member = await personWithToken(api.t.db, { email: 'max@corp.test', name: 'Max' });
  who.outsider = await personWithToken(api.t.db, { email: 'otto@corp.test', name: 'Otto' });
  who.pending = await personWithToken(api.t.db, { email: 'pia@corp.test', name: 'Pia', optIn: false });
  await ensureGroup(api.t.db, 'general');
});
afterAll(async () => {
  await open?.close();
  await api?.close();
});

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
const req = (method: Method, url: string, as: string, payload?: unknown, on: FastifyInstance = app, headers: Record<string, string> = {}) =>
  on.inject({ method, url, headers: { ...headers, authorization: `Bearer ${who[as]!.token}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });
const code = (res: { json(): unknown }) => (res.json() as { error: { code: string } }).error.code;
const slugs = async (as: string) => ((await req('GET', '/api/v1/groups', as)).json() as { items: { slug: string }[] }).items.map((g) => g.slug);

describe('creating groups', () => {
  it('an admin creates a public and a private group and owns them', async () => {
    const res = await req('POST', '/api/v1/groups', 'admin', { slug: 'design', name: 'Design', description: 'Pixels' });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers.location).toBe('/api/v1/groups/design');
    expect(res.json()).toMatchObject({ slug: 'design', name: 'Design', description: 'Pixels', visibility: 'public', archived: false, address: 'design@bridge.test', my_role: 'owner', member_count: 1 });
  });

  it('a person cannot create a group while only admins may (BLEND_GROUP_CREATION=admins)', async () => {
    const res = await req('POST', '/api/v1/groups', 'owner', { slug: 'board', visibility: 'private' });
    expect(res.statusCode).toBe(403);
    expect(code(res)).toBe('FORBIDDEN');
  });

  it('with BLEND_GROUP_CREATION=everyone an opted-in person creates one and owns it; one not opted in cannot', async () => {
    const res = await req('POST', '/api/v1/groups', 'owner', { slug: 'board', name: 'Board', visibility: 'private' }, open);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ visibility: 'private', my_role: 'owner', members: [{ email: 'olga@corp.test', role: 'owner' }] });
    expect((await req('POST', '/api/v1/groups', 'pending', { slug: 'mine' }, open)).statusCode).toBe(403);
  });

  it.each([
    [{ slug: 'design' }, 409],
    [{ slug: 'postmaster' }, 400],
    [{ slug: 'status' }, 400],
    [{ slug: 'Bad Slug' }, 400],
    [{ slug: 'x', visibility: 'secret' }, 400],
  ])('%j is %i', async (body, status) => {
    expect((await req('POST', '/api/v1/groups', 'admin', body)).statusCode).toBe(status);
  });
});

describe('joining, leaving and members', () => {
  it('anyone opted in joins and leaves a public group (idempotent), and the member list follows', async () => {
    expect((await req('POST', '/api/v1/groups/design/members/me', 'member')).json()).toEqual({ member: true });
    expect((await req('POST', '/api/v1/groups/design/members/me', 'member')).json()).toEqual({ member: true });
    const members = (await req('GET', '/api/v1/groups/design/members', 'outsider')).json() as { items: { email: string; role: string }[] };
    expect(members.items.map((m) => [m.email, m.role])).toEqual([
      ['ida@corp.test', 'owner'],
      ['max@corp.test', 'member'],
    ]);
    expect((await req('DELETE', '/api/v1/groups/design/members/me', 'member')).json()).toEqual({ member: false });
    expect((await req('DELETE', '/api/v1/groups/design/members/me', 'member')).statusCode).toBe(200);
    expect((await req('GET', '/api/v1/groups/design', 'member')).json()).toMatchObject({ member_count: 1, my_role: null });
  });

  it('a person not opted in cannot join', async () => {
    expect((await req('POST', '/api/v1/groups/design/members/me', 'pending')).statusCode).toBe(403);
  });

  it('an outsider cannot see, list or join a private group: 404 as if it did not exist', async () => {
    expect(await slugs('outsider')).not.toContain('board');
    for (const [method, url] of [
      ['GET', '/api/v1/groups/board'],
      ['GET', '/api/v1/groups/board/members'],
      ['POST', '/api/v1/groups/board/members/me'],
      ['PATCH', '/api/v1/groups/board'],
      ['PUT', '/api/v1/groups/board/follow'],
    ] as const) {
      const res = await req(method, url, 'outsider', method === 'PATCH' ? { name: 'Mine' } : undefined);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect((await req(method, url.replace('board', 'no-such-group'), 'outsider', method === 'PATCH' ? { name: 'Mine' } : undefined)).json()).toEqual({
        error: { ...(res.json() as { error: object }).error, message: 'no group no-such-group' },
      });
    }
  });

  it('only the owner (or an admin) adds someone to a private group; a plain member cannot', async () => {
    const added = await req('POST', '/api/v1/groups/board/members', 'owner', { person: 'max@corp.test' });
    expect(added.statusCode, added.body).toBe(200);
    expect(await slugs('member')).toContain('board');
    const res = await req('POST', '/api/v1/groups/board/members', 'member', { person: 'otto@corp.test' });
    expect(res.statusCode).toBe(403);
    expect((await req('DELETE', `/api/v1/groups/board/members/${who.owner!.id}`, 'member')).statusCode).toBe(403);
    // A member joining a private group again is no change; an admin may add themselves.
    expect((await req('POST', '/api/v1/groups/board/members/me', 'member')).json()).toEqual({ member: true });
    expect(await slugs('admin')).toContain('board');
  });
});

describe('a private group\'s posts', () => {
  let secret: EsnPostView;
  let publicPost: EsnPostView;

  beforeAll(async () => {
    await createWebhook(api.t.db, { url: 'https://hooks.example.com/x', events: ['post.created', 'comment.created', 'reaction.created'], format: 'blend', secret: 'k'.repeat(32) });
    const res = await req('POST', '/api/v1/posts', 'member', { group: 'board', title: 'Layoffs', body: 'Confidential plan, cc @otto@corp.test' });
    expect(res.statusCode, res.body).toBe(201);
    secret = res.json() as EsnPostView;
    publicPost = (await req('POST', '/api/v1/posts', 'member', { group: 'general', body: 'Cake in the kitchen' })).json() as EsnPostView;
    const [a] = await api.t.db.select().from(schema.posts).where(eq(schema.posts.id, secret.id));
    await storeAttachments(api.t.db, { postId: a!.id, commentId: null }, [{ plan: { filename: 'plan.txt', declaredType: 'text/plain', size: 4, inline: false, omitted: null, note: null, store: true } as never, content: Buffer.from('plan') }]);
  });

  it('are in members\' feed and hidden from everyone else\'s (JSON and ActivityStreams)', async () => {
    const ids = async (as: string, qs = '') => ((await req('GET', `/api/v1/feed${qs}`, as)).json() as { items: { id: string }[] }).items.map((i) => i.id);
    expect(await ids('member')).toContain(secret.id);
    expect(await ids('owner')).toContain(secret.id);
    expect(await ids('outsider')).not.toContain(secret.id);
    expect(await ids('outsider')).toContain(publicPost.id);
    expect(await ids('outsider', '?group=board')).toEqual([]);
    // Admins manage a private group but read it only as members.
    expect(await ids('admin')).toEqual(expect.arrayContaining([publicPost.id]));
    const as2 = await req('GET', '/api/v1/feed', 'outsider', undefined, app, { accept: 'application/activity+json' });
    expect(as2.statusCode).toBe(200);
    expect(as2.body).not.toContain(secret.id);
  });

  it('answer an outsider 404 (not 403) for the post, its comments, likes, follow and files', async () => {
    expect((await req('GET', `/api/v1/posts/${secret.id}`, 'member')).statusCode).toBe(200);
    for (const [method, url, body] of [
      ['GET', `/api/v1/posts/${secret.id}`, undefined],
      ['POST', `/api/v1/posts/${secret.id}/comments`, { body: 'leak?' }],
      ['POST', `/api/v1/posts/${secret.id}/like`, undefined],
      ['PUT', `/api/v1/posts/${secret.id}/follow`, undefined],
    ] as const) {
      const res = await req(method, url, 'outsider', body);
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(404);
    }
    const [file] = await api.t.db.select().from(schema.attachments).where(eq(schema.attachments.postId, secret.id));
    expect((await req('GET', `/api/v1/attachments/${file!.id}`, 'member')).statusCode).toBe(200);
    expect((await req('GET', `/api/v1/attachments/${file!.id}`, 'outsider')).statusCode).toBe(404);
  });

  it('an outsider cannot post into it (404), a member can', async () => {
    expect((await req('POST', '/api/v1/posts', 'outsider', { group: 'board', body: 'hi' })).statusCode).toBe(404);
  });

  it('send nothing to webhooks; a public post does', async () => {
    // One post in each: only the public one's post.created is delivered.
    const created = await api.t.db.select().from(schema.webhookDeliveries).where(eq(schema.webhookDeliveries.event, 'post.created'));
    expect(created).toHaveLength(1);
    expect(publicPost.id).toBeTruthy();
  });

  it('notify and digest only members, even one mentioned', async () => {
    const notified = (await api.t.db.select().from(schema.notifications).where(eq(schema.notifications.postId, secret.id))).map((n) => n.personId);
    expect(notified).not.toContain(who.outsider!.id);
    const since = new Date(Date.now() - 3_600_000);
    const until = new Date(Date.now() + 60_000);
    const digestIds = async (as: string) => (await digestActivity(api.t.db, who[as]!.id, since, until)).map((i) => i.postId);
    expect(await digestIds('outsider')).not.toContain(secret.id);
    expect(await digestIds('owner')).toContain(secret.id);
  });

  it('leaving hides them again', async () => {
    await req('DELETE', '/api/v1/groups/board/members/me', 'member');
    expect((await req('GET', `/api/v1/posts/${secret.id}`, 'member')).statusCode).toBe(404);
    await req('POST', '/api/v1/groups/board/members', 'owner', { person: who.member!.id });
    expect((await req('GET', `/api/v1/posts/${secret.id}`, 'member')).statusCode).toBe(200);
  });
});

describe('renaming and archiving', () => {
  it('only owners and admins rename and describe', async () => {
    expect((await req('PATCH', '/api/v1/groups/board', 'member', { name: 'Mine' })).statusCode).toBe(403);
    const res = await req('PATCH', '/api/v1/groups/board', 'owner', { name: 'The Board', description: 'Decisions' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ name: 'The Board', description: 'Decisions', slug: 'board' });
    expect((await req('PATCH', '/api/v1/groups/board', 'owner', {})).statusCode).toBe(400);
  });

  it('an archived group is read-only: no posts, comments, likes or joins; unarchiving opens it again', async () => {
    const post = (await req('POST', '/api/v1/posts', 'admin', { group: 'design', body: 'Old news' })).json() as EsnPostView;
    const res = await req('PATCH', '/api/v1/groups/design', 'admin', { archived: true });
    expect(res.json()).toMatchObject({ archived: true });
    expect((await req('POST', '/api/v1/posts', 'admin', { group: 'design', body: 'more' })).statusCode).toBe(403);
    expect((await req('POST', `/api/v1/posts/${post.id}/comments`, 'member', { body: 'late' })).statusCode).toBe(403);
    expect((await req('POST', '/api/v1/groups/design/members/me', 'member')).statusCode).toBe(403);
    expect((await req('GET', `/api/v1/posts/${post.id}`, 'member')).statusCode).toBe(200);
    await req('PATCH', '/api/v1/groups/design', 'admin', { archived: false });
    expect((await req('POST', '/api/v1/posts', 'admin', { group: 'design', body: 'back' })).statusCode).toBe(201);
  });
});

describe('the group pages (forms with CSRF, no script needed)', () => {
  const cookie = async (as: string) => ({ cookie: await sessionCookie(api.t.db, who[as]!.token) });
  const form = async (url: string, as: string, fields: Record<string, string>, on: FastifyInstance = app) =>
    on.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', ...(await cookie(as)) }, payload: new URLSearchParams(fields).toString() });
  const page = async (url: string, as: string, on: FastifyInstance = app) => on.inject({ method: 'GET', url, headers: await cookie(as) });
  const csrfOf = (body: string) => /name="_csrf" value="([^"]+)"/.exec(body)?.[1] ?? '';

  it('a person joins and leaves a public group from its page; a forged form changes nothing', async () => {
    const res = await page('/web/groups/general', 'outsider');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('general@bridge.test');
    expect(res.body).toContain('Join group');
    expect((await form('/web/groups/general/membership', 'outsider', { _csrf: 'forged', member: 'on' })).statusCode).toBe(403);
    // A session's CSRF token is bound to it: take it from a page of the same session.
    const c = await cookie('outsider');
    const own = await app.inject({ method: 'GET', url: '/web/groups/general', headers: c });
    const joined = await app.inject({ method: 'POST', url: '/web/groups/general/membership', headers: { 'content-type': 'application/x-www-form-urlencoded', ...c }, payload: new URLSearchParams({ _csrf: csrfOf(own.body), member: 'on' }).toString() });
    expect(joined.statusCode).toBe(303);
    expect(joined.headers.location).toBe('/web/groups/general');
    const after = await app.inject({ method: 'GET', url: '/web/groups/general', headers: c });
    expect(after.body).toContain('Leave group');
    expect(after.body).toContain('Otto');
  });

  it('a private group\'s page is Not found (404) to someone who is not a member, and missing from the list', async () => {
    const res = await page('/web/groups/board', 'outsider');
    expect(res.statusCode).toBe(404);
    expect(res.body).toContain('Not found');
    expect((await page('/web/groups', 'outsider')).body).not.toContain('/web/groups/board');
    expect((await page('/web/groups/board', 'member')).statusCode).toBe(200);
  });

  it('shows the create form only to those who may create, and creates from it', async () => {
    expect((await page('/web/groups', 'member')).body).not.toContain('Create group');
    const c = await cookie('member');
    const list = await open.inject({ method: 'GET', url: '/web/groups', headers: c });
    expect(list.body).toContain('Create group');
    const made = await open.inject({ method: 'POST', url: '/web/groups', headers: { 'content-type': 'application/x-www-form-urlencoded', ...c }, payload: new URLSearchParams({ _csrf: csrfOf(list.body), slug: 'webmade', name: 'Web made', visibility: 'private' }).toString() });
    expect(made.statusCode, made.body).toBe(303);
    expect(made.headers.location).toBe('/web/groups/webmade');
    expect((await req('GET', '/api/v1/groups/webmade', 'member')).json()).toMatchObject({ visibility: 'private', my_role: 'owner' });
    expect((await req('GET', '/api/v1/groups/webmade', 'outsider')).statusCode).toBe(404);
  });
});
