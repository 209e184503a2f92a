import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { eq } from 'drizzle-orm';
import { schema } from '@blend/db';
import { clickAndLoad, launchChromium, listenOnLoopback, openPage, signIn, watchPage, type PageWatch } from './support/browser';
import { startStack, type Stack } from './support/stack';

// Live updates in a real browser (Debian's Chromium through playwright-core): a reader has the
// feed and a thread open; a new comment appears on the thread, and when an admin hides the post
// it leaves both pages without a reload, announced in the aria-live region. The script runs
// under the pages' unchanged CSP (scripts from 'self' only; docs/SECURITY.md B30, B41).
let s: Stack;
let browser: Browser;
const contexts: BrowserContext[] = [];
let base = '';
let bob = '';
let ada = '';
let postId = '';
const watches: PageWatch[] = [];

async function signedIn(token: string): Promise<Page> {
  const { context, page, watch } = await openPage(browser);
  contexts.push(context);
  watches.push(watch);
  await signIn(page, base, token);
  return page;
}

async function api(token: string, method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object): Promise<{ id: string }> {
  const res = await s.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
  expect(res.statusCode, res.body).toBeLessThan(300);
  return res.json() as { id: string };
}

beforeAll(async () => {
  browser = await launchChromium();
  s = await startStack({}, { poller: false });
  base = await listenOnLoopback(s.app);
  bob = await s.person('bob@corp.test', { name: 'Bob Author' });
  ada = await s.person('ada@corp.test', { name: 'Ada Admin' });
  await s.db.db.update(schema.people).set({ isAdmin: true }).where(eq(schema.people.email, 'ada@corp.test'));
  postId = (await api(bob, 'POST', '/api/v1/posts', { group: 'general', title: 'Cheap watches here', body: 'Buy now!' })).id;
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await s?.stop();
});

describe('live updates on open pages', () => {
  it('a new comment and then a moderator’s hide reach the open thread and feed without a reload', async () => {
    const readerToken = await s.person('rita@corp.test', { name: 'Rita Reader' });
    const thread = await signedIn(readerToken);
    await thread.goto(`${base}/web/posts/${postId}`);
    const feed = await thread.context().newPage();
    watches.push(watchPage(feed));
    await feed.goto(`${base}/web`);
    await expect(feed.getByRole('heading', { name: 'Cheap watches here' }).count()).resolves.toBe(1);
    // The stream is open before anything happens (its first line is the retry hint).
    const opened = (p: Page) => p.waitForResponse((r) => r.url().endsWith('/api/v1/stream') && r.status() === 200);
    await Promise.all([opened(thread), opened(feed), thread.reload(), feed.reload()]);

    const comment = await api(bob, 'POST', `/api/v1/posts/${postId}/comments`, { body: 'Really cheap' });
    await thread.locator('#comments').getByText('Really cheap').waitFor();
    await expect(thread.locator('#live').textContent()).resolves.toContain('New comment from Bob Author');
    await api(bob, 'PATCH', `/api/v1/comments/${comment.id}`, { body: 'Really, really cheap' });
    await thread.locator(`#c-${comment.id}`).getByText('Really, really cheap').waitFor();

    await api(ada, 'POST', `/api/v1/admin/posts/${postId}/hide`, { reason: 'Advertising' });
    await thread.getByRole('heading', { name: 'Removed' }).waitFor();
    await expect(thread.getByText('Buy now!').count()).resolves.toBe(0);
    await expect(thread.locator('#live').textContent()).resolves.toContain('This post was removed.');
    await feed.getByRole('heading', { name: 'Cheap watches here' }).waitFor({ state: 'detached' });
    await expect(feed.locator('#live').textContent()).resolves.toContain('A post was removed.');
  });

  it('a new post shows "1 new post — show" on the open feed', async () => {
    const feed = contexts[0]!.pages()[1]!;
    await api(bob, 'POST', '/api/v1/posts', { group: 'general', title: 'Team lunch', body: 'Friday' });
    await feed.locator('#live').getByText(/1 new post/).waitFor();
    await clickAndLoad(feed, feed.locator('#live').getByRole('link', { name: 'show' }));
    await expect(feed.getByRole('heading', { name: 'Team lunch' }).count()).resolves.toBe(1);
  });

  it('ran without script errors or CSP violations', () => {
    for (const w of watches) {
      expect(w.pageErrors).toEqual([]);
      expect(w.consoleErrors).toEqual([]);
    }
  });
});
