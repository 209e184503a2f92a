import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { OpenAPIV3_1 } from 'openapi-types';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { buildApp } from '@blend/api';
import {
  ensureGroup,
  finishInbound,
  getEsnPostView,
  insertPost,
  listFeedFiltered,
  listInboundRows,
  listWebhooksWithDeliveries,
  schema,
  storeAttachments,
  storeFetched,
  tombstoneComment,
} from '@blend/db';
import { planAttachments } from '@blend/core';
import { personWithToken, startTestApi, type TestApi } from './support/api';

// The OpenAPI document at /docs/openapi.json is valid, every operation in it is driven by a
// real request here, and each answer has a documented status and matches its documented
// schema. A new documented route without a case below fails 'drives every operation'.

let api: TestApi;
let app: FastifyInstance;
let doc: OpenAPIV3_1.Document;
const tokens: Record<string, string> = {};
const ids: Record<string, string> = {};
const NOPE = '00000000-0000-4000-8000-000000000000';
const AS2 = { accept: 'application/activity+json' };

beforeAll(async () => {
  api = await startTestApi({ addressing: { mode: 'domain', domain: 'openapi.test' }, webhookAllowPrivate: true });
  app = api.app;
  const db = api.t.db;
  for (const [name, extra] of [['root', { isAdmin: true }], ['alice', {}], ['carol', { optIn: false }]] as const) {
    const p = await personWithToken(db, { email: `${name}@corp.test`, name, ...extra });
    ids[name] = p.id;
    tokens[name] = p.token;
  }
  const general = await ensureGroup(db, 'general');
  // A mailed post with a forwarded message, so that every optional part of a view shows up.
  const forwarded = [{ from: 'x@ext.test', date: null, subject: 'Fwd', text: 'below' }];
  ids.mailPost = (await insertPost(db, { groupId: general.id, authorId: ids.root!, title: 'Mailed', bodyText: 'm', bodyHtml: '<p>m</p>', source: 'email', forwarded, trimmedText: '> what was quoted' })).id;
  // A file that came with the mailed post.
  await storeAttachments(db, { postId: ids.mailPost, commentId: null }, [
    { plan: planAttachments([{ filename: 'notes.txt', contentType: 'text/plain', size: 5, inline: false }])[0]!, content: Buffer.from('notes') },
  ]);
  ids.file = (await getEsnPostView(db, ids.mailPost, null))!.attachments[0]!.id;
  // A post merged into the mailed one (a later mail proved them one thread): its id redirects there.
  ids.mergedPost = randomUUID();
  await db.insert(schema.postMerges).values({ mergedPostId: ids.mergedPost, survivingPostId: ids.mailPost, kind: 'merged' });
  // Inbound mail for /admin/inbound: one still received (every optional field null), one posted, one rejected.
  const raw = Buffer.from('x');
  const [received, posted, rejected] = await storeFetched(db, 'imap://blend@mail.test:143/INBOX', 1, [1, 2, 3].map((uid) => ({ uid, size: 10, raw, internalDate: null })));
  await db.transaction((tx) => finishInbound(tx, posted!.id, { state: 'posted', postId: ids.mailPost!, messageId: '<m@corp.test>', fromAddress: 'root@corp.test', subject: 'Mailed' }));
  await db.transaction((tx) => finishInbound(tx, rejected!.id, { state: 'rejected', reason: 'dmarc_fail', fromAddress: 'mallory@corp.test', subject: 'spoof' }));
  ids.postedInbound = posted!.id;
  // Its raw mail purged, as retention does.
  ids.purgedInbound = received!.id;
  await db.update(schema.inboundMessages).set({ raw: null }).where(eq(schema.inboundMessages.id, received!.id));
  const res = await app.inject({ method: 'GET', url: '/docs/openapi.json' });
  expect(res.statusCode).toBe(200);
  doc = res.json();
});
afterAll(async () => {
  await api?.close();
});

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;
const operations = () =>
  Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    METHODS.flatMap((m) => (item?.[m] ? [{ key: `${m.toUpperCase()} ${path}`, path, op: item[m] as OpenAPIV3_1.OperationObject }] : [])),
  );

