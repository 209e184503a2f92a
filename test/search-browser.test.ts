import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { addGroupMember, createGroup, ensureGroup, findPersonByEmail, insertComment, insertPost } from '@blend/db';
import { clickAndLoad, launchChromium, listenOnLoopback, openPage, overflowingElements, scrollWidth, signIn, type PageWatch } from './support/browser';
import { personWithToken, startTestApi, type TestApi } from './support/api';

// Search in a real browser (Debian's Chromium through playwright-core): the search box in every
// page's header, the results page with its matches in <mark>, hostile text shown as text, a
// private group's post not found by someone outside it, paging, and the phone width.
let api: TestApi;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let watch: PageWatch;
let base = '';
const ids: Record<string, string> = {};

const XSS = '<img src=x onerror=alert(1)>';

beforeAll(async () => {
  browser = await launchChromium();
  api = await startTestApi({ addressing: { mode: 'domain', domain: 'search-web.test' } });
  base = await listenOnLoopback(api.app);
  const db = api.t.db;
  const wendy = await personWithToken(db, { email: 'wendy@corp.test', name: 'Wendy Web' });
  const mia = await personWithToken(db, { email: 'mia@corp.test', name: 'Mia Member' });
  const general = await ensureGroup(db, 'general');
  const board = (await createGroup(db, { slug: 'board', name: 'Board', visibility: 'private', ownerId: null }))!;
  await addGroupMember(db, board.id, mia.id);
  const post = (title: string, body: string, groupId = general.id, day = 1) =>
    insertPost(db, { groupId, authorId: mia.id, title, bodyText: body, bodyHtml: '<p>x</p>', source: 'esn', createdAt: new Date(Date.UTC(2026, 10, day, 9)) });
  ids.lighthouse = (await post(`Lighthouse ${XSS} survey`, 'The lighthouse keepers met on Tuesday to plan the repainting.')).id;
  ids.comment = (await insertComment(db, { postId: ids.lighthouse, authorId: mia.id, bodyText: 'Die Leuchttürme werden im Frühjahr gestrichen.', bodyHtml: '<p>x</p>', source: 'esn' })).id;
  ids.secret = (await post('Board lighthouse sale', 'The lighthouse is for sale, keep it quiet.', board.id)).id;
  for (let i = 0; i < 25; i++) await post(`Buoy report ${i}`, `Buoy number ${i} is in place.`, general.id, 2 + (i % 20));

  ({ context, page, watch } = await openPage(browser));
  await signIn(page, base, wendy.token);
  expect((await findPersonByEmail(db, 'wendy@corp.test'))?.name).toBe('Wendy Web');
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await api?.close();
});

function expectQuietPage(): void {
  expect(watch.dialogs, 'a dialog opened: some markup was not escaped').toEqual([]);
  expect(watch.pageErrors).toEqual([]);
  expect(watch.consoleErrors).toEqual([]);
}

describe('the search box', () => {
  it('is in the header of the feed, labelled, in a search landmark, and leads to the results', async () => {
    await page.goto(`${base}/web`);
    const box = page.getByRole('search', { name: 'Site search' }).getByRole('searchbox', { name: 'Search posts and comments' });
    await expect(box.count()).resolves.toBe(1);
    await box.fill('lighthouse');
    await clickAndLoad(page, page.getByRole('search', { name: 'Site search' }).getByRole('button', { name: 'Search' }));
    expect(new URL(page.url()).pathname).toBe('/web/search');
    expect(new URL(page.url()).searchParams.get('q')).toBe('lighthouse');
    // The box keeps the words searched for.
    await expect(box.inputValue()).resolves.toBe('lighthouse');
    expectQuietPage();
  });
});

describe('the results page', () => {
  it('shows the matches in <mark>, hostile markup as text, and not the private group\'s post', async () => {
    await page.goto(`${base}/web/search?q=lighthouse`);
    const results = page.getByRole('region', { name: 'Results for “lighthouse”' });
    const link = results.getByRole('link', { name: `Lighthouse ${XSS} survey` });
    await expect(link.count()).resolves.toBe(1);
    await expect(link.locator('mark').allTextContents()).resolves.toEqual(['Lighthouse']);
    await expect(results.locator('.snippet mark').first().textContent()).resolves.toBe('lighthouse');
    await expect(page.locator('img').count()).resolves.toBe(0);
    await expect(page.getByText('Board lighthouse sale').count()).resolves.toBe(0);
    await clickAndLoad(page, link);
    expect(new URL(page.url()).pathname).toBe(`/web/posts/${ids.lighthouse}`);
    expectQuietPage();
  });

  it('finds a German comment by its stem and links to it in the thread', async () => {
    await page.goto(`${base}/web/search?q=${encodeURIComponent('Leuchtturm')}`);
    const link = page.getByRole('link', { name: /Comment on Lighthouse/ });
    await expect(link.count()).resolves.toBe(1);
    await expect(page.locator('.snippet mark').allTextContents()).resolves.toEqual(['Leuchttürme']);
    await clickAndLoad(page, link);
    expect(new URL(page.url()).hash).toBe(`#c-${ids.comment}`);
  });

  it('pages with "More results" and says when a query has nothing to search for', async () => {
    await page.goto(`${base}/web/search?q=buoy`);
    await expect(page.locator('ol.results > li').count()).resolves.toBe(20);
    await clickAndLoad(page, page.getByRole('link', { name: 'More results' }));
    await expect(page.locator('ol.results > li').count()).resolves.toBe(5);
    await expect(page.getByRole('link', { name: 'More results' }).count()).resolves.toBe(0);

    const bad = await page.goto(`${base}/web/search?q=${encodeURIComponent('!!!')}`);
    expect(bad?.status()).toBe(400);
    await expect(page.getByRole('alert').textContent()).resolves.toContain('no letters or digits');
    // That 400 is the browser's only console error so far, and an expected one.
    expect(watch.consoleErrors).toEqual([expect.stringContaining('400 (Bad Request)')]);
    watch.consoleErrors.length = 0;
  });

  it('fits a phone without sideways scrolling', async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    await page.goto(`${base}/web/search?q=lighthouse`);
    const w = await scrollWidth(page);
    expect(w.scroll, (await overflowingElements(page, w.client)).join('\n')).toBeLessThanOrEqual(w.client);
    expectQuietPage();
  });
});
