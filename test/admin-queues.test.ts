import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { issueApiToken, upsertPerson } from '@blend/db';
import { enqueueSend } from '@blend/queue';
import { sessionCookie, startTestApi, type TestApi } from './support/api';
import { launchChromium, listenOnLoopback, watchPage } from './support/browser';

// The BullMQ dashboard (bull-board) at /admin/queues: admin role only, by session cookie or
// bearer token, on every one of its routes (page, static assets, JSON API).
let api: TestApi;
const tokens: Record<string, string> = {};
const cookies: Record<string, string> = {};

beforeAll(async () => {
  api = await startTestApi();
  for (const [name, admin] of [['alice', false], ['root', true]] as const) {
    const { person } = await upsertPerson(api.t.db, { email: `${name}@corp.test`, name, optIn: true, isAdmin: admin });
    tokens[name] = await issueApiToken(api.t.db, person.id);
    cookies[name] = await sessionCookie(api.t.db, tokens[name]);
  }
});
afterAll(async () => {
  await api?.close();
});

type Who = { bearer: string } | { cookie: string } | null;
const as = (who: Who): Record<string, string> =>
  !who ? {} : 'bearer' in who ? { authorization: `Bearer ${tokens[who.bearer]}` } : { cookie: cookies[who.cookie]! };
const get = (url: string, who: Who, headers: Record<string, string> = {}) => api.app.inject({ method: 'GET', url, headers: { ...as(who), ...headers } });
const HTML = { accept: 'text/html,application/xhtml+xml' };

/** The first script the dashboard page loads, as a path under /admin/queues/. */
async function scriptPath(): Promise<string> {
  const page = await get('/admin/queues', { bearer: 'root' }, HTML);
  const src = /<script defer src="(static\/js\/[^"]+\.js)"/.exec(page.body)?.[1];
  expect(src, page.body).toBeDefined();
  return `/admin/queues/${src}`;
}

describe('who may open /admin/queues', () => {
  it('sends an anonymous browser to the login page and refuses anonymous API and asset requests', async () => {
    const page = await get('/admin/queues', null, HTML);
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe('/web/login?next=%2Fadmin%2Fqueues');
    for (const url of ['/admin/queues/api/queues', await scriptPath(), '/admin/queues/static/favicon-32x32.png']) {
      const res = await get(url, null);
      expect(res.statusCode, url).toBe(401);
      expect(res.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    }
    // A wrong bearer token is a 401 even for a browser (no redirect), and does not fall back to the cookie.
    expect((await get('/admin/queues', { bearer: 'nobody' }, HTML)).statusCode).toBe(401);
    expect((await get('/admin/queues/api/queues', null, { authorization: 'Bearer blend_wrongwrongwrong', cookie: cookies.root! })).statusCode).toBe(401);
  });

  it('refuses a person without the admin role (403), by token or by session', async () => {
    const byToken = await get('/admin/queues/api/queues', { bearer: 'alice' });
    expect(byToken.statusCode).toBe(403);
    expect(byToken.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect((await get(await scriptPath(), { cookie: 'alice' })).statusCode).toBe(403);
    const page = await get('/admin/queues', { cookie: 'alice' }, HTML);
    expect(page.statusCode).toBe(403);
    expect(page.body).toContain('needs the admin role');
  });

  it('serves the dashboard to an admin, by session cookie or bearer token, with its own CSP and no framing', async () => {
    for (const who of [{ cookie: 'root' }, { bearer: 'root' }]) {
      const res = await get('/admin/queues', who, HTML);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toContain('<base href="/admin/queues/"');
      expect(res.body).toContain('<title>Blend queues</title>');
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("frame-ancestors 'none'");
      // The page's relative URLs hang off <base href>: the pages' `base-uri 'none'` would break it.
      expect(csp).toContain("base-uri 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(res.headers['x-frame-options']).toBe('DENY');
    }
    // The client-side routes are the same page.
    expect((await get('/admin/queues/queue/send', { cookie: 'root' }, HTML)).statusCode).toBe(200);
  });

  it('loads a static asset for an admin', async () => {
    const res = await get(await scriptPath(), { cookie: 'root' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.body.length).toBeGreaterThan(1000);
  });

  it('is linked from the admin page', async () => {
    const res = await get('/web/admin', { cookie: 'root' });
    expect(res.body).toContain('<a href="/admin/queues">Queue dashboard</a>');
  });
});

describe('the dashboard API', () => {
  it('lists the six queues with their counts', async () => {
    await enqueueSend(api.queues.send, randomUUID());
    const res = await get('/admin/queues/api/queues', { bearer: 'root' });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ queues: { name: string; counts: Record<string, number> }[] }>();
    expect(body.queues.map((q) => q.name).sort()).toEqual(['digest', 'ingest', 'ingest-backlog', 'notify', 'send', 'webhook']);
    const send = body.queues.find((q) => q.name === 'send')!;
    expect(send.counts.waiting).toBe(1);
    expect(body.queues.find((q) => q.name === 'ingest')!.counts.waiting).toBe(0);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('refuses a cross-site action sent with the session cookie, and takes a same-origin one', async () => {
    const pause = (headers: Record<string, string>) => api.app.inject({ method: 'PUT', url: '/admin/queues/api/queues/send/pause', headers: { ...as({ cookie: 'root' }), ...headers } });
    const foreign = await pause({ origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(foreign.statusCode).toBe(403);
    expect(await api.queues.send.isPaused()).toBe(false);
    const own = await pause({ origin: 'http://localhost:80', 'sec-fetch-site': 'same-origin' });
    expect(own.statusCode, own.body).toBe(200);
    expect(await api.queues.send.isPaused()).toBe(true);
    await api.queues.send.resume();
  });
});

describe('in Chromium', () => {
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
  });

  it('signs in at /web/login, follows the admin page link and shows the six queues', async () => {
    browser = await launchChromium();
    const base = await listenOnLoopback(api.app);
    const context = await browser.newContext({ locale: 'en-GB', timezoneId: 'UTC' });
    const page = await context.newPage();
    const watch = watchPage(page);
    await page.goto(`${base}/admin/queues`);
    expect(new URL(page.url()).pathname).toBe('/web/login');
    await page.getByLabel(/token/i).fill(tokens.root!);
    // Signing in returns to the dashboard; the admin page links to it too.
    await Promise.all([page.waitForURL(`${base}/admin/queues`), page.getByRole('button', { name: /sign in/i }).click()]);
    await page.goto(`${base}/web/admin`);
    await Promise.all([page.waitForURL(`${base}/admin/queues`), page.getByRole('link', { name: 'Queue dashboard' }).click()]);
    for (const name of ['ingest', 'ingest-backlog', 'send', 'webhook', 'digest', 'notify']) {
      await expect.poll(() => page.getByText(name, { exact: true }).count(), { timeout: 15_000 }).toBeGreaterThan(0);
    }
    expect(watch.pageErrors).toEqual([]);
    expect(watch.dialogs).toEqual([]);
    // Only the third-party font stylesheet the dashboard links is refused (by our CSP, on purpose).
    expect(watch.consoleErrors.filter((e) => !e.includes('fonts.googleapis.com'))).toEqual([]);
    expect(watch.failedResponses).toEqual([]);
    await context.close();
  });
});
