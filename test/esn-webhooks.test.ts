import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { verifyWebhookSignature, webhookRequest, webhookSigningSecret } from '@blend/core';
import { eq } from 'drizzle-orm';
import { ensureGroup, issueApiToken, markWebhookDelivery, pendingWebhookDeliveries, schema, upsertPerson } from '@blend/db';
import { type Queues } from '@blend/queue';
import { type TestDatabase } from './support/database';
import { startTestApi, type TestApi } from './support/api';

// Admin webhooks through the API, and one delivery the way the worker job will do it.
let t: TestDatabase;
let app: FastifyInstance;
let queues: Queues;
let api: TestApi;
let receiver: Server;
let receiverUrl: string;
const received: { headers: IncomingHttpHeaders; body: string }[] = [];
const tokens: Record<string, string> = {};

beforeAll(async () => {
  api = await startTestApi({ addressing: { mode: 'domain', domain: 'bridge.test' }, publicUrl: 'https://blend.corp.test/', webhookAllowPrivate: true });
  ({ t, app, queues } = api);
  for (const [name, admin] of [['root', true], ['alice', false]] as const) {
    const { person } = await upsertPerson(t.db, { email: `${name}@corp.test`, name, optIn: true, isAdmin: admin });
    tokens[name] = await issueApiToken(t.db, person.id);
  }
  await ensureGroup(t.db, 'general');
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  await new Promise((resolve) => receiver?.close(resolve));
  await api?.close();
});

const req = (method: 'GET' | 'POST' | 'DELETE', url: string, who?: string, payload?: unknown) =>
  app.inject({ method, url, headers: who ? { authorization: `Bearer ${tokens[who]}` } : {}, ...(payload !== undefined ? { payload: payload as object } : {}) });

interface HookView {
  id: string;
  url: string;
  format: string;
  secret?: string;
  deliveries: { event: string; state: string; attempts: number; last_status: number | null }[];
}