// Strict: an unknown keyword or a type that is no JSON type fails, which the OpenAPI
// meta-schema lets through for 3.1 documents.
const ajv = addFormats(new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true }));
const compiled = new Map<object, ValidateFunction>();
const validator = (schema: object) => compiled.get(schema) ?? compiled.set(schema, ajv.compile(schema)).get(schema)!;

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1 (@apidevtools/swagger-parser)', async () => {
    expect(doc.openapi).toBe('3.1.0');
    // validate() dereferences in place: give it a copy.
    await SwaggerParser.validate(structuredClone(doc));
  });

  it('declares each path parameter of each template, and only those', () => {
    for (const { key, path, op } of operations()) {
      const inPath = ((op.parameters ?? []) as OpenAPIV3_1.ParameterObject[]).filter((p) => p.in === 'path');
      expect(inPath.map((p) => p.name).sort(), key).toEqual([...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort());
      for (const p of inPath) expect(p.required, `${key} ${p.name}`).toBe(true);
    }
  });

  it('has schemas that compile as JSON Schema 2020-12, and a response schema for every 2xx with a body', () => {
    for (const { key, op } of operations()) {
      for (const p of (op.parameters ?? []) as OpenAPIV3_1.ParameterObject[]) validator(p.schema as object);
      for (const media of Object.values((op.requestBody as OpenAPIV3_1.RequestBodyObject | undefined)?.content ?? {})) validator(media.schema as object);
      for (const [status, r] of Object.entries(op.responses ?? {}) as [string, OpenAPIV3_1.ResponseObject][]) {
        if (status.startsWith('2') && status !== '204') expect(Object.keys(r.content ?? {}), `${key} ${status}`).not.toHaveLength(0);
        for (const media of Object.values(r.content ?? {})) validator(media.schema as object);
      }
    }
  });

  it.each([
    ['GET', '/web/login', '/web/'],
    ['POST', '/links/opt-in', '/links/'],
    ['GET', '/metrics', '/metrics'],
    ['GET', '/docs/json', '/docs'],
    ['GET', '/admin/queues', '/admin/'],
  ] as const)('leaves out %s %s (nothing under %s)', (method, url, prefix) => {
    expect(app.hasRoute({ method, url })).toBe(true);
    expect(Object.keys(doc.paths ?? {}).filter((p) => p.startsWith(prefix))).toEqual([]);
  });
});

interface Case {
  method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** The path as the document names it. */
  path: string;
  /** Values for the path's `{params}`, read when the case runs. */
  params?: () => Record<string, string>;
  query?: string;
  who?: string;
  body?: object;
  headers?: Record<string, string>;
  status: number;
  /** Checks beyond the schema; `body` is the parsed answer. */
  then?: (body: never) => unknown | Promise<unknown>;
}

const post = () => ({ id: ids.post! });
const comment = () => ({ id: ids.comment! });
const hook = () => ({ id: ids.hook! });
const general = () => ({ slug: 'general' });
const setId = (name: string) => (b: { id: string }) => (ids[name] = b.id);

