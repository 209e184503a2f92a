// Webhooks cannot reach inside the network (docs/SECURITY.md, B26): an admin-registered URL
// whose host is, or resolves to, a loopback, private or link-local address is refused at
// registration, and checked again at every delivery, whose connection goes to the checked
// address only. BLEND_WEBHOOK_ALLOW_PRIVATE=true lifts this for local receivers.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { createLogger } from '@blend/runtime';
import { ensureGroup, schema } from '@blend/db';
import { resolveWebhookTarget } from '@blend/outbound';
import { deliverWebhook } from '@blend/worker';
import { personWithToken, startTestApi, type TestApi } from './support/api';

let api: TestApi;
let admin: string;
let receiver: Server;
let hits = 0;
let receiverUrl: string;

beforeAll(async () => {
  api = await startTestApi({ addressing: { mode: 'domain', domain: 'bridge.test' } });
  admin = (await personWithToken(api.t.db, { email: 'root@corp.test', isAdmin: true })).token;
  receiver = createServer((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  await new Promise((resolve) => receiver?.close(resolve));
  await api?.close();
});

const register = (app: TestApi['app'], url: string) =>
  app.inject({ method: 'POST', url: '/api/v1/admin/webhooks', headers: { authorization: `Bearer ${admin}` }, payload: { url, events: ['post.created'] } });

describe('webhook targets', () => {
  it.each([
    ['the receiver on loopback', () => receiverUrl, /127\.0\.0\.1 is a loopback address/],
    ['a name that resolves to loopback', () => receiverUrl.replace('127.0.0.1', 'localhost'), /localhost: .*loopback address/],
    ['the cloud metadata service', () => 'https://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is a link-local address/],
    ['a private address', () => 'https://10.0.0.5/hook', /10\.0\.0\.5 is a private address/],
    ['loopback behind IPv4-mapped IPv6', () => 'https://[::ffff:127.0.0.1]/hook', /IPv4-mapped address/],
    ['a unique local IPv6 address', () => 'https://[fd00::5]/hook', /unique local/],
  ])('refuses %s at registration, saying why', async (_what, url, message) => {
    const res = await register(api.app, url());
    expect(res.statusCode).toBe(400);
    expect((res.json() as { error: { message: string } }).error.message).toMatch(message);
    expect((res.json() as { error: { message: string } }).error.message).toContain('BLEND_WEBHOOK_ALLOW_PRIVATE');
  });

  it('refuses a name with one private address among public ones', async () => {
    const resolve = async () => [
      { address: '93.184.215.14', family: 4 },
      { address: '10.1.2.3', family: 4 },
    ];
    await expect(resolveWebhookTarget('https://hooks.example.test/x', { allowPrivate: false, resolve })).rejects.toThrow(/10\.1\.2\.3 is a private address/);
    await expect(resolveWebhookTarget('https://hooks.example.test/x', { allowPrivate: true, resolve })).resolves.toMatchObject({ address: '93.184.215.14', family: 4 });
  });

  it('checks again at delivery: a hook that now leads inside is not called, and the log says why', async () => {
    // Registered where private receivers were allowed (or its name pointed elsewhere then).
    const allowing = await startTestApi({ addressing: { mode: 'domain', domain: 'bridge.test' }, webhookAllowPrivate: true });
    try {
      const { token } = await personWithToken(allowing.t.db, { email: 'root@corp.test', isAdmin: true });
      const alicesToken = (await personWithToken(allowing.t.db, { email: 'alice@corp.test', name: 'Alice' })).token;
      await ensureGroup(allowing.t.db, 'general');
      const created = await allowing.app.inject({ method: 'POST', url: '/api/v1/admin/webhooks', headers: { authorization: `Bearer ${token}` }, payload: { url: receiverUrl, events: ['post.created'] } });
      expect(created.statusCode).toBe(201);
      const post = await allowing.app.inject({ method: 'POST', url: '/api/v1/posts', headers: { authorization: `Bearer ${alicesToken}` }, payload: { group: 'general', title: 'Hi', body: 'There.' } });
      expect(post.statusCode).toBe(201);
      const [delivery] = await allowing.t.db.select().from(schema.webhookDeliveries);
      const log = createLogger('test', 'silent');
      const before = hits;

      expect(await deliverWebhook({ deliveryId: delivery!.id, attempt: 0 }, { db: allowing.t.db, log, allowPrivate: false, secrets: ['s'.repeat(32)] })).toBe('retry');
      expect(hits).toBe(before);
      const [refused] = await allowing.t.db.select().from(schema.webhookDeliveries).where(eq(schema.webhookDeliveries.id, delivery!.id));
      expect(refused!.lastError).toMatch(/127\.0\.0\.1 is a loopback address/);

      expect(await deliverWebhook({ deliveryId: delivery!.id, attempt: 1 }, { db: allowing.t.db, log, allowPrivate: true, secrets: ['s'.repeat(32)] })).toBe('delivered');
      expect(hits).toBe(before + 1);
    } finally {
      await allowing.close();
    }
  });

  it('still accepts a public https URL whose name does not resolve yet', async () => {
    const res = await register(api.app, 'https://hooks.not-yet.example/x');
    expect(res.statusCode).toBe(201);
  });
});