describe('admin webhooks', () => {
  let hook: HookView;

  it.each([
    [undefined, 401],
    ['alice', 403],
  ])('are refused to %s with %i', async (who, status) => {
    expect((await req('GET', '/api/v1/admin/webhooks', who)).statusCode).toBe(status);
    expect((await req('POST', '/api/v1/admin/webhooks', who, { url: receiverUrl, events: ['post.created'] })).statusCode).toBe(status);
  });

  it.each([
    [{ url: 'http://example.com/hook', events: ['post.created'] }],
    [{ url: 'ftp://127.0.0.1/x', events: ['post.created'] }],
    [{ url: 'https://user:pw@example.com/', events: ['post.created'] }],
    [{ url: 'not a url', events: ['post.created'] }],
    [{ url: 'https://example.com/', events: [] }],
    [{ url: 'https://example.com/', events: ['post.exploded'] }],
    [{ url: 'https://example.com/', events: ['post.created'], format: 'fax' }],
    [{ url: 'https://example.com/', events: ['post.created'], secret: 'mine' }],
  ])('rejects %j with 400', async (body) => {
    const res = await req('POST', '/api/v1/admin/webhooks', 'root', body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'VALIDATION' } });
  });

  it('creates a hook and shows its secret once', async () => {
    const res = await req('POST', '/api/v1/admin/webhooks', 'root', { url: receiverUrl, events: ['post.created', 'reaction.created'], format: 'blend' });
    expect(res.statusCode).toBe(201);
    hook = res.json() as HookView;
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const slack = await req('POST', '/api/v1/admin/webhooks', 'root', { url: 'https://chat.example.com/hooks/x', events: ['comment.created'], format: 'slack' });
    expect(slack.statusCode).toBe(201);
    const list = (await req('GET', '/api/v1/admin/webhooks', 'root')).json() as { items: HookView[] };
    expect(list.items.map((h) => [h.url, h.format, h.secret])).toEqual([
      [receiverUrl, 'blend', undefined],
      ['https://chat.example.com/hooks/x', 'slack', undefined],
    ]);
    // At rest the secret is sealed under BLEND_SECRET: a database dump cannot sign events.
    const [row] = await api.t.db.select({ secret: schema.webhooks.secret }).from(schema.webhooks).where(eq(schema.webhooks.id, hook.id));
    expect(row!.secret).not.toContain(hook.secret!);
    expect(webhookSigningSecret(row!.secret, ['s'.repeat(32)])).toBe(hook.secret);
  });

  it('queues a pending delivery for matching hooks when a post is created, in the same transaction', async () => {
    const post = await req('POST', '/api/v1/posts', 'alice', { group: 'general', title: 'Hello', body: 'World' });
    expect(post.statusCode).toBe(201);
    await req('POST', `/api/v1/posts/${(post.json() as { id: string }).id}/comments`, 'alice', { body: 'no hook for comments here' });
    const list = (await req('GET', '/api/v1/admin/webhooks', 'root')).json() as { items: HookView[] };
    expect(list.items[0]!.deliveries).toEqual([expect.objectContaining({ event: 'post.created', state: 'pending', attempts: 0, last_status: null })]);
    expect(list.items[1]!.deliveries).toEqual([expect.objectContaining({ event: 'comment.created', state: 'pending' })]);
  });

  it('delivers a pending event signed, the way the worker job will', async () => {
    const due = (await pendingWebhookDeliveries(t.db, { limit: 10 })).filter((d) => d.webhook.id === hook.id);
    expect(due).toHaveLength(1);
    const d = due[0]!;
    const r = webhookRequest({ ...d.webhook, secret: webhookSigningSecret(d.webhook.secret, ['s'.repeat(32)]) }, d, new Date());
    const res = await fetch(r.url, { method: r.method, headers: r.headers, body: r.body });
    await markWebhookDelivery(t.db, d.id, { ok: res.ok, status: res.status, error: null });

    const got = received[0]!;
    expect(got.headers['x-blend-event']).toBe('post.created');
    expect(got.headers['x-blend-delivery']).toBe(d.id);
    expect(verifyWebhookSignature(hook.secret!, String(got.headers['x-blend-signature']), got.body, Math.floor(Date.now() / 1000))).toBe(true);
    expect(verifyWebhookSignature('whsec_other', String(got.headers['x-blend-signature']), got.body, Math.floor(Date.now() / 1000))).toBe(false);
    expect(JSON.parse(got.body)).toMatchObject({
      event: 'post.created',
      post: { title: 'Hello', body_text: 'World', source: 'esn', group: { slug: 'general' }, author: { email: 'alice@corp.test' }, url: expect.stringMatching(/^https:\/\/blend\.corp\.test\/web\/posts\/[0-9a-f-]{36}$/) },
    });
    const list = (await req('GET', '/api/v1/admin/webhooks', 'root')).json() as { items: HookView[] };
    expect(list.items[0]!.deliveries[0]).toMatchObject({ state: 'delivered', attempts: 1, last_status: 204 });
  });

  it('announces a like once, however often it is repeated', async () => {
    const { items } = (await req('GET', '/api/v1/feed', 'alice')).json() as { items: { id: string }[] };
    for (let i = 0; i < 3; i++) await req('POST', `/api/v1/posts/${items[0]!.id}/reactions`, 'alice');
    const list = (await req('GET', '/api/v1/admin/webhooks', 'root')).json() as { items: HookView[] };
    expect(list.items[0]!.deliveries.map((d) => d.event)).toEqual(['reaction.created', 'post.created']);
  });

  it('backs off and finally fails a delivery that keeps failing', async () => {
    const [d] = (await pendingWebhookDeliveries(t.db, { limit: 10 })).filter((x) => x.event === 'comment.created');
    await markWebhookDelivery(t.db, d!.id, { ok: false, status: 500, error: 'HTTP 500', maxAttempts: 2 });
    expect((await pendingWebhookDeliveries(t.db, { limit: 10, baseDelayMs: 60_000 })).map((x) => x.id)).not.toContain(d!.id);
    expect((await pendingWebhookDeliveries(t.db, { limit: 10, baseDelayMs: 0 })).map((x) => x.id)).toContain(d!.id);
    await markWebhookDelivery(t.db, d!.id, { ok: false, status: 500, error: 'HTTP 500', maxAttempts: 2 });
    const list = (await req('GET', '/api/v1/admin/webhooks', 'root')).json() as { items: HookView[] };
    expect(list.items[1]!.deliveries[0]).toMatchObject({ state: 'failed', attempts: 2, last_status: 500 });
  });

  it('deletes a hook', async () => {
    expect((await req('DELETE', `/api/v1/admin/webhooks/${hook.id}`, 'alice')).statusCode).toBe(403);
    expect((await req('DELETE', `/api/v1/admin/webhooks/${hook.id}`, 'root')).statusCode).toBe(204);
    expect((await req('DELETE', `/api/v1/admin/webhooks/${hook.id}`, 'root')).statusCode).toBe(404);
    expect((await req('DELETE', '/api/v1/admin/webhooks/not-a-uuid', 'root')).statusCode).toBe(404);
    expect(((await req('GET', '/api/v1/admin/webhooks', 'root')).json() as { items: unknown[] }).items).toHaveLength(1);
  });
});