// In order: each case may use what the ones before it made.
const CASES: Case[] = [
  { method: 'GET', path: '/api/v1/attachments/{id}', params: () => ({ id: ids.file! }), who: 'carol', status: 200 },
  { method: 'GET', path: '/api/v1/attachments/{id}', params: () => ({ id: NOPE }), who: 'carol', status: 404 },
  { method: 'POST', path: '/api/v1/admin/webhooks', who: 'root', body: { url: 'http://127.0.0.1:9/hook', events: ['post.created', 'comment.created', 'reaction.created'] }, status: 201, then: setId('hook') },
  { method: 'POST', path: '/api/v1/admin/webhooks', who: 'alice', body: { url: 'http://127.0.0.1:9/hook', events: ['post.created'] }, status: 403 },
  { method: 'POST', path: '/api/v1/admin/webhooks', who: 'root', body: { url: 'http://example.test/hook', events: ['post.created'] }, status: 400 },
  { method: 'POST', path: '/api/v1/posts', who: 'alice', body: { group: 'general', body: 'Hello #openapi' }, status: 201, then: setId('post') },
  { method: 'POST', path: '/api/v1/posts', who: 'carol', body: { group: 'general', body: 'hi' }, status: 403 },
  { method: 'POST', path: '/api/v1/posts', who: 'alice', body: { group: 'nope', body: 'hi' }, status: 404 },
  { method: 'POST', path: '/api/v1/posts/{id}/comments', params: post, who: 'alice', body: { body: 'first' }, status: 201, then: setId('comment') },
  { method: 'POST', path: '/api/v1/posts/{id}/comments', params: post, who: 'alice', body: { body: 'second' }, status: 201, then: async (b: { id: string }) => tombstoneComment(api.t.db, b.id) },
  { method: 'POST', path: '/api/v1/posts/{id}/comments', params: () => ({ id: NOPE }), who: 'alice', body: { body: 'x' }, status: 404 },
  { method: 'PATCH', path: '/api/v1/posts/{id}', params: post, who: 'alice', body: { title: 'Hello', body: 'Hello again #openapi' }, status: 200 },
  { method: 'PATCH', path: '/api/v1/posts/{id}', params: () => ({ id: ids.mailPost! }), who: 'alice', body: { body: 'not mine' }, status: 403 },
  { method: 'PATCH', path: '/api/v1/comments/{id}', params: comment, who: 'alice', body: { body: 'first, edited' }, status: 200, then: (c: { edited_at: string | null }) => expect(c.edited_at).not.toBeNull() },
  { method: 'PATCH', path: '/api/v1/comments/{id}', params: comment, who: 'alice', body: { body: 'x', title: 'no' }, status: 400 },
  { method: 'POST', path: '/api/v1/posts/{id}/reactions', params: post, who: 'root', status: 200, then: (r: unknown) => expect(r).toMatchObject({ like: 1, liked_by_me: true, mine: ['like'] }) },
  { method: 'POST', path: '/api/v1/posts/{id}/reactions', params: post, who: 'alice', status: 200 },
  { method: 'DELETE', path: '/api/v1/posts/{id}/reactions', params: post, who: 'alice', status: 200, then: (r: unknown) => expect(r).toMatchObject({ like: 1, liked_by_me: false, mine: [] }) },
  { method: 'POST', path: '/api/v1/posts/{id}/reactions/{kind}', params: () => ({ id: ids.post!, kind: 'tada' }), who: 'alice', status: 200, then: (r: unknown) => expect(r).toMatchObject({ counts: { tada: 1 }, mine: ['tada'] }) },
  { method: 'POST', path: '/api/v1/posts/{id}/reactions/{kind}', params: () => ({ id: ids.post!, kind: 'nope' }), who: 'alice', status: 400 },
  { method: 'DELETE', path: '/api/v1/posts/{id}/reactions/{kind}', params: () => ({ id: ids.post!, kind: 'tada' }), who: 'alice', status: 200, then: (r: unknown) => expect(r).toMatchObject({ counts: { tada: 0 }, mine: [] }) },
  { method: 'PUT', path: '/api/v1/posts/{id}/follow', params: post, who: 'root', status: 200, then: (r: unknown) => expect(r).toEqual({ following: true }) },
  { method: 'DELETE', path: '/api/v1/posts/{id}/follow', params: post, who: 'root', status: 200, then: (r: unknown) => expect(r).toEqual({ following: false }) },
  { method: 'PUT', path: '/api/v1/groups/{slug}/follow', params: general, who: 'alice', status: 200, then: (r: unknown) => expect(r).toEqual({ following: true }) },
  { method: 'PUT', path: '/api/v1/groups/{slug}/follow', params: general, who: 'carol', status: 403 },
  { method: 'DELETE', path: '/api/v1/groups/{slug}/follow', params: () => ({ slug: 'nope' }), who: 'alice', status: 404 },
  { method: 'DELETE', path: '/api/v1/groups/{slug}/follow', params: general, who: 'alice', status: 200, then: (r: unknown) => expect(r).toEqual({ following: false }) },
  { method: 'GET', path: '/api/v1/people', query: 'q=ali', who: 'root', status: 200, then: (r: { items: { email: string }[] }) => expect(r.items.map((p) => p.email)).toEqual(['alice@corp.test']) },
  { method: 'GET', path: '/api/v1/people', who: 'root', status: 400 },
  { method: 'GET', path: '/api/v1/feed', who: 'alice', status: 200, then: (f: { items: { id: string }[] }) => expect(f.items.map((p) => p.id)).toEqual([ids.post, ids.mailPost]) },
  { method: 'GET', path: '/api/v1/feed', query: 'tag=openapi', who: 'alice', headers: AS2, status: 200, then: (c: { type: string }) => expect(c.type).toBe('OrderedCollection') },
  { method: 'GET', path: '/api/v1/feed', query: 'limit=0', who: 'alice', status: 400 },
  { method: 'GET', path: '/api/v1/search', query: 'q=mailed', who: 'alice', status: 200, then: (r: { items: { id: string; highlight: { title: { match: boolean }[] } }[] }) => expect(r.items.map((i) => [i.id, i.highlight.title.some((t) => t.match)])).toEqual([[ids.mailPost, true]]) },
  { method: 'GET', path: '/api/v1/search', query: 'q=%20', who: 'alice', status: 400 },
  { method: 'GET', path: '/api/v1/posts/{id}', params: post, who: 'root', status: 200, then: (p: { comments: { deleted?: true }[] }) => expect(p.comments.map((c) => c.deleted)).toEqual([undefined, true]) },
  { method: 'GET', path: '/api/v1/posts/{id}', params: post, who: 'root', headers: AS2, status: 200, then: (n: { type: string }) => expect(n.type).toBe('Note') },
  { method: 'GET', path: '/api/v1/posts/{id}', params: () => ({ id: 'not-a-uuid' }), who: 'root', status: 404 },
  { method: 'GET', path: '/api/v1/posts/{id}', params: () => ({ id: ids.mergedPost! }), who: 'root', status: 308, then: (m: { merged_into: string }) => expect(m.merged_into).toBe(ids.mailPost) },
  { method: 'GET', path: '/api/v1/groups', who: 'carol', status: 200, then: (g: { items: { slug: string }[] }) => expect(g.items.map((x) => x.slug)).toEqual(['general']) },
  { method: 'GET', path: '/api/v1/groups/{slug}', params: general, who: 'carol', status: 200, then: (g: { slug: string }) => expect(g.slug).toBe('general') },
  { method: 'GET', path: '/api/v1/groups/{slug}', params: () => ({ slug: 'Bad!' }), who: 'carol', status: 400 },
  { method: 'POST', path: '/api/v1/groups', who: 'root', body: { slug: 'team', visibility: 'private' }, status: 201, then: (g: object) => expect(g).toMatchObject({ slug: 'team', visibility: 'private', my_role: 'owner' }) },
  { method: 'POST', path: '/api/v1/groups', who: 'alice', body: { slug: 'mine' }, status: 403 },
  { method: 'POST', path: '/api/v1/groups', who: 'root', body: { slug: 'team' }, status: 409 },
  { method: 'POST', path: '/api/v1/groups', who: 'root', body: { slug: 'postmaster' }, status: 400 },
  { method: 'PATCH', path: '/api/v1/groups/{slug}', params: () => ({ slug: 'team' }), who: 'root', body: { name: 'Team' }, status: 200, then: (g: object) => expect(g).toMatchObject({ name: 'Team' }) },
  { method: 'PATCH', path: '/api/v1/groups/{slug}', params: () => ({ slug: 'team' }), who: 'alice', body: { name: 'Mine' }, status: 404 },
  { method: 'GET', path: '/api/v1/groups/{slug}/members', params: () => ({ slug: 'team' }), who: 'carol', status: 404 },
  { method: 'POST', path: '/api/v1/groups/{slug}/members', params: () => ({ slug: 'team' }), who: 'root', body: { person: 'alice@corp.test' }, status: 200, then: (m: { items: { email: string }[] }) => expect(m.items.map((x) => x.email)).toEqual(['alice@corp.test', 'root@corp.test']) },
  { method: 'GET', path: '/api/v1/groups/{slug}/members', params: () => ({ slug: 'team' }), who: 'alice', status: 200, then: (m: { items: unknown[] }) => expect(m.items).toHaveLength(2) },
  { method: 'POST', path: '/api/v1/groups/{slug}/members/me', params: () => ({ slug: 'team' }), who: 'carol', status: 404 },
  { method: 'POST', path: '/api/v1/groups/{slug}/members/me', params: general, who: 'alice', status: 200, then: (m: unknown) => expect(m).toEqual({ member: true }) },
  { method: 'DELETE', path: '/api/v1/groups/{slug}/members/me', params: general, who: 'alice', status: 200, then: (m: unknown) => expect(m).toEqual({ member: false }) },
  { method: 'DELETE', path: '/api/v1/groups/{slug}/members/{person}', params: () => ({ slug: 'team', person: 'alice@corp.test' }), who: 'alice', status: 403 },
  { method: 'DELETE', path: '/api/v1/groups/{slug}/members/{person}', params: () => ({ slug: 'team', person: 'alice@corp.test' }), who: 'root', status: 200, then: (m: { items: unknown[] }) => expect(m.items).toHaveLength(1) },
  { method: 'GET', path: '/api/v1/me/preferences', who: 'carol', status: 200, then: (p: { digest_frequency: string }) => expect(p.digest_frequency).toBe('daily') },
  { method: 'PUT', path: '/api/v1/me/preferences', who: 'carol', body: { digest_frequency: 'weekly', quiet_start: '23:00' }, status: 200, then: (p: object) => expect(p).toMatchObject({ digest_frequency: 'weekly', quiet_start: '23:00' }) },
  { method: 'PUT', path: '/api/v1/me/preferences', who: 'carol', body: {}, status: 400 },
  { method: 'PUT', path: '/api/v1/me/preferences', who: 'carol', body: { language: 'de' }, status: 200, then: (p: object) => expect(p).toMatchObject({ language: 'de' }) },
  { method: 'PUT', path: '/api/v1/me/preferences', who: 'carol', body: { language: null }, status: 200, then: (p: object) => expect(p).toMatchObject({ language: null }) },
  { method: 'PUT', path: '/api/v1/me/preferences', who: 'carol', body: { language: 'xx' }, status: 400 },
  {
    method: 'GET',
    path: '/api/v1/admin/webhooks',
    who: 'root',
    status: 200,
    then: (h: { items: { deliveries: { event: string }[] }[] }) =>
      expect(h.items[0]!.deliveries.map((d) => d.event).sort()).toEqual(['comment.created', 'comment.created', 'post.created', 'reaction.created', 'reaction.created', 'reaction.created']),
  },
  { method: 'GET', path: '/api/v1/admin/webhooks', who: 'alice', status: 403 },
  {
    method: 'GET',
    path: '/api/v1/admin/webhooks',
    who: 'root',
    status: 200,
    then: (h: { items: { deliveries: { id: string }[] }[] }) => (ids.delivery = h.items[0]!.deliveries[0]!.id),
  },
  { method: 'POST', path: '/api/v1/admin/webhooks/deliveries/{id}/redeliver', params: () => ({ id: ids.delivery! }), who: 'root', status: 201, then: (d: { id: string }) => expect(d.id).not.toBe(ids.delivery) },
  { method: 'POST', path: '/api/v1/admin/webhooks/deliveries/{id}/redeliver', params: () => ({ id: ids.delivery! }), who: 'alice', status: 403 },
  { method: 'POST', path: '/api/v1/admin/webhooks/deliveries/{id}/redeliver', params: () => ({ id: '00000000-0000-4000-8000-000000000000' }), who: 'root', status: 404 },
  { method: 'POST', path: '/api/v1/admin/webhooks/{id}/replay', params: hook, who: 'root', body: { since: '2020-01-01T00:00:00Z' }, status: 200, then: (r: { deliveries: number }) => expect(r.deliveries).toBeGreaterThanOrEqual(5) },
  { method: 'POST', path: '/api/v1/admin/webhooks/{id}/replay', params: hook, who: 'root', body: { since: 'last week' }, status: 400 },
  { method: 'POST', path: '/api/v1/admin/webhooks/{id}/replay', params: hook, who: 'alice', body: { since: '2020-01-01T00:00:00Z' }, status: 403 },
  { method: 'GET', path: '/api/v1/events', who: 'root', status: 200, then: (p: { items: { event: { event: string } }[]; next_after: number | null }) => expect(p.items.length).toBeGreaterThan(0) },
  { method: 'GET', path: '/api/v1/events', who: 'alice', status: 403 },
  { method: 'GET', path: '/api/v1/events', query: 'after=yesterday', who: 'root', status: 400 },
  // The stream stays open, so inject() drives only its refusal; test/live-stream.test.ts reads it over HTTP.
  { method: 'GET', path: '/api/v1/stream', who: '', status: 401 },
  { method: 'DELETE', path: '/api/v1/admin/webhooks/{id}', params: hook, who: 'root', status: 204 },
  { method: 'DELETE', path: '/api/v1/admin/webhooks/{id}', params: hook, who: 'root', status: 404 },
  { method: 'POST', path: '/api/v1/posts/{id}/report', params: post, who: 'alice', body: { reason: 'spam' }, status: 201, then: (r: unknown) => expect(r).toEqual({ status: 'created' }) },
  { method: 'POST', path: '/api/v1/posts/{id}/report', params: post, who: 'alice', body: { reason: 'spam again' }, status: 200, then: (r: unknown) => expect(r).toEqual({ status: 'exists' }) },
  { method: 'POST', path: '/api/v1/posts/{id}/report', params: post, who: 'alice', body: { reason: '' }, status: 400 },
  { method: 'POST', path: '/api/v1/posts/{id}/report', params: () => ({ id: NOPE }), who: 'alice', body: { reason: 'x' }, status: 404 },
  { method: 'GET', path: '/api/v1/admin/reports', who: 'root', status: 200, then: (q: { items: { id: string; reason: string }[] }) => ((ids.report = q.items[0]!.id), expect(q.items.map((i) => i.reason)).toEqual(['spam'])) },
  { method: 'GET', path: '/api/v1/admin/reports', who: 'alice', status: 403 },
  { method: 'POST', path: '/api/v1/admin/reports/{id}/dismiss', params: () => ({ id: ids.report! }), who: 'alice', status: 403 },
  { method: 'POST', path: '/api/v1/admin/reports/{id}/dismiss', params: () => ({ id: ids.report! }), who: 'root', status: 204 },
  { method: 'POST', path: '/api/v1/admin/reports/{id}/dismiss', params: () => ({ id: ids.report! }), who: 'root', status: 404 },
  { method: 'POST', path: '/api/v1/admin/posts/{id}/hide', params: post, who: 'alice', body: { reason: 'mine' }, status: 403 },
  { method: 'POST', path: '/api/v1/admin/posts/{id}/hide', params: post, who: 'root', body: {}, status: 400 },
  { method: 'POST', path: '/api/v1/admin/posts/{id}/hide', params: post, who: 'root', body: { reason: 'off topic' }, status: 200, then: (r: unknown) => expect(r).toEqual({ id: ids.post, kind: 'post', hidden: true, changed: true }) },
  { method: 'POST', path: '/api/v1/admin/posts/{id}/hide', params: () => ({ id: NOPE }), who: 'root', body: { reason: 'x' }, status: 404 },
  { method: 'POST', path: '/api/v1/admin/posts/{id}/restore', params: post, who: 'alice', status: 403 },
  { method: 'POST', path: '/api/v1/admin/posts/{id}/restore', params: post, who: 'root', status: 200, then: (r: unknown) => expect(r).toMatchObject({ hidden: false, changed: true }) },
  { method: 'POST', path: '/api/v1/admin/posts/{id}/restore', params: () => ({ id: NOPE }), who: 'root', status: 404 },
  { method: 'POST', path: '/api/v1/admin/comments/{id}/hide', params: comment, who: 'root', body: { reason: 'rude' }, status: 200, then: (r: unknown) => expect(r).toMatchObject({ kind: 'comment', hidden: true }) },
  { method: 'POST', path: '/api/v1/admin/comments/{id}/hide', params: comment, who: 'alice', body: { reason: 'x' }, status: 403 },
  { method: 'POST', path: '/api/v1/admin/comments/{id}/hide', params: comment, who: 'root', body: { reason: '' }, status: 400 },
  { method: 'POST', path: '/api/v1/admin/comments/{id}/hide', params: () => ({ id: NOPE }), who: 'root', body: { reason: 'x' }, status: 404 },
  { method: 'POST', path: '/api/v1/admin/comments/{id}/restore', params: comment, who: 'root', status: 200, then: (r: unknown) => expect(r).toMatchObject({ kind: 'comment', hidden: false, changed: true }) },
  { method: 'POST', path: '/api/v1/admin/comments/{id}/restore', params: comment, who: 'alice', status: 403 },
  { method: 'POST', path: '/api/v1/admin/comments/{id}/restore', params: () => ({ id: NOPE }), who: 'root', status: 404 },
  { method: 'GET', path: '/healthz', status: 200, then: (h: unknown) => expect(h).toEqual({ status: 'ok' }) },
  { method: 'GET', path: '/readyz', status: 200, then: (r: unknown) => expect(r).toEqual({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } }) },
  { method: 'GET', path: '/api/v1/me', who: 'carol', status: 200, then: (m: object) => expect(m).toEqual({ id: ids.carol, email: 'carol@corp.test', name: 'carol', opt_in: 'pending', admin: false, digest_frequency: 'weekly' }) },
  { method: 'PUT', path: '/api/v1/me/opt-in', who: 'alice', body: { state: 'opted_in' }, status: 200, then: (m: object) => expect(m).toMatchObject({ id: ids.alice, opt_in: 'opted_in', released: 0 }) },
  { method: 'PUT', path: '/api/v1/me/opt-in', who: 'carol', body: { state: 'maybe' }, status: 400 },
  { method: 'GET', path: '/api/v1/admin/inbound', who: 'root', status: 200, then: (l: { items: { state: string }[] }) => expect(l.items.map((i) => i.state).sort()).toEqual(['posted', 'received', 'rejected']) },
  { method: 'GET', path: '/api/v1/admin/inbound', query: 'state=bogus', who: 'root', status: 400 },
  { method: 'GET', path: '/api/v1/admin/inbound', who: 'alice', status: 403 },
  { method: 'GET', path: '/api/v1/admin/insights', who: 'root', status: 200, then: (r: { min_people: number; weeks: unknown[] }) => expect([r.min_people, r.weeks.length > 0]).toEqual([5, true]) },
  { method: 'GET', path: '/api/v1/admin/insights', query: 'from=last-week', who: 'root', status: 400 },
  { method: 'GET', path: '/api/v1/admin/insights', who: 'alice', status: 403 },
  { method: 'GET', path: '/api/v1/admin/inbound/{id}/source', params: () => ({ id: ids.postedInbound! }), who: 'root', status: 200 },
  { method: 'GET', path: '/api/v1/admin/inbound/{id}/source', params: () => ({ id: ids.postedInbound! }), who: 'alice', status: 403 },
  { method: 'GET', path: '/api/v1/admin/inbound/{id}/source', params: () => ({ id: NOPE }), who: 'root', status: 404 },
  { method: 'GET', path: '/api/v1/admin/inbound/{id}/source', params: () => ({ id: ids.purgedInbound! }), who: 'root', status: 410 },
  { method: 'POST', path: '/api/v1/me/tokens', who: 'carol', body: { name: 'script', expires_in_days: 30 }, status: 201, then: (t: { id: string; token: string; expires_at: string }) => { ids.carolToken = t.id; expect(t.token).toMatch(/^blend_/); expect(t.expires_at).not.toBeNull(); } },
  { method: 'POST', path: '/api/v1/me/tokens', who: 'carol', body: { name: 'x', expires_in_days: 0 }, status: 400 },
  { method: 'GET', path: '/api/v1/me/tokens', who: 'carol', status: 200, then: (l: { items: { name: string }[] }) => expect(l.items.map((t) => t.name)).toContain('script') },
  { method: 'GET', path: '/api/v1/admin/people/{id}/tokens', params: () => ({ id: ids.carol! }), who: 'root', status: 200, then: (l: { items: { id: string }[] }) => expect(l.items.map((t) => t.id)).toContain(ids.carolToken) },
  { method: 'GET', path: '/api/v1/admin/people/{id}/tokens', params: () => ({ id: ids.carol! }), who: 'alice', status: 403 },
  { method: 'GET', path: '/api/v1/admin/people/{id}/tokens', params: () => ({ id: NOPE }), who: 'root', status: 404 },
  { method: 'DELETE', path: '/api/v1/me/tokens/{id}', params: () => ({ id: ids.carolToken! }), who: 'alice', status: 404 },
  { method: 'DELETE', path: '/api/v1/admin/people/{id}/tokens/{tokenId}', params: () => ({ id: ids.carol!, tokenId: ids.carolToken! }), who: 'alice', status: 403 },
  { method: 'DELETE', path: '/api/v1/admin/people/{id}/tokens/{tokenId}', params: () => ({ id: ids.carol!, tokenId: ids.carolToken! }), who: 'root', status: 204 },
  { method: 'DELETE', path: '/api/v1/me/tokens/{id}', params: () => ({ id: ids.carolToken! }), who: 'carol', status: 404 },
  { method: 'POST', path: '/api/v1/me/tokens', who: 'carol', body: { name: 'short-lived' }, status: 201, then: setId('carolToken2') },
  { method: 'DELETE', path: '/api/v1/me/tokens/{id}', params: () => ({ id: ids.carolToken2! }), who: 'carol', status: 204 },
  { method: 'DELETE', path: '/api/v1/admin/people/{id}/sessions', params: () => ({ id: ids.carol! }), who: 'root', status: 204 },
  { method: 'DELETE', path: '/api/v1/admin/people/{id}/sessions', params: () => ({ id: ids.carol! }), who: 'carol', status: 403 },
  // Retracting last, on posts of their own, so the cases above see the thread whole.
  { method: 'DELETE', path: '/api/v1/comments/{id}', params: comment, who: 'root', status: 403 },
  { method: 'DELETE', path: '/api/v1/comments/{id}', params: comment, who: 'alice', status: 204 },
  { method: 'DELETE', path: '/api/v1/comments/{id}', params: comment, who: 'alice', status: 404 },
  { method: 'POST', path: '/api/v1/posts', who: 'alice', body: { group: 'general', body: 'To be retracted' }, status: 201, then: setId('retracted') },
  { method: 'DELETE', path: '/api/v1/posts/{id}', params: () => ({ id: ids.retracted! }), who: 'root', status: 403 },
  { method: 'DELETE', path: '/api/v1/posts/{id}', params: () => ({ id: ids.retracted! }), who: 'alice', status: 204 },
  { method: 'DELETE', path: '/api/v1/posts/{id}', params: () => ({ id: ids.retracted! }), who: 'alice', status: 404 },
  { method: 'POST', path: '/api/v1/posts', who: 'alice', body: { group: 'general', body: 'To be un-mirrored' }, status: 201, then: setId('unmirrored') },
  { method: 'POST', path: '/api/v1/posts/{id}/unmirror', params: () => ({ id: ids.unmirrored! }), who: 'root', status: 403 },
  { method: 'POST', path: '/api/v1/posts/{id}/unmirror', params: () => ({ id: ids.unmirrored! }), who: 'alice', status: 204 },
  { method: 'POST', path: '/api/v1/posts/{id}/unmirror', params: () => ({ id: 'not-a-uuid' }), who: 'alice', status: 404 },
];

