import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium, listenOnLoopback, watchPage } from './support/browser';
import { startTestApi, type TestApi } from './support/api';
import { buildApp } from '@blend/api';

// Security headers from one helmet registration (docs/SECURITY.md B30): the JSON API, /docs,
// the web pages, the signed-link pages and downloads each get their own CSP; HSTS only when
// Blend is reached over https; and Swagger UI still works under its CSP in a real Chromium.

let api: TestApi;
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
  api = await startTestApi();
});

afterAll(async () => {
  await browser?.close();
  await api?.close();
});

const get = (url: string, app = api.app) => app.inject({ method: 'GET', url });

describe('security headers', () => {
  it('the JSON API allows nothing to load and cannot be framed', async () => {
    for (const url of ['/healthz', '/api/v1/feed', '/api/v1/no-such-route']) {
      const res = await get(url);
      expect(res.headers['content-security-policy'], url).toBe("default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'");
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['x-frame-options'], url).toBe('DENY');
      expect(res.headers['referrer-policy'], url).toBe('no-referrer');
      expect(res.headers['cross-origin-opener-policy'], url).toBe('same-origin');
      // Plain http: no HSTS, no upgrade of sub-requests.
      expect(res.headers['strict-transport-security'], url).toBeUndefined();
      expect(res.headers['content-security-policy'], url).not.toContain('upgrade-insecure-requests');
    }
    expect((await get('/api/v1/feed')).statusCode).toBe(401);
  });

  it('web pages keep their stricter page policy (no inline script or style), links theirs, downloads a sandbox', async () => {
    const login = await get('/web/login');
    expect(login.statusCode).toBe(200);
    expect(login.headers['content-security-policy']).toBe("default-src 'self';base-uri 'none';form-action 'self';frame-ancestors 'none';object-src 'none'");
    expect(login.headers['referrer-policy']).toBe('same-origin');
    expect(login.headers['x-content-type-options']).toBe('nosniff');
    expect(login.headers['cache-control']).toBe('no-store');

    const link = await get('/links/opt-in?t=nonsense');
    expect(link.statusCode).toBe(400);
    expect(link.headers['content-security-policy']).toBe("default-src 'none';style-src 'unsafe-inline';base-uri 'none';form-action 'self';frame-ancestors 'none'");
    expect(link.headers['referrer-policy']).toBe('no-referrer');

    // The queue dashboard's own policy: its <base href> and inline styles.
    const dashboard = String((await get('/admin/queues')).headers['content-security-policy']);
    expect(dashboard).toContain("base-uri 'self'");
    expect(dashboard).toContain("style-src 'self' 'unsafe-inline'");
    expect(dashboard).toContain("frame-ancestors 'none'");

    for (const url of ['/api/v1/attachments/00000000-0000-4000-8000-000000000000', '/web/attachments/00000000-0000-4000-8000-000000000000']) {
      const res = await get(url);
      expect(res.headers['content-security-policy'], url).toBe("default-src 'none';sandbox");
    }
  });

  it('/docs gets a policy that lets Swagger UI run from this origin only', async () => {
    const res = await get('/docs/');
    expect(res.statusCode).toBe(200);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(res.headers['x-frame-options']).toBe('DENY');
  });

  it('sends HSTS and upgrades sub-requests only when BLEND_PUBLIC_URL is https', async () => {
    const app = buildApp(api.deps({ publicUrl: 'https://blend.example.test' }));
    try {
      for (const url of ['/healthz', '/web/login', '/docs/']) {
        const res = await get(url, app);
        expect(res.headers['strict-transport-security'], url).toBe('max-age=31536000');
        expect(res.headers['content-security-policy'], url).toContain('upgrade-insecure-requests');
      }
    } finally {
      await app.close();
    }
  });

  it('Swagger UI renders in Chromium with no CSP violation', async () => {
    const base = await listenOnLoopback(api.app);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const watch = watchPage(page);
      // Violations are also reported as events in the page; keep them where the test can read them.
      await page.addInitScript(
        "window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sample));",
      );
      await page.goto(`${base}/docs`);
      await page.locator('.swagger-ui .info .title').filter({ hasText: 'Blend API' }).waitFor({ timeout: 15_000 });
      // The operations are listed: the UI fetched and rendered the OpenAPI document.
      await page.locator('.opblock-summary-path').first().waitFor({ timeout: 15_000 });
      expect(await page.locator('.opblock-summary-path').count()).toBeGreaterThan(5);
      // Open one operation: its rendering (schemas, icons) must not trip the policy either.
      await page.locator('.opblock-summary-path').first().click();
      await page.locator('.opblock-body').first().waitFor({ timeout: 15_000 });
      const violations = await page.evaluate<string[]>('window.__csp');
      expect(violations).toEqual([]);
      expect(watch.consoleErrors.filter((e) => /Content.Security.Policy/i.test(e))).toEqual([]);
      expect(watch.pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