describe('webhook formats and filters', () => {
  it('gives a cloudevents hook a Standard Webhooks secret (whsec_ + base64 of 32 bytes)', async () => {
    const res = await req('POST', '/api/v1/admin/webhooks', 'root', { url: receiverUrl, events: ['post.created'], format: 'cloudevents' });
    expect(res.statusCode).toBe(201);
    const { secret, id } = res.json() as { secret: string; id: string };
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect((await req('DELETE', `/api/v1/admin/webhooks/${id}`, 'root')).statusCode).toBe(204);
  });

  it('takes the event types from filter.types, with groups and origin', async () => {
    const res = await req('POST', '/api/v1/admin/webhooks', 'root', { url: receiverUrl, format: 'teams', filter: { types: ['post.created', 'post.deleted'], groups: ['general'], origin: 'email' } });
    expect(res.statusCode).toBe(201);
    const hook = res.json() as { id: string; events: string[]; filter: object };
    expect(hook).toMatchObject({ events: ['post.created', 'post.deleted'], filter: { groups: ['general'], origin: 'email' } });
    expect((await req('DELETE', `/api/v1/admin/webhooks/${hook.id}`, 'root')).statusCode).toBe(204);
  });

  it.each([
    [{ url: 'https://example.com/', format: 'discord' }],
    [{ url: 'https://example.com/', events: ['post.created'], filter: { types: ['comment.created'] } }],
    [{ url: 'https://example.com/', events: ['post.created'], filter: { origin: 'fax' } }],
    [{ url: 'https://example.com/', events: ['post.created'], filter: { groups: [''] } }],
    [{ url: 'https://example.com/', events: ['post.created'], filter: { everyone: true } }],
  ])('refuses %j with 400', async (body) => {
    const res = await req('POST', '/api/v1/admin/webhooks', 'root', body);
    expect(res.statusCode).toBe(400);
  });

  it('un-mirroring a thread is comment.deleted for each comment and post.deleted, and empties the earlier events', async () => {
    const made = await app.inject({ method: 'POST', url: '/api/v1/posts', headers: { authorization: `Bearer ${tokens.root}` }, payload: { group: 'general', title: 'Shared by mistake', body: 'Secret plans' } });
    const { id } = made.json() as { id: string };
    for (const body of ['one', 'two']) expect((await app.inject({ method: 'POST', url: `/api/v1/posts/${id}/comments`, headers: { authorization: `Bearer ${tokens.alice}` }, payload: { body: `Reply ${body}` } })).statusCode).toBe(201);
    expect((await app.inject({ method: 'POST', url: `/api/v1/posts/${id}/unmirror`, headers: { authorization: `Bearer ${tokens.root}` } })).statusCode).toBeLessThan(300);
    const evs = await t.db.select().from(schema.events).where(eq(schema.events.threadId, id)).orderBy(schema.events.sequence);
    expect(evs.map((e) => [e.type, e.sequence])).toEqual([
      ['post.created', 1],
      ['comment.created', 2],
      ['comment.created', 3],
      ['comment.deleted', 4],
      ['comment.deleted', 5],
      ['post.deleted', 6],
    ]);
    expect(evs.at(-1)!.payload).toMatchObject({ reason: 'unmirrored', post: { id, title: '', url: null } });
    const text = JSON.stringify(evs.map((e) => e.payload));
    expect(text).not.toContain('Secret plans');
    expect(text).not.toContain('Shared by mistake');
    expect(text).not.toContain('Reply one');
  });

  it('sends an ESN post only to the hooks whose filter takes it', async () => {
    await ensureGroup(t.db, 'sales');
    const make = async (filter: object) => ((await req('POST', '/api/v1/admin/webhooks', 'root', { url: receiverUrl, events: ['post.created'], filter })).json() as { id: string }).id;
    const bySales = await make({ groups: ['sales'] });
    const byEmail = await make({ origin: 'email' });
    const byEsn = await make({ origin: 'esn', groups: ['general', 'sales'] });
    const created = await app.inject({ method: 'POST', url: '/api/v1/posts', headers: { authorization: `Bearer ${tokens.root}` }, payload: { group: 'sales', body: 'Filtered' } });
    expect(created.statusCode).toBe(201);
    const count = async (id: string) => (await t.db.select().from(schema.webhookDeliveries).where(eq(schema.webhookDeliveries.webhookId, id))).length;
    expect([await count(bySales), await count(byEmail), await count(byEsn)]).toEqual([1, 0, 1]);
  });
});
