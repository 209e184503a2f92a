import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { EsnPostView, Preferences } from '@blend/db';
import { clickAndLoad, launchChromium, listenOnLoopback, openPage, overflowingElements, scrollWidth, watchPage, type PageWatch } from './support/browser';
import { startStack, type Stack } from './support/stack';
import { swaks } from './support/mail-server';
import { waitFor } from './support/database';

// The web pages in a real browser (Debian's Chromium through playwright-core) against a whole
// running Blend: sign in with a token, post, comment, like, change preferences, and check the
// pages on a phone. Everything is done through the pages' own forms, as a person would.
// Steps run in order and share one signed-in page.

const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const XSS = '<script>alert(1)</script>';
const TITLE = `Launch plan ${XSS} ready`;
const BODY = 'Hello from Chromium <img src=x onerror=alert(2)> #webtest\nSecond line.';
const COMMENT = 'Looks good to me, ship it <b>now</b>';
const PHONE = { width: 375, height: 812 };

let s: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let watch: PageWatch;
let base = '';
let token = '';
let postId = '';
const timings: [string, number][] = [];

/** Run a step and keep how long it took (printed after the file). */
async function timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    timings.push([name, Math.round(performance.now() - t0)]);
  }
}

const path = (p: Page): string => {
  const u = new URL(p.url());
  return u.pathname + u.search;
};

beforeAll(async () => {
  // The browser first: without one the file fails at once, with a message saying what to install.
  browser = await timed('launch chromium', () => launchChromium());
  s = await timed('start stack', () => startStack({}, { poller: false }));
  base = await listenOnLoopback(s.app);
  token = await s.person('wendy@corp.test', { name: 'Wendy Web' });
  ({ context, page, watch } = await openPage(browser));
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await s?.stop();
  if (timings.length > 0) console.log(`web-browser timings (ms):\n${timings.map(([n, ms]) => `  ${n.padEnd(28)} ${ms}`).join('\n')}`);
});

/** Nothing alarming happened on the page so far: no dialog, no script error, no CSP report. */
function expectQuietPage(): void {
  expect(watch.dialogs, 'a dialog opened: some markup was not escaped').toEqual([]);
  expect(watch.pageErrors).toEqual([]);
  expect(watch.consoleErrors, 'console errors (CSP violations show up here)').toEqual([]);
  expect(watch.failedResponses).toEqual([]);
}

