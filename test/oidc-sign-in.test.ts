import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildApp } from '@blend/api';
import { findPersonByEmail, schema, upsertPerson } from '@blend/db';
import { startTestApi, type TestApi } from './support/api';
import { clickAndLoad, launchChromium } from './support/browser';
import { startTestIdp, type TestIdp } from './support/oidc-idp';
import { freePorts } from './support/ports';

// Single sign-on against a real OpenID Connect provider on loopback, driven in Chromium
// (docs/SECURITY.md S3): authorization code flow with PKCE, state and nonce; people found by
// verified email only; created at first sign-in only when allowed and in the organisation.
let browser: Browser;
let idp: TestIdp;
let api: TestApi;
let creating: FastifyInstance;
let base = '';
let baseCreating = '';
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  const [idpPort, port, portCreating] = await freePorts(3);
  base = `http://127.0.0.1:${port}`;
  baseCreating = `http://127.0.0.1:${portCreating}`;
  idp = await startTestIdp(idpPort!, [`${base}/web/auth/callback`, `${baseCreating}/web/auth/callback`], {
    ann: { email: 'Ann@corp.test', email_verified: true, name: 'Ann from the IdP' },
    bob: { email: 'bob@corp.test', email_verified: false },
    nomail: {},
    newbie: { email: 'newbie@corp.test', email_verified: true, name: 'Nina Newbie' },
    outsider: { email: 'someone@elsewhere.test', email_verified: true },
  });
  const oidc = { issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, createPeople: false, orgDomains: ['corp.test'] };
  api = await startTestApi({ publicUrl: base, oidc });
  await api.app.listen({ port: port!, host: '127.0.0.1' });
  creating = buildApp(api.deps({ publicUrl: baseCreating, oidc: { ...oidc, createPeople: true } }));
  await creating.listen({ port: portCreating!, host: '127.0.0.1' });
  await upsertPerson(api.t.db, { email: 'ann@corp.test', name: 'Ann', optIn: true });
  await upsertPerson(api.t.db, { email: 'bob@corp.test', name: 'Bob', optIn: true });
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await creating?.close();
  await api?.close();
  await idp?.close();
});

/**
 * Start at Blend's login page, choose the company account, sign in at the IdP as `login` (and
 * grant consent the first time), and stop on the page the browser ends on back at Blend.
 */
async function signInAtIdp(at: string, login: string, opts: { tamper?: (callback: URL) => void } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale: 'en-GB' });
  contexts.push(context);
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  if (opts.tamper) {
    // The browser reaches the callback through a chain of the IdP's redirects, and routes do
    // not see redirected requests: so the form posts to the IdP are caught, the chain is
    // followed here (sharing the browser's cookies), and the browser is sent to where it ends,
    // with the callback's query rewritten.
    await page.route(`${idp.issuer}/**`, async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      let response = await route.fetch({ maxRedirects: 0 });
      let location = response.headers().location;
      while (location && new URL(location, idp.issuer).origin === idp.issuer) {
        response = await page.request.get(new URL(location, idp.issuer).href, { maxRedirects: 0 });
        location = response.headers().location;
      }
      if (!location) return route.fulfill({ response });
      const url = new URL(location, idp.issuer);
      if (url.href.startsWith(`${at}/web/auth/callback`)) opts.tamper!(url);
      return route.fulfill({ status: 303, headers: { location: url.href } });
    });
  }
  await page.goto(`${at}/web/login`);
  await clickAndLoad(page, page.getByRole('button', { name: 'Sign in with your company account' }));
  expect(page.url().startsWith(idp.issuer)).toBe(true);
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  const back = page.waitForURL((u) => u.href.startsWith(at), { timeout: 15_000 });
  await page.getByRole('button', { name: 'Sign-in' }).click();
  // The IdP asks for consent on a first authorisation of this client.
  await Promise.race([back, page.getByRole('button', { name: 'Continue' }).click({ timeout: 15_000 }).catch(() => undefined)]);
  await back;
  await page.waitForLoadState('load');
  return { context, page };
}

const sessionCookieOf = async (context: BrowserContext, at: string) => (await context.cookies(at)).find((c) => c.name === 'blend_session');

