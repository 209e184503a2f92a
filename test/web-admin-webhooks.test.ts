import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { createWebhook, ensureGroup, issueApiToken, schema, upsertPerson } from '@blend/db';
import { sessionCookie, startTestApi, type TestApi } from './support/api';

// The admin page's webhook section: each hook's latest deliveries with their state, and a
// Redeliver button that is a CSRF-checked form for admins only.
let api: TestApi;
const tokens: Record<string, string> = {};
const sessions: Record<string, string> = {};
let hookId = '';

beforeAll(async () => {
  api = await startTestApi();
  for (const [name, admin] of [['alice', false], ['root', true]] as const) {
    const { person } = await upsertPerson(api.t.db, { email: `${name}@corp.test`, name, optIn: true, isAdmin: admin });
    tokens[name] = await issueApiToken(api.t.db, person.id);
    sessions[name] = await sessionCookie(api.t.db, tokens[name]);
  }
  await ensureGroup(api.t.db, 'general');
  hookId = (await createWebhook(api.t.db, { url: 'https://hooks.example.test/in?a=1&b=<2>', events: ['post.created'], format: 'teams', secret: 'x'.repeat(40) })).id;
  const res = await api.app.inject({ method: 'POST', url: '/api/v1/posts', headers: { authorization: `Bearer ${tokens.alice}` }, payload: { group: 'general', body: 'Hello hooks' } });
  expect(res.statusCode).toBe(201);
});
afterAll(async () => api?.close());

const page = (url: string, who: string) => api.app.inject({ method: 'GET', url, headers: { cookie: sessions[who]! } });
const post = (url: string, who: string, form: Record<string, string>) =>
  api.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: sessions[who]! }, payload: new URLSearchParams(form).toString() });
const csrfOf = (body: string) => /name="_csrf" value="([^"]+)"/.exec(body)?.[1] ?? '';
const deliveries = () => api.t.db.select().from(schema.webhookDeliveries).where(eq(schema.webhookDeliveries.webhookId, hookId));

describe('webhooks on the admin page', () => {
  it('lists each hook with its deliveries and their state, escaped', async () => {
    const res = await page('/web/admin', 'root');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<h2 id="webhooks-h">Webhooks</h2>');
    expect(res.body).toContain('https://hooks.example.test/in?a=1&amp;b=&lt;2&gt;');
    expect(res.body).toContain('Format teams; events post.created; everything');
    expect(res.body).toMatch(/<td>post\.created<\/td><td><span class="state state-pending">pending<\/span><\/td><td>0<\/td>/);
    const [d] = await deliveries();
    expect(res.body).toContain(`action="/web/admin/webhooks/deliveries/${d!.id}/redeliver"`);
  });

  it('redelivers only through a form with the session\'s CSRF token, for admins', async () => {
    const [d] = await deliveries();
    const url = `/web/admin/webhooks/deliveries/${d!.id}/redeliver`;
    expect((await post(url, 'root', {})).statusCode).toBe(403);
    expect((await post(url, 'root', { _csrf: 'forged' })).statusCode).toBe(403);
    const aliceCsrf = csrfOf((await page('/web/preferences', 'alice')).body);
    expect((await post(url, 'alice', { _csrf: aliceCsrf })).statusCode).toBe(403);
    expect(await deliveries()).toHaveLength(1);

    const rootCsrf = csrfOf((await page('/web/admin', 'root')).body);
    const res = await post(url, 'root', { _csrf: rootCsrf });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/web/admin?redelivered=yes#webhooks-h');
    const after = await deliveries();
    expect(after).toHaveLength(2);
    expect(new Set(after.map((r) => r.eventId))).toEqual(new Set([d!.eventId]));
    expect((await page('/web/admin?redelivered=yes', 'root')).body).toContain('Queued again');
  });
});
