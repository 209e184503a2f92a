import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ensureGroup, getEsnPostView, insertComment, insertPost, issueApiToken, upsertPerson } from '@blend/db';
import { clickAndLoad, launchChromium, listenOnLoopback, openPage, signIn, type PageWatch } from './support/browser';
import { startTestApi, type TestApi } from './support/api';

// The friendlier feed in Chromium (docs/ARCHITECTURE.md "Web composer"): latest comments under
// each card, avatars, times in words with the exact time on hover, emoji reactions, and the
// composer's Markdown preview, @ suggestions and files. With script, and the preview without.

let api: TestApi;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let watch: PageWatch;
let base = '';
let token = '';
const ids: Record<string, string> = {};

beforeAll(async () => {
  browser = await launchChromium();
  api = await startTestApi();
  const db = api.t.db;
  const wendy = await upsertPerson(db, { email: 'wendy@corp.test', name: 'Wendy Web', optIn: true });
  const bob = await upsertPerson(db, { email: 'bob@corp.test', name: 'Bob Builder', optIn: true });
  await upsertPerson(db, { email: 'bobby@corp.test', name: 'Bobby Pending', optIn: false });
  token = await issueApiToken(db, wendy.person.id);
  const g = await ensureGroup(db, 'general');
  const post = await insertPost(db, { groupId: g.id, authorId: bob.person.id, title: 'Quarterly numbers', bodyText: 'Up 5%', bodyHtml: '<p>Up 5%</p>', source: 'esn', createdAt: new Date(Date.UTC(2026, 5, 1, 9, 30)) });
  ids.post = post.id;
  await insertComment(db, { postId: post.id, authorId: wendy.person.id, bodyText: 'Nice work', bodyHtml: '<p>Nice work</p>', source: 'esn', createdAt: new Date(Date.UTC(2026, 5, 1, 10)) });
  await insertComment(db, { postId: post.id, authorId: bob.person.id, bodyText: 'Thanks!', bodyHtml: '<p>Thanks!</p>', source: 'email', createdAt: new Date(Date.UTC(2026, 5, 1, 11)) });
  base = await listenOnLoopback(api.app);
  ({ context, page, watch } = await openPage(browser));
  await signIn(page, base, token);
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await api?.close();
});

function expectQuietPage(): void {
  expect(watch.dialogs).toEqual([]);
  expect(watch.pageErrors).toEqual([]);
  expect(watch.consoleErrors, 'console errors (CSP violations show up here)').toEqual([]);
}

describe('the feed in Chromium', () => {
  it('shows each post with its latest comments, avatars and times in words with the exact time on hover', async () => {
    const card = page.getByRole('article', { name: 'Quarterly numbers' });
    const latest = card.getByRole('region', { name: 'Latest comments' });
    expect(await latest.getByRole('listitem').allInnerTexts()).toEqual([expect.stringContaining('Nice work'), expect.stringContaining('Thanks!')]);
    // The avatar is decorative: its initials are not read out, the name beside it is.
    const avatar = card.locator('header .avatar');
    expect(await avatar.textContent()).toBe('BB');
    expect(await avatar.getAttribute('aria-hidden')).toBe('true');
    expect(await card.locator('header .meta').innerText()).toMatch(/^BB\s*Bob Builder in general/);
    const time = card.locator('header time');
    expect(await time.getAttribute('datetime')).toBe('2026-06-01T09:30:00.000Z');
    expect(await time.getAttribute('title')).toBe('1 Jun 2026, 09:30');
    expect(await time.textContent()).toMatch(/ ago$|^yesterday$|^last /);
    expectQuietPage();
  });

  it('reacts with an emoji, and takes it back', async () => {
    const card = () => page.getByRole('article', { name: 'Quarterly numbers' });
    await clickAndLoad(page, card().getByRole('button', { name: 'Celebrate: 0' }));
    const given = card().getByRole('button', { name: 'Celebrate: 1' });
    expect(await given.getAttribute('aria-pressed')).toBe('true');
    const view = await getEsnPostView(api.t.db, ids.post!, null);
    expect(view!.reactions.counts.tada).toBe(1);
    await clickAndLoad(page, given);
    expect(await card().getByRole('button', { name: 'Celebrate: 0' }).getAttribute('aria-pressed')).toBe('false');
    expectQuietPage();
  });

  it('composes with Markdown: @ suggestions, a preview in place, a file attached', async () => {
    const composer = page.getByRole('region', { name: 'New post' });
    const body = composer.getByLabel("What's new?");
    await body.fill('');
    await body.pressSequentially('**Bold** plan for @bob');
    // The suggestions: a listbox the field controls, only opted-in people in it.
    const list = page.getByRole('listbox', { name: 'People to mention' });
    await list.getByRole('option').first().waitFor();
    expect(await list.getByRole('option').allInnerTexts()).toEqual([expect.stringContaining('Bob Builder')]);
    expect(await body.getAttribute('aria-expanded')).toBe('true');
    expect(await body.getAttribute('aria-activedescendant')).toBe('mention-0');
    await body.press('Enter');
    expect(await body.inputValue()).toBe('**Bold** plan for @bob@corp.test ');
    expect(await body.getAttribute('aria-expanded')).toBe('false');

    // The preview comes in place: same page, the Markdown rendered.
    const url = page.url();
    await composer.getByRole('button', { name: 'Preview' }).click();
    const preview = composer.getByRole('region', { name: 'Preview' });
    await preview.locator('strong').waitFor();
    expect(await preview.locator('strong').textContent()).toBe('Bold');
    expect(page.url()).toBe(url);

    await composer.getByLabel('Title (optional)').fill('Plan with slides');
    await composer.getByLabel('Attach files').setInputFiles({ name: 'slides.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4 slides') });
    await clickAndLoad(page, composer.getByRole('button', { name: 'Post', exact: true }));
    expect(new URL(page.url()).pathname).toMatch(/^\/web\/posts\/[0-9a-f-]{36}$/);
    const post = page.getByRole('article', { name: 'Plan with slides' });
    expect(await post.locator('.body strong').textContent()).toBe('Bold');
    const file = post.getByRole('region', { name: 'Attachments' }).getByRole('link', { name: 'slides.pdf' });
    const download = await api.app.inject({ method: 'GET', url: (await file.getAttribute('href'))!, headers: { cookie: (await context.cookies(base)).map((c) => `${c.name}=${c.value}`).join('; ') } });
    expect(download.body).toBe('%PDF-1.4 slides');
    expectQuietPage();
  });

  it('previews without script too, as a page of its own', async () => {
    const plain = await browser.newContext({ javaScriptEnabled: false, locale: 'en-GB', timezoneId: 'UTC' });
    try {
      await plain.addCookies(await context.cookies(base));
      const p = await plain.newPage();
      await p.goto(`${base}/web`);
      const composer = p.getByRole('region', { name: 'New post' });
      await composer.getByLabel("What's new?").fill('- one\n- *two*');
      await clickAndLoad(p, composer.getByRole('button', { name: 'Preview' }));
      expect(await p.getByRole('heading', { level: 1 }).textContent()).toBe('Preview');
      expect(await p.locator('.preview .body li em').textContent()).toBe('two');
      // The form comes back filled in, ready to post.
      expect(await p.getByRole('region', { name: 'New post' }).getByLabel("What's new?").inputValue()).toBe('- one\n- *two*');
    } finally {
      await plain.close();
    }
  });
});