describe('single sign-on (OIDC) in Chromium', () => {
  it('shows "Sign in with your company account" only when single sign-on is set up', async () => {
    expect((await api.app.inject({ method: 'GET', url: '/web/login' })).body).toContain('Sign in with your company account');
    const { oidc: _sso, ...withoutSso } = api.deps();
    const plain = buildApp(withoutSso);
    expect((await plain.inject({ method: 'GET', url: '/web/login' })).body).not.toContain('company account');
    expect((await plain.inject({ method: 'POST', url: '/web/auth/start', payload: {} })).statusCode).toBe(404);
    await plain.close();
  });

  it('signs a known person in by verified email and lands on the feed as that person; sign-out ends the session', async () => {
    const { context, page } = await signInAtIdp(base, 'ann');
    await page.waitForURL(`${base}/web`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Feed');
    expect(await page.getByRole('banner').getByText('Ann', { exact: true }).count()).toBe(1);
    const cookie = await sessionCookieOf(context, base);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', value: expect.stringMatching(/^bs_/) });
    const ann = await findPersonByEmail(api.t.db, 'ann@corp.test');
    const [row] = await api.t.db.select().from(schema.webSessions).where(eq(schema.webSessions.personId, ann!.id));
    expect(row).toMatchObject({ via: 'oidc', apiTokenId: null, revokedAt: null });
    // The transaction cookie is spent.
    expect((await context.cookies(base)).map((c) => c.name)).not.toContain('blend_oidc');

    await clickAndLoad(page, page.getByRole('button', { name: 'Sign out' }));
    expect(new URL(page.url()).pathname).toBe('/web/login');
    const reuse = await api.app.inject({ method: 'GET', url: '/web', headers: { cookie: `blend_session=${cookie!.value}` } });
    expect(reuse.statusCode).toBe(303);
    expect(reuse.headers.location).toBe('/web/login?next=%2Fweb');
  });

  it('refuses an address the IdP has not verified, even of a known person', async () => {
    const { context, page } = await signInAtIdp(base, 'bob');
    expect(new URL(page.url()).pathname).toBe('/web/auth/callback');
    expect(await page.getByRole('alert').textContent()).toContain('has not been verified');
    expect(await sessionCookieOf(context, base)).toBeUndefined();
  });

  it('refuses an account that gives no email address', async () => {
    const { context, page } = await signInAtIdp(base, 'nomail');
    expect(await page.getByRole('alert').textContent()).toContain('did not tell Blend your email address');
    expect(await sessionCookieOf(context, base)).toBeUndefined();
  });

  it('refuses someone Blend does not know while creating people is off, and says to ask IT', async () => {
    const { context, page } = await signInAtIdp(base, 'newbie');
    const alert = await page.getByRole('alert').textContent();
    expect(alert).toContain('Blend does not know newbie@corp.test yet');
    expect(alert).toContain('Ask IT');
    expect(await sessionCookieOf(context, base)).toBeUndefined();
    expect(await findPersonByEmail(api.t.db, 'newbie@corp.test')).toBeUndefined();
  });

  it('creates them at first sign-in when IT allows it (not opted in), but never outside the organisation', async () => {
    const { page } = await signInAtIdp(baseCreating, 'newbie');
    await page.waitForURL(`${baseCreating}/web`);
    expect(await page.getByRole('banner').getByText('Nina Newbie').count()).toBe(1);
    expect(await findPersonByEmail(api.t.db, 'newbie@corp.test')).toMatchObject({ name: 'Nina Newbie', optIn: 'pending', isAdmin: false });

    const outsider = await signInAtIdp(baseCreating, 'outsider');
    expect(await outsider.page.getByRole('alert').textContent()).toContain('is not an address of your organisation');
    expect(await findPersonByEmail(api.t.db, 'someone@elsewhere.test')).toBeUndefined();
  });

  it('refuses a callback whose state was tampered with', async () => {
    const { context, page } = await signInAtIdp(base, 'ann', { tamper: (u) => u.searchParams.set('state', 'forged-state-value') });
    expect(new URL(page.url()).pathname).toBe('/web/auth/callback');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign-in did not work');
    expect(await sessionCookieOf(context, base)).toBeUndefined();
  });

  it('refuses a callback without the transaction cookie, or with a forged one', async () => {
    const bare = await api.app.inject({ method: 'GET', url: '/web/auth/callback?code=abc&state=def' });
    expect(bare.statusCode).toBe(400);
    expect(bare.body).toContain('Sign-in expired');
    const forged = await api.app.inject({ method: 'GET', url: '/web/auth/callback?code=abc&state=def', headers: { cookie: 'blend_oidc=eyJzdGF0ZSI6ImRlZiJ9.AAAA' } });
    expect(forged.statusCode).toBe(400);
    expect(forged.headers['set-cookie']).not.toMatch(/blend_session=bs_/);
  });

  it('says clearly when the IdP cannot be reached, and token sign-in still works', async () => {
    const [closed] = await freePorts(1);
    const down = buildApp(api.deps({ publicUrl: base, oidc: { issuer: `http://127.0.0.1:${closed}`, clientId: 'x', createPeople: false, orgDomains: [] } }));
    const res = await down.inject({ method: 'POST', url: '/web/auth/start', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'next=%2Fweb' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('cannot be reached right now');
    expect((await down.inject({ method: 'GET', url: '/web/login' })).body).toContain('API token');
    await down.close();
  });

  it('refuses a cross-site start (login CSRF)', async () => {
    const res = await api.app.inject({ method: 'POST', url: '/web/auth/start', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.test' }, payload: 'next=%2Fweb' });
    expect(res.statusCode).toBe(403);
  });
});
