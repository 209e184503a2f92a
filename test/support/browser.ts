import { accessSync, constants } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Locator, type Page } from 'playwright-core';

/**
 * A real browser for the web-page tests: Debian's Chromium (`apt-get install chromium`,
 * done by `scripts/services.sh install`) driven by playwright-core. Never the browsers
 * Playwright downloads: this machine and CI have no network for that.
 */
export const CHROMIUM_PATH = process.env.BLEND_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Flags for a quiet headless Chromium: no sandbox (we run as root in a container), and none
 * of the background traffic (component updates, sync, safe-browsing lists, QUIC probes) that
 * would otherwise hammer the closed network and slow every launch down.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Containers often have a 64 MB /dev/shm; Debian's launcher means to add this flag then,
  // but its check breaks when /dev/shm is mounted twice. Harmless when there is room.
  '--disable-dev-shm-usage',
];

/**
 * Launch Chromium, or throw a message that says what to install: a missing browser must fail
 * the test run (CI installs it), never skip it. Each launch gets a fresh, throw-away profile
 * (Playwright makes a temporary --user-data-dir and removes it on close).
 */
export async function launchChromium(): Promise<Browser> {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
  } catch {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}: the browser tests need it. ` +
        'Install it with `scripts/services.sh install` (Debian package "chromium"), or point BLEND_CHROMIUM at a Chromium binary. ' +
        'Do not use `npx playwright install`.',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/** Open the in-memory app on a real loopback port (a browser needs one). @returns its base URL */
export async function listenOnLoopback(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address() as AddressInfo;
  return `http://127.0.0.1:${addr.port}`;
}

/** What a page did that a test should see: dialogs (dismissed at once), script errors, console errors. */
export interface PageWatch {
  dialogs: string[];
  pageErrors: string[];
  consoleErrors: string[];
  /** Responses with status >= 400 (method, status, path). */
  failedResponses: string[];
}

/**
 * Record everything alarming a page does. Dialogs are dismissed so that a stray `alert()`
 * cannot hang the test; CSP violations show up as console errors.
 */
export function watchPage(page: Page): PageWatch {
  const w: PageWatch = { dialogs: [], pageErrors: [], consoleErrors: [], failedResponses: [] };
  page.on('dialog', (d) => {
    w.dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss().catch(() => undefined);
  });
  page.on('pageerror', (err) => w.pageErrors.push(err.message));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const url = m.location().url;
    // The browser asks for /favicon.ico by itself (the pages link none, and Blend serves
    // none): not something a page did.
    if (url && new URL(url).pathname === '/favicon.ico') return;
    w.consoleErrors.push(`${m.text()} (${url || 'no url'})`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) w.failedResponses.push(`${r.request().method()} ${r.status()} ${new URL(r.url()).pathname}`);
  });
  return w;
}

/**
 * A fresh context with one watched page: a desktop window (1280×900), British English, UTC and
 * 15 s for each action unless `options` say otherwise. The caller closes the context.
 */
export async function openPage(browser: Browser, options: BrowserContextOptions = {}): Promise<{ context: BrowserContext; page: Page; watch: PageWatch }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'UTC', ...options });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  return { context, page, watch: watchPage(page) };
}

/** Signs in with an API token on the English login page, as a person would. */
export async function signIn(page: Page, base: string, token: string): Promise<void> {
  await page.goto(`${base}/web/login`);
  await page.getByLabel('API token').fill(token);
  await clickAndLoad(page, page.getByRole('button', { name: 'Sign in' }));
}

/** Width of the page's scrollable area in CSS pixels (more than the viewport: horizontal scroll). */
export async function scrollWidth(page: Page): Promise<{ scroll: number; client: number }> {
  return page.evaluate<{ scroll: number; client: number }>(
    '({ scroll: document.scrollingElement.scrollWidth, client: document.scrollingElement.clientWidth })',
  );
}

/**
 * The elements sticking out past the right edge of the viewport, for a readable failure
 * message when a page scrolls sideways.
 */
export async function overflowingElements(page: Page, width: number): Promise<string[]> {
  const w = Math.round(width);
  return page.evaluate<string[]>(
    `[...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > ${w} + 1)
      .slice(0, 10)
      .map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '') + ' right=' + Math.round(e.getBoundingClientRect().right))`,
  );
}

/**
 * Click something that makes the page navigate (a form's submit button, a link) and wait
 * until the next document has loaded: a POST, its 303 and the page it leads to. Works when
 * the new URL equals the old one, where `waitForURL` would return at once.
 */
export async function clickAndLoad(page: Page, target: Locator): Promise<void> {
  const navigated = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: 15_000 });
  await target.click();
  await navigated;
  await page.waitForLoadState('load');
}