const exercised = new Set<string>();
const urlOf = (c: Case) => c.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(c.params!()[name]!)) + (c.query ? `?${c.query}` : '');

/** Send the request of `c` and check the answer against the document. @returns the answer. */
async function drive(c: Case, who = c.who) {
  const op = doc.paths?.[c.path]?.[c.method.toLowerCase() as (typeof METHODS)[number]] as OpenAPIV3_1.OperationObject | undefined;
  expect(op, `${c.method} ${c.path} is documented`).toBeDefined();
  const res = await app.inject({
    method: c.method,
    url: urlOf(c),
    headers: { ...c.headers, ...(who ? { authorization: `Bearer ${tokens[who]}` } : {}) },
    ...(c.body ? { payload: c.body } : {}),
  });
  const documented = op!.responses?.[String(res.statusCode)] as OpenAPIV3_1.ResponseObject | undefined;
  expect(documented, `${c.method} ${c.path} answered an undocumented ${res.statusCode}: ${res.body}`).toBeDefined();
  if (res.statusCode === 204) {
    expect(res.body).toBe('');
  } else {
    const media = String(res.headers['content-type']).split(';')[0]!;
    const schema = documented!.content?.[media]?.schema;
    expect(schema, `${c.method} ${c.path} ${res.statusCode} documents ${media}`).toBeDefined();
    if (/json$/.test(media)) {
      const validate = validator(schema as object);
      expect(validate(res.json()), ajv.errorsText(validate.errors)).toBe(true);
    }
  }
  exercised.add(`${c.method} ${c.path}`);
  return res;
}

