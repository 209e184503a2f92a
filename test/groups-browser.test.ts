import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { addGroupMember, createGroup, findPersonByEmail, updateGroup } from '@blend/db';
import { clickAndLoad, launchChromium, listenOnLoopback, openPage, signIn, type PageWatch } from './support/browser';
import { startStack, type Stack } from './support/stack';

// Groups in a real browser (Debian's Chromium through playwright-core) against a running Blend:
// join a group from its page with the page's own form, and a private group's post hidden from
// someone who is not a member, in the feed and at its own address (404, as for nothing).
let s: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let watch: PageWatch;
let base = '';
let secretId = '';

beforeAll(async () => {
  browser = await launchChromium();
  s = await startStack({}, { poller: false });
  base = await listenOnLoopback(s.app);
  const wendy = await s.person('wendy@corp.test', { name: 'Wendy Web' });
  const miaToken = await s.person('mia@corp.test', { name: 'Mia Member' });
  const mia = (await findPersonByEmail(s.db.db, 'mia@corp.test'))!;
  await createGroup(s.db.db, { slug: 'design', name: 'Design', description: 'Pixels and type', visibility: 'public', ownerId: mia.id });
  const board = (await createGroup(s.db.db, { slug: 'board', name: 'Board', visibility: 'private', ownerId: null }))!;
  await addGroupMember(s.db.db, board.id, mia.id);
  const attic = (await createGroup(s.db.db, { slug: 'attic', name: 'Attic', visibility: 'public', ownerId: null }))!;
  await updateGroup(s.db.db, attic.id, { archivedAt: new Date() });
  const res = await s.app.inject({ method: 'POST', url: '/api/v1/posts', headers: { authorization: `Bearer ${miaToken}` }, payload: { group: 'board', title: 'Secret reorg plan', body: 'Only for the board.' } });
  expect(res.statusCode, res.body).toBe(201);
  secretId = (res.json() as { id: string }).id;
  await s.app.inject({ method: 'POST', url: '/api/v1/posts', headers: { authorization: `Bearer ${miaToken}` }, payload: { group: 'design', title: 'New logo', body: 'Have a look.' } });

  ({ context, page, watch } = await openPage(browser));
  await signIn(page, base, wendy);
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await s?.stop();
});

describe('a group page', () => {
  it('lists the groups I may know of, and joining from a group\'s page makes me a member', async () => {
    await clickAndLoad(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Groups' }));
    expect(new URL(page.url()).pathname).toBe('/web/groups');
    await expect(page.getByRole('link', { name: 'Design' }).count()).resolves.toBe(1);
    await expect(page.getByRole('link', { name: 'Board' }).count()).resolves.toBe(0);

    await clickAndLoad(page, page.getByRole('link', { name: 'Design' }));
    expect(new URL(page.url()).pathname).toBe('/web/groups/design');
    await expect(page.getByText('Pixels and type').count()).resolves.toBe(1);
    await expect(page.getByRole('link', { name: /^design@/ }).count()).resolves.toBe(1);
    await expect(page.getByRole('article', { name: 'New logo' }).count()).resolves.toBe(1);
    const members = page.getByRole('region', { name: /Members/ });
    await expect(members.getByText('Wendy Web').count()).resolves.toBe(0);

    await clickAndLoad(page, page.getByRole('button', { name: 'Join group' }));
    expect(new URL(page.url()).pathname).toBe('/web/groups/design');
    await expect(page.getByRole('button', { name: 'Leave group' }).count()).resolves.toBe(1);
    await expect(page.getByRole('region', { name: /Members \(2\)/ }).getByText('Wendy Web').count()).resolves.toBe(1);
    expect(watch.pageErrors).toEqual([]);
  });
});

describe('a private group\'s post', () => {
  it('is not in the feed of someone who is not a member', async () => {
    await page.goto(`${base}/web`);
    // The composer offers only groups I may post in: no archived group (the filter still has it).
    const composerGroups = await page.getByRole('region', { name: 'New post' }).getByLabel('Group').locator('option').allTextContents();
    expect(composerGroups).toContain('Design');
    expect(composerGroups).not.toContain('Attic');
    expect(await page.getByRole('search', { name: 'Filter the feed' }).getByLabel('Group').locator('option').allTextContents()).toContain('Attic');
    await expect(page.getByRole('article', { name: 'New logo' }).count()).resolves.toBe(1);
    await expect(page.getByText('Secret reorg plan').count()).resolves.toBe(0);
  });

  it('answers its own address, and the group\'s, with Not found (404), as for a post that does not exist', async () => {
    const direct = await page.goto(`${base}/web/posts/${secretId}`);
    expect(direct?.status()).toBe(404);
    await expect(page.getByRole('heading', { name: 'Not found' }).count()).resolves.toBe(1);
    await expect(page.getByText('Secret reorg plan').count()).resolves.toBe(0);
    const none = await page.goto(`${base}/web/posts/00000000-0000-4000-8000-000000000000`);
    expect(none?.status()).toBe(404);
    expect((await page.goto(`${base}/web/groups/board`))?.status()).toBe(404);
    expect((await page.goto(`${base}/web/groups/no-such-group`))?.status()).toBe(404);
  });
});
