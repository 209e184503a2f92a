import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { verifyWebhookSignature } from '@blend/core';
import { issueApiToken, schema, upsertPerson } from '@blend/db';
import { waitFor } from './support/database';
import { freePort } from './support/ports';
import { startStack, type Stack } from './support/stack';

// An external ESN receives Blend's events: signed, retried after a failure, delivered once.
let s: Stack;
let alice: string;
let admin: string;
const received: { headers: IncomingMessage['headers']; body: string }[] = [];
let failNext = 1;
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    received.push({ headers: req.headers, body });
    if (failNext > 0) {
      failNext--;
      res.writeHead(500).end('try later');
    } else res.writeHead(204).end();
  });
});

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  // The receiver is on loopback, which only BLEND_WEBHOOK_ALLOW_PRIVATE permits.
  s = await startStack({ BLEND_WEBHOOK_RETRY_BASE_MS: '300', BLEND_WEBHOOK_ALLOW_PRIVATE: 'true' }, { poller: false });
  alice = await s.person('alice@corp.test', { name: 'Alice' });
  const { person } = await upsertPerson(s.db.db, { email: 'root@corp.test', isAdmin: true, optIn: true });
  admin = await issueApiToken(s.db.db, person.id);
});
afterAll(async () => {
  await s?.stop();
  server.close();
});

describe('webhook delivery', () => {
  it('posts a signed event to the hook, retries after a 500, and marks it delivered once', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const created = await s.app.inject({ method: 'POST', url: '/api/v1/admin/webhooks', headers: { authorization: `Bearer ${admin}` }, payload: { url, events: ['post.created'], format: 'blend' } });
    expect(created.statusCode).toBe(201);
    const { secret } = created.json() as { secret: string };

    const post = await s.app.inject({ method: 'POST', url: '/api/v1/posts', headers: { authorization: `Bearer ${alice}` }, payload: { group: 'general', title: 'Hello ESN', body: 'From the feed.' } });
    expect(post.statusCode).toBe(201);

    const delivery = await waitFor(async () => {
      const rows = await s.db.db.select().from(schema.webhookDeliveries);
      return rows[0]?.state === 'delivered' ? rows[0] : undefined;
    }, 'the delivery', 20_000);
    expect(delivery.attempts).toBe(2);
    expect(received).toHaveLength(2);
    const last = received[1]!;
    expect(last.headers['x-blend-event']).toBe('post.created');
    expect(last.headers['x-blend-delivery']).toBe(received[0]!.headers['x-blend-delivery']);
    expect(verifyWebhookSignature(secret, String(last.headers['x-blend-signature']), last.body, Math.floor(Date.now() / 1000))).toBe(true);
    expect(JSON.parse(last.body)).toMatchObject({ event: 'post.created', post: { title: 'Hello ESN', author: { email: 'alice@corp.test' } } });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(received).toHaveLength(2);
    const [row] = await s.db.db.select().from(schema.webhookDeliveries).where(eq(schema.webhookDeliveries.id, delivery.id));
    expect(row!.state).toBe('delivered');
  });

  it('gets every event to a receiver that was down for a while, once it is back', async () => {
    // A port nobody listens on yet.
    const port = await freePort();
    const got: string[] = [];
    const late = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        got.push(body);
        res.writeHead(200).end();
      });
    });
    const hook = await s.app.inject({ method: 'POST', url: '/api/v1/admin/webhooks', headers: { authorization: `Bearer ${admin}` }, payload: { url: `http://127.0.0.1:${port}/late`, events: ['comment.created'] } });
    expect(hook.statusCode).toBe(201);
    const { id: hookId } = hook.json() as { id: string };
    const [first] = await s.db.db.select().from(schema.posts);
    for (const text of ['one', 'two']) {
      const c = await s.app.inject({ method: 'POST', url: `/api/v1/posts/${first!.id}/comments`, headers: { authorization: `Bearer ${alice}` }, payload: { body: `Comment ${text}` } });
      expect(c.statusCode).toBe(201);
    }
    const mine = () => s.db.db.select().from(schema.webhookDeliveries).where(eq(schema.webhookDeliveries.webhookId, hookId));
    // Thread order: the second comment waits while the first is still pending.
    const byAge = async () => (await mine()).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    await waitFor(async () => (await byAge())[0]!.attempts >= 2, 'two failed attempts of the first while the receiver is down', 20_000);
    expect((await byAge())[1]!.attempts).toBe(0);
    await new Promise<void>((r) => late.listen(port, '127.0.0.1', () => r()));
    try {
      await waitFor(async () => (await mine()).every((d) => d.state === 'delivered'), 'both delivered after the receiver is back', 30_000);
      expect(got.map((b) => (JSON.parse(b) as { comment: { body_text: string } }).comment.body_text)).toEqual(['Comment one', 'Comment two']);
    } finally {
      late.close();
    }
  });
});