describe('every documented operation', () => {
  it.each(CASES.map((c) => [`${c.method} ${c.path}${c.query ? `?${c.query}` : ''}${c.headers ? ' (AS2)' : ''} as ${c.who}`, c.status, c] as const))('%s is %i', async (_, status, c) => {
    const res = await drive(c);
    expect(res.statusCode, res.body).toBe(status);
    await c.then?.((res.statusCode === 204 ? undefined : res.json()) as never);
  });

  it('GET /readyz is a documented 503 while Redis is down', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
    dead.on('error', () => undefined);
    const other = buildApp(api.deps({ redis: dead }));
    try {
      const res = await other.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      const op = doc.paths?.['/readyz']?.get as OpenAPIV3_1.OperationObject;
      const validate = validator((op.responses?.['503'] as OpenAPIV3_1.ResponseObject).content!['application/json']!.schema as object);
      expect(validate(res.json()), ajv.errorsText(validate.errors)).toBe(true);
      expect(res.json()).toMatchObject({ status: 'not_ready', checks: { postgres: 'ok' } });
    } finally {
      await other.close();
      dead.disconnect();
    }
  });

  it('is 401 without a token, wherever the document asks for one', async () => {
    for (const c of CASES.filter((k) => k.status < 300)) {
      const op = doc.paths?.[c.path]?.[c.method.toLowerCase() as (typeof METHODS)[number]] as OpenAPIV3_1.OperationObject;
      if (!op.security?.length) continue;
      expect((await drive(c, '')).statusCode, `${c.method} ${c.path}`).toBe(401);
    }
  });

  // The serializer keeps only what the response schemas name: the answers must still be
  // the whole views that packages/db builds.
  it('loses no property of the views to the response schemas', async () => {
    const db = api.t.db;
    const get = async (url: string, who: string) => (await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${tokens[who]}` } })).json();
    const roundTrip = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
    expect(await get(`/api/v1/posts/${ids.post}`, 'root')).toEqual(roundTrip(await getEsnPostView(db, ids.post!, ids.root!)));
    expect(await get(`/api/v1/posts/${ids.mailPost}`, 'root')).toEqual(roundTrip(await getEsnPostView(db, ids.mailPost!, ids.root!)));
    expect((await get('/api/v1/feed', 'alice')).items).toEqual(roundTrip((await listFeedFiltered(db, { limit: 20, viewerId: ids.alice! })).items));
    await drive(CASES[0]!); // a new hook, and a delivery for it
    await app.inject({ method: 'POST', url: `/api/v1/posts/${ids.mailPost}/reactions`, headers: { authorization: `Bearer ${tokens.alice}` } });
    expect((await get('/api/v1/admin/webhooks', 'root')).items).toEqual(roundTrip(await listWebhooksWithDeliveries(db, { deliveriesPerHook: 20 })));
    expect((await get('/api/v1/admin/inbound', 'root')).items).toEqual(roundTrip(await listInboundRows(db, { limit: 50 })));
  });

  it('drives every operation in the document', () => {
    expect([...exercised].sort()).toEqual(operations().map((o) => o.key).sort());
  });
});
