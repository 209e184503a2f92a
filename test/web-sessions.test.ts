import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { buildApp } from '@blend/api';
import { createApiToken, purgeExpired, schema } from '@blend/db';
import { personWithToken, sessionCookie, startTestApi, type TestApi } from './support/api';
import { clickAndLoad, launchChromium, listenOnLoopback, watchPage } from './support/browser';

// Web sessions and API tokens with a lifecycle (docs/SECURITY.md S1, S2): the cookie holds a
// session of its own, sessions end when idle, at their absolute end, at sign-out and with the
// token they were opened with; tokens are named, listed, expire and are revoked by their owner
// or an admin, and a dead token is refused exactly like an unknown one.
let api: TestApi;
const people: Record<string, { id: string; token: string }> = {};
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

beforeAll(async () => {
  api = await startTestApi({ addressing: { mode: 'domain', domain: 'sessions.test' } });
  people.ann = await personWithToken(api.t.db, { email: 'ann@corp.test', name: 'Ann' });
  people.root = await personWithToken(api.t.db, { email: 'root@corp.test', name: 'Root', isAdmin: true });
});
afterAll(async () => {
  await api?.close();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const me = (token: string) => api.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(token) });
const page = (url: string, cookie: string) => api.app.inject({ method: 'GET', url, headers: { cookie } });
const signedIn = async (cookie: string) => (await page('/web/preferences', cookie)).statusCode === 200;
const csrfOf = (body: string) => /name="_csrf" value="([^"]+)"/.exec(body)?.[1] ?? '';
async function form(url: string, cookie: string, fields: Record<string, string>) {
  const csrf = csrfOf((await page('/web/preferences', cookie)).body);
  return api.app.inject({ method: 'POST', url, headers: { ...FORM, cookie }, payload: new URLSearchParams({ _csrf: csrf, ...fields }).toString() });
}
async function login(token: string, headers: Record<string, string> = {}) {
  return api.app.inject({ method: 'POST', url: '/web/login', headers: { ...FORM, ...headers }, payload: `token=${encodeURIComponent(token)}` });
}
const cookieOf = (setCookie: unknown) => String(setCookie).split(';')[0]!;
const sessionRow = async (cookie: string) => {
  const hash = createHash('sha256').update(cookie.replace(/^blend_session=/, '')).digest('hex');
  const [row] = await api.t.db.select().from(schema.webSessions).where(eq(schema.webSessions.secretHash, hash));
  return row;
};