describe('the web pages in Chromium', () => {
  it('signs in with an API token and lands on the feed', async () => {
    await timed('step 1 sign in', async () => {
      await page.goto(`${base}/web`);
      // No session: sent to the login page, which remembers where we were going.
      expect(path(page)).toBe('/web/login?next=%2Fweb');
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign in to Blend');

      // A wrong token first: the form comes back with an alert tied to the field.
      await page.getByLabel('API token').fill('blend_this_is_not_a_token');
      await clickAndLoad(page, page.getByRole('button', { name: 'Sign in' }));
      expect(await page.getByRole('alert').textContent()).toContain('That token is not valid');
      expect(await page.getByLabel('API token').getAttribute('aria-invalid')).toBe('true');
      expect(watch.failedResponses).toEqual(['POST 401 /web/login']);
      expect(watch.consoleErrors).toEqual([expect.stringMatching(/status of 401 .*\/web\/login\)$/)]);
      watch.failedResponses.length = 0;
      watch.consoleErrors.length = 0;

      await page.getByLabel('API token').fill(token);
      await clickAndLoad(page, page.getByRole('button', { name: 'Sign in' }));
      expect(path(page)).toBe('/web');
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Feed');
      expect(await page.getByRole('banner').getByText('Wendy Web').count()).toBe(1);

      // The session cookie holds a session of its own, never the token, out of reach of page script.
      const cookies = await context.cookies(base);
      expect(cookies).toEqual([expect.objectContaining({ name: 'blend_session', value: expect.stringMatching(/^bs_[A-Za-z0-9_-]{43}$/), httpOnly: true, sameSite: 'Strict', path: '/' })]);
      expect(cookies[0]!.value).not.toContain(token);
      expect(await page.evaluate<string>('document.cookie')).toBe('');
      expectQuietPage();
    });
  });

  it('posts through the composer; the feed shows the post escaped, with its landmarks', async () => {
    await timed('step 2 compose', async () => {
      const composer = page.getByRole('region', { name: 'New post' });
      expect(await composer.getByLabel('Group').inputValue()).toBe('general');
      await composer.getByLabel('Title (optional)').fill(TITLE);
      await composer.getByLabel("What's new?").fill(BODY);
      await clickAndLoad(page, composer.getByRole('button', { name: 'Post' }));

      // Posting leads to the new thread.
      const m = /^\/web\/posts\/([0-9a-f-]{36})$/.exec(path(page));
      expect(m, `after posting the browser is at ${path(page)}`).not.toBeNull();
      postId = m![1]!;
      expect(await page.title()).toBe(`${TITLE} · Blend`);

      await clickAndLoad(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Feed' }));
      expect(path(page)).toBe('/web');

      // Landmarks and headings: one banner, one main navigation, one main, the filter search.
      expect(await page.getByRole('banner').count()).toBe(1);
      expect(await page.getByRole('navigation', { name: 'Main' }).count()).toBe(1);
      expect(await page.getByRole('main').count()).toBe(1);
      expect(await page.getByRole('search', { name: 'Filter the feed' }).count()).toBe(1);
      expect(await page.getByRole('heading', { level: 1 }).allTextContents()).toEqual(['Feed']);
      expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Feed' }).getAttribute('aria-current')).toBe('page');

      // The post, its title and body shown as the text that was typed, not as markup.
      const article = page.getByRole('article', { name: TITLE, exact: true });
      expect(await article.count()).toBe(1);
      expect(await article.getByRole('heading', { level: 3 }).textContent()).toBe(TITLE);
      expect(await article.getByRole('link', { name: TITLE, exact: true }).getAttribute('href')).toBe(`/web/posts/${postId}`);
      const body = await article.locator('.body').innerText();
      expect(body).toContain('Hello from Chromium <img src=x onerror=alert(2)> #webtest');
      expect(body).toContain('Second line.');
      expect(await article.locator('.body img').count()).toBe(0);
      // Blend's own scripts (live updates, the composer's helpers) are the page's only scripts: the post added none.
      expect(await page.evaluate<string[]>('[...document.scripts].map((s) => s.getAttribute("src") ?? "inline")')).toEqual(['/web/static/live.js', '/web/static/compose.js']);
      expect(await article.getByRole('link', { name: '#webtest' }).getAttribute('href')).toBe('/web?tag=webtest');
      expectQuietPage();
    });
  });

  it('comments and likes on the thread page', async () => {
    await timed('step 3 comment + like', async () => {
      await clickAndLoad(page, page.getByRole('article', { name: TITLE, exact: true }).getByRole('link', { name: TITLE, exact: true }));
      expect(path(page)).toBe(`/web/posts/${postId}`);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(TITLE);
      expect(await page.locator('#comments').getByText('No comments yet.').count()).toBe(1);

      await page.getByLabel('Your comment').fill(COMMENT);
      await clickAndLoad(page, page.getByRole('button', { name: 'Comment', exact: true }));
      const url = new URL(page.url());
      expect(url.pathname).toBe(`/web/posts/${postId}`);
      expect(url.hash).toMatch(/^#c-[0-9a-f-]{36}$/);
      const comment = page.locator(`li${url.hash}`);
      expect(await comment.getByRole('article', { name: 'Comment by Wendy Web' }).count()).toBe(1);
      expect(await comment.locator('.body').innerText()).toBe(COMMENT);
      expect(await page.locator('#comments ol.comments > li').count()).toBe(1);

      const post = page.getByRole('article', { name: TITLE, exact: true });
      expect(await post.locator('.count').textContent()).toBe('0 likes');
      await clickAndLoad(page, post.getByRole('button', { name: 'Like' }));
      expect(path(page)).toBe(`/web/posts/${postId}`);
      const liked = page.getByRole('article', { name: TITLE, exact: true }).getByRole('button', { name: 'Liked' });
      expect(await liked.getAttribute('aria-pressed')).toBe('true');
      expect(await page.getByRole('article', { name: TITLE, exact: true }).locator('.count').textContent()).toBe('1 like');

      // The same through the API, and on the feed.
      const api = await s.get<{ items: EsnPostView[] }>('/api/v1/feed', token);
      const mine = api.body.items.find((p) => p.id === postId);
      expect(mine).toMatchObject({ title: TITLE, reactions: { like: 1, liked_by_me: true }, comments: [expect.objectContaining({ body_text: COMMENT })] });
      await page.goto(`${base}/web`);
      const card = page.getByRole('article', { name: TITLE, exact: true });
      expect(await card.locator('.count').textContent()).toBe('1 like');
      expect(await card.getByRole('link', { name: '1 comment' }).getAttribute('href')).toBe(`/web/posts/${postId}#comments`);
      expectQuietPage();
    });
  });

  it('shows a mail sent through the MTA in the feed with an email badge, and it can be liked and commented on', async () => {
    await timed('step 3b mail to the feed', async () => {
      await s.startPoller();
      const subject = 'Mailed from my mail client';
      await swaks(['--to', `status@${s.mail.domain}`, '--from', 'wendy@corp.test', '--header', `Subject: ${subject}`, '--body', 'This one came in by email.']);
      await waitFor(async () => (await s.get<{ items: EsnPostView[] }>('/api/v1/feed', token)).body.items.some((p) => p.title === subject), 'the mailed post', 20_000);
      await page.goto(`${base}/web`);
      const card = page.getByRole('article', { name: subject, exact: true });
      expect(await card.locator('.badge').textContent()).toBe('email');
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}feed.png`, fullPage: true });
      expect(readFileSync(`${ARTIFACTS}feed.png`).subarray(1, 4).toString()).toBe('PNG');

      await clickAndLoad(page, card.getByRole('button', { name: 'Like' }));
      await page.goto(`${base}/web`);
      expect(await page.getByRole('article', { name: subject, exact: true }).locator('.count').textContent()).toBe('1 like');
      await clickAndLoad(page, page.getByRole('article', { name: subject, exact: true }).getByRole('link', { name: subject, exact: true }));
      await page.getByLabel('Your comment').fill('Seen on the web.');
      await clickAndLoad(page, page.getByRole('button', { name: 'Comment', exact: true }));
      const api = await s.get<{ items: EsnPostView[] }>('/api/v1/feed', token);
      expect(api.body.items.find((p) => p.title === subject)).toMatchObject({
        source: 'email',
        reactions: { like: 1 },
        comments: [expect.objectContaining({ body_text: 'Seen on the web.', source: 'esn' })],
      });
      expectQuietPage();
    });
  });

  it('changes the digest frequency on the preferences page, and it stays changed', async () => {
    await timed('step 4 preferences', async () => {
      const before = (await s.get<Preferences>('/api/v1/me/preferences', token)).body;
      const next = before.digest_frequency === 'weekly' ? 'hourly' : 'weekly';
      await clickAndLoad(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Preferences' }));
      expect(path(page)).toBe('/web/preferences');
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Preferences');
      const frequency = page.getByLabel('Digest frequency');
      expect(await frequency.inputValue()).toBe(before.digest_frequency);

      await frequency.selectOption(next);
      await clickAndLoad(page, page.getByRole('button', { name: 'Save preferences' }));
      expect(path(page)).toBe('/web/preferences?saved=1');
      expect(await page.getByRole('status').textContent()).toBe('Saved.');

      await page.reload();
      expect(await page.getByLabel('Digest frequency').inputValue()).toBe(next);
      // Saving the form changed that one setting and nothing else.
      const after = (await s.get<Preferences>('/api/v1/me/preferences', token)).body;
      expect(after).toEqual({ ...before, digest_frequency: next });
      expectQuietPage();
    });
  });

  it('renders the thread on a desktop screenshot and on a phone without sideways scrolling', async () => {
    await timed('step 5 screenshot + phone', async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.goto(`${base}/web/posts/${postId}`);
      const file = `${ARTIFACTS}thread.png`;
      await page.screenshot({ path: file, fullPage: true });
      const png = readFileSync(file);
      expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
      expect(png.length).toBeGreaterThan(5_000);

      // A phone: same session, 375 CSS px wide, mobile viewport rules (the page must set its
      // own viewport meta, or Chromium lays it out 980 px wide).
      const phone = await browser.newContext({ storageState: await context.storageState(), viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'en-GB', timezoneId: 'UTC' });
      try {
        const p = await phone.newPage();
        const phoneWatch = watchPage(p);
        for (const url of [`/web/posts/${postId}`, '/web', '/web/preferences']) {
          await p.goto(`${base}${url}`);
          expect(path(p), 'the phone is signed in').toBe(url);
          const { scroll, client } = await scrollWidth(p);
          expect(client, `${url}: layout viewport width`).toBe(PHONE.width);
          expect(scroll, `${url} scrolls sideways; too wide: ${(await overflowingElements(p, PHONE.width)).join(', ')}`).toBeLessThanOrEqual(PHONE.width + 1);
        }
        await p.goto(`${base}/web/posts/${postId}`);
        await p.screenshot({ path: `${ARTIFACTS}thread-phone.png`, fullPage: true });
        expect(phoneWatch.dialogs).toEqual([]);
        expect(phoneWatch.pageErrors).toEqual([]);
        expect(phoneWatch.consoleErrors).toEqual([]);
        expect(phoneWatch.failedResponses).toEqual([]);
      } finally {
        await phone.close();
      }
      expectQuietPage();
    });
  });
});