describe('web sessions', () => {
  it('signing in with a token opens a session of its own; only its hash is stored', async () => {
    const res = await login(people.ann!.token, { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0' });
    expect(res.statusCode).toBe(303);
    const cookie = cookieOf(res.headers['set-cookie']);
    expect(cookie).toMatch(/^blend_session=bs_/);
    expect(cookie).not.toContain(people.ann!.token);
    expect(String(res.headers['set-cookie'])).toContain(`Max-Age=${7 * 86_400}`);
    const row = await sessionRow(cookie);
    expect(row).toMatchObject({ personId: people.ann!.id, via: 'token', userAgent: 'Firefox on Linux', revokedAt: null });
    // Seven days from sign-in at most, judged by the database.
    expect(row!.expiresAt.getTime() - row!.createdAt.getTime()).toBe(7 * 86_400_000);
    const stored = await api.t.db.execute(sql`select count(*)::int as n from web_sessions where secret_hash = ${cookie.replace(/^blend_session=/, '')}`);
    expect((stored.rows[0] as { n: number }).n).toBe(0);
    expect(await signedIn(cookie)).toBe(true);
    // The session is no bearer token.
    expect((await me(cookie.replace(/^blend_session=/, ''))).statusCode).toBe(401);
  });

  it('ends after 12 idle hours, and 7 days after sign-in however busy', async () => {
    const idle = await sessionCookie(api.t.db, people.ann!.token);
    const busy = await sessionCookie(api.t.db, people.ann!.token);
    expect(await signedIn(idle)).toBe(true);
    await api.t.db.update(schema.webSessions).set({ lastSeenAt: sql`now() - interval '12 hours 1 minute'` }).where(eq(schema.webSessions.id, (await sessionRow(idle))!.id));
    expect((await page('/web', idle)).headers.location).toBe('/web/login?next=%2Fweb');
    await api.t.db.update(schema.webSessions).set({ expiresAt: sql`now() - interval '1 second'` }).where(eq(schema.webSessions.id, (await sessionRow(busy))!.id));
    expect(await signedIn(busy)).toBe(false);
  });

  it('an active session is renewed: its idle clock restarts on use', async () => {
    const cookie = await sessionCookie(api.t.db, people.ann!.token);
    const id = (await sessionRow(cookie))!.id;
    await api.t.db.update(schema.webSessions).set({ lastSeenAt: sql`now() - interval '11 hours'` }).where(eq(schema.webSessions.id, id));
    expect(await signedIn(cookie)).toBe(true);
    const row = await sessionRow(cookie);
    expect(Date.now() - row!.lastSeenAt.getTime()).toBeLessThan(3_600_000);
  });

  it('revoking the token a session was opened with ends the session', async () => {
    const { token, info } = await createApiToken(api.t.db, people.ann!.id, { name: 'to revoke' });
    const cookie = cookieOf((await login(token)).headers['set-cookie']);
    expect(await signedIn(cookie)).toBe(true);
    expect((await api.app.inject({ method: 'DELETE', url: `/api/v1/me/tokens/${info.id}`, headers: bearer(people.ann!.token) })).statusCode).toBe(204);
    expect(await signedIn(cookie)).toBe(false);
  });

  it('"Sign out all other browsers" ends every session but this one', async () => {
    const here = await sessionCookie(api.t.db, people.ann!.token);
    const there = await sessionCookie(api.t.db, people.ann!.token);
    const prefs = await page('/web/preferences', here);
    expect(prefs.body).toContain('Signed-in browsers');
    expect(prefs.body).toContain('this browser');
    const res = await form('/web/sessions/end-others', here, {});
    expect(res.statusCode).toBe(303);
    expect(await signedIn(there)).toBe(false);
    expect(await signedIn(here)).toBe(true);
  });

  it('retention deletes sessions that have ended, and only those', async () => {
    const ended = await sessionCookie(api.t.db, people.ann!.token);
    const live = await sessionCookie(api.t.db, people.ann!.token);
    await api.t.db.update(schema.webSessions).set({ revokedAt: sql`now()` }).where(eq(schema.webSessions.id, (await sessionRow(ended))!.id));
    await purgeExpired(api.t.db, { rawDays: 30, withheldDays: 14, outboundDays: 90 });
    expect(await sessionRow(ended)).toBeUndefined();
    expect(await signedIn(live)).toBe(true);
  });

  it('an admin can end all of someone\'s sessions', async () => {
    const cookie = await sessionCookie(api.t.db, people.ann!.token);
    expect((await api.app.inject({ method: 'DELETE', url: `/api/v1/admin/people/${people.ann!.id}/sessions`, headers: bearer(people.ann!.token) })).statusCode).toBe(403);
    expect((await api.app.inject({ method: 'DELETE', url: `/api/v1/admin/people/${people.ann!.id}/sessions`, headers: bearer(people.root!.token) })).statusCode).toBe(204);
    expect(await signedIn(cookie)).toBe(false);
  });
});

describe('API tokens', () => {
  it('an expired or revoked token gets the same 401 as one that never existed', async () => {
    const unknown = await me('blend_neverexistedneverexisted');
    const expired = await createApiToken(api.t.db, people.ann!.id, { name: 'old', expiresInDays: 1 });
    expect((await me(expired.token)).statusCode).toBe(200);
    await api.t.db.update(schema.apiTokens).set({ expiresAt: sql`now() - interval '1 second'` }).where(eq(schema.apiTokens.id, expired.info.id));
    const revoked = await createApiToken(api.t.db, people.ann!.id, { name: 'gone' });
    await api.app.inject({ method: 'DELETE', url: `/api/v1/me/tokens/${revoked.info.id}`, headers: bearer(people.ann!.token) });
    for (const token of [expired.token, revoked.token]) {
      const res = await me(token);
      expect(res.statusCode).toBe(401);
      expect(res.body).toBe(unknown.body);
      expect(res.headers['www-authenticate']).toBe(unknown.headers['www-authenticate']);
      // Nor does it open a web session.
      expect((await login(token)).statusCode).toBe(401);
    }
    const listed = (await api.app.inject({ method: 'GET', url: '/api/v1/me/tokens', headers: bearer(people.ann!.token) })).json() as { items: { id: string; expired: boolean }[] };
    expect(listed.items.find((t) => t.id === expired.info.id)).toMatchObject({ expired: true });
    expect(listed.items.find((t) => t.id === revoked.info.id)).toBeUndefined();
  });

  it('an expiring token cannot outlive itself: not as a session, nor as a token made with it', async () => {
    const short = await createApiToken(api.t.db, people.ann!.id, { name: 'short', expiresInDays: 2 });
    const cookie = cookieOf((await login(short.token)).headers['set-cookie']);
    expect((await sessionRow(cookie))!.expiresAt).toEqual(short.info.expiresAt);
    const viaApi = (await api.app.inject({ method: 'POST', url: '/api/v1/me/tokens', headers: bearer(short.token), payload: { name: 'forever?' } })).json() as { expires_at: string };
    expect(viaApi.expires_at).toBe(short.info.expiresAt!.toISOString());
    const sooner = (await api.app.inject({ method: 'POST', url: '/api/v1/me/tokens', headers: bearer(short.token), payload: { name: 'sooner', expires_in_days: 1 } })).json() as { expires_at: string };
    expect(new Date(sooner.expires_at).getTime()).toBeLessThan(short.info.expiresAt!.getTime());
    const viaWeb = await form('/web/tokens', cookie, { name: 'from the web', expires_in_days: '' });
    expect(viaWeb.statusCode).toBe(200);
    const [row] = await api.t.db.select().from(schema.apiTokens).where(eq(schema.apiTokens.name, 'from the web'));
    expect(row!.expiresAt).toEqual(short.info.expiresAt);
    // A token that does not expire mints what it is asked for.
    const free = (await api.app.inject({ method: 'POST', url: '/api/v1/me/tokens', headers: bearer(people.ann!.token), payload: { name: 'no expiry' } })).json() as { expires_at: string | null };
    expect(free.expires_at).toBeNull();
  });

  it('records when a token was last used', async () => {
    const { token, info } = await createApiToken(api.t.db, people.ann!.id, { name: 'watched' });
    expect(info.lastUsedAt).toBeNull();
    await me(token);
    const listed = (await api.app.inject({ method: 'GET', url: '/api/v1/me/tokens', headers: bearer(token) })).json() as { items: { id: string; last_used_at: string | null }[] };
    expect(listed.items.find((t) => t.id === info.id)!.last_used_at).not.toBeNull();
  });

  it('a person cannot list or revoke someone else\'s tokens; an admin can, and it is audited', async () => {
    const { token, info } = await createApiToken(api.t.db, people.root!.id, { name: 'root script' });
    expect((await api.app.inject({ method: 'DELETE', url: `/api/v1/me/tokens/${info.id}`, headers: bearer(people.ann!.token) })).statusCode).toBe(404);
    expect((await api.app.inject({ method: 'GET', url: `/api/v1/admin/people/${people.root!.id}/tokens`, headers: bearer(people.ann!.token) })).statusCode).toBe(403);
    expect((await me(token)).statusCode).toBe(200);
    const annToken = await createApiToken(api.t.db, people.ann!.id, { name: 'ann laptop' });
    const res = await api.app.inject({ method: 'DELETE', url: `/api/v1/admin/people/${people.ann!.id}/tokens/${annToken.info.id}`, headers: bearer(people.root!.token) });
    expect(res.statusCode).toBe(204);
    expect((await me(annToken.token)).statusCode).toBe(401);
    const audit = await api.t.db.select().from(schema.auditLog).where(eq(schema.auditLog.action, 'revoke_api_token'));
    expect(audit).toEqual([expect.objectContaining({ actor: people.root!.id, subject: people.ann!.id, detail: { tokenId: annToken.info.id } })]);
    // A token id of another person under this person's path is not found.
    expect((await api.app.inject({ method: 'DELETE', url: `/api/v1/admin/people/${people.ann!.id}/tokens/${info.id}`, headers: bearer(people.root!.token) })).statusCode).toBe(404);
  });

  it('the preferences page lists, creates (value shown once) and revokes tokens', async () => {
    const cookie = await sessionCookie(api.t.db, people.ann!.token);
    const created = await form('/web/tokens', cookie, { name: 'Report <script>', expires_in_days: '30' });
    expect(created.statusCode).toBe(200);
    expect(created.headers['cache-control']).toBe('no-store');
    const value = /id="new-token-value" readonly value="(blend_[A-Za-z0-9_-]+)"/.exec(created.body)?.[1];
    expect(value).toBeDefined();
    expect(created.body).toContain('Report &lt;script&gt;');
    expect((await me(value!)).json()).toMatchObject({ id: people.ann!.id });
    // Listed by name afterwards, never with its value.
    const prefs = await page('/web/preferences', cookie);
    expect(prefs.body).toContain('Report &lt;script&gt;');
    expect(prefs.body).not.toContain(value!);
    const id = (await api.t.db.select().from(schema.apiTokens).where(eq(schema.apiTokens.name, 'Report <script>')))[0]!.id;
    expect((await form('/web/tokens/revoke', cookie, { id })).headers.location).toBe('/web/preferences?saved=revoked');
    expect((await me(value!)).statusCode).toBe(401);
    // CSRF still guards these forms.
    const forged = await api.app.inject({ method: 'POST', url: '/web/tokens', headers: { ...FORM, cookie }, payload: 'name=x&_csrf=forged' });
    expect(forged.statusCode).toBe(403);
  });
});

describe('the preferences page in Chromium', () => {
  it('creates a named token, shows it once, and revokes it', async () => {
    const browser = await launchChromium();
    try {
      const base = await listenOnLoopback(api.app);
      const context = await browser.newContext({ locale: 'en-GB', timezoneId: 'UTC' });
      context.setDefaultTimeout(15_000);
      const page = await context.newPage();
      const watch = watchPage(page);
      await page.goto(`${base}/web/login?next=%2Fweb%2Fpreferences`);
      await page.getByLabel('API token').fill(people.ann!.token);
      await clickAndLoad(page, page.getByRole('button', { name: 'Sign in' }));
      const tokens = page.getByRole('region', { name: 'API tokens' });
      await tokens.getByLabel('Name of a new token').fill('Chromium script');
      await tokens.getByLabel('Expires after').selectOption('30');
      await clickAndLoad(page, tokens.getByRole('button', { name: 'Create token' }));
      const value = await page.getByLabel('Token', { exact: true }).inputValue();
      expect((await me(value)).statusCode).toBe(200);
      const row = page.getByRole('row', { name: /Chromium script/ });
      expect(await row.count()).toBe(1);
      await page.goto(`${base}/web/preferences`);
      expect(await page.getByLabel('Token', { exact: true }).count()).toBe(0);
      await clickAndLoad(page, page.getByRole('button', { name: 'Revoke Chromium script' }));
      expect(await page.getByRole('status').textContent()).toBe('The token is revoked.');
      expect(await page.getByRole('row', { name: /Chromium script/ }).count()).toBe(0);
      expect((await me(value)).statusCode).toBe(401);
      expect(watch.pageErrors).toEqual([]);
      expect(watch.consoleErrors).toEqual([]);
      expect(watch.dialogs).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

describe('cookies behind a proxy (BLEND_TRUST_PROXY)', () => {
  it('believes X-Forwarded-Proto only from a trusted proxy', async () => {
    const trusting = buildApp(api.deps({ trustProxy: ['127.0.0.1'] }));
    const distrusting = buildApp(api.deps({ trustProxy: ['10.9.9.9'] }));
    const byDefault = buildApp(api.deps());
    const forwarded = { ...FORM, 'x-forwarded-proto': 'https' };
    const ask = (app: typeof trusting) => app.inject({ method: 'POST', url: '/web/login', headers: forwarded, payload: `token=${people.ann!.token}`, remoteAddress: '127.0.0.1' });
    expect(String((await ask(trusting)).headers['set-cookie'])).toMatch(/; Secure/);
    expect(String((await ask(distrusting)).headers['set-cookie'])).not.toMatch(/; Secure/);
    expect(String((await ask(byDefault)).headers['set-cookie'])).not.toMatch(/; Secure/);
    const hops = buildApp(api.deps({ trustProxy: 1 }));
    expect(String((await ask(hops)).headers['set-cookie'])).toMatch(/; Secure/);
    await Promise.all([trusting.close(), distrusting.close(), byDefault.close(), hops.close()]);
  });
});
