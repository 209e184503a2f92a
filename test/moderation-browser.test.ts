import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { eq } from 'drizzle-orm';
import { schema } from '@blend/db';
import { clickAndLoad, launchChromium, listenOnLoopback, openPage, signIn } from './support/browser';
import { startStack, type Stack } from './support/stack';

// Moderation in a real browser (Debian's Chromium through playwright-core): a reader reports a
// post with the form under it, an admin hides it from the queue on the admin page, the reader
// gets 404 for it while its author sees it with the reason, and the admin restores it. Plain
// forms, no script needed (docs/SECURITY.md, moderation).
let s: Stack;
let browser: Browser;
const contexts: BrowserContext[] = [];
let postId = '';
let base = '';

async function signedIn(token: string): Promise<Page> {
  const { context, page } = await openPage(browser, { javaScriptEnabled: false });
  contexts.push(context);
  await signIn(page, base, token);
  return page;
}

let reader: Page;
let admin: Page;
let author: Page;

beforeAll(async () => {
  browser = await launchChromium();
  s = await startStack({}, { poller: false });
  base = await listenOnLoopback(s.app);
  const authorToken = await s.person('bob@corp.test', { name: 'Bob Author' });
  const readerToken = await s.person('rita@corp.test', { name: 'Rita Reader' });
  const adminToken = await s.person('ada@corp.test', { name: 'Ada Admin' });
  await s.db.db.update(schema.people).set({ isAdmin: true }).where(eq(schema.people.email, 'ada@corp.test'));
  const res = await s.app.inject({ method: 'POST', url: '/api/v1/posts', headers: { authorization: `Bearer ${authorToken}` }, payload: { group: 'general', title: 'Cheap watches here', body: 'Buy now!' } });
  expect(res.statusCode, res.body).toBe(201);
  postId = (res.json() as { id: string }).id;
  reader = await signedIn(readerToken);
  admin = await signedIn(adminToken);
  author = await signedIn(authorToken);
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await s?.stop();
});

describe('reporting, hiding and restoring in the browser', () => {
  it('a reader reports the post with the form under it (no script)', async () => {
    await reader.goto(`${base}/web/posts/${postId}`);
    await reader.getByText('Report', { exact: true }).click();
    await reader.getByLabel('Why should an admin look at this?').fill('Spam for watches');
    await clickAndLoad(reader, reader.getByRole('button', { name: 'Send report' }));
    await expect(reader.getByRole('status').textContent()).resolves.toContain('your report was sent');
  });

  it('the admin page lists it under Moderation; Hide takes it from the reader (404) and shows the author the reason', async () => {
    await admin.goto(`${base}/web/admin`);
    const section = admin.getByRole('region', { name: 'Moderation' });
    const row = section.getByRole('row', { name: /Cheap watches here/ });
    await expect(row.getByText('Spam for watches', { exact: true }).count()).resolves.toBe(1);
    await expect(row.getByText('Rita Reader').count()).resolves.toBe(1);
    await row.getByLabel('Reason, shown to the author').fill('Advertising is not allowed');
    await clickAndLoad(admin, row.getByRole('button', { name: 'Hide' }));
    const after = admin.getByRole('region', { name: 'Moderation' });
    await expect(after.getByRole('status').textContent()).resolves.toContain('Hidden');
    await expect(after.getByText('No open reports.').count()).resolves.toBe(1);
    await expect(after.getByRole('row', { name: /Cheap watches here/ }).getByText('Advertising is not allowed').count()).resolves.toBe(1);

    const gone = await reader.goto(`${base}/web/posts/${postId}`);
    expect(gone?.status()).toBe(404);
    await reader.goto(`${base}/web`);
    await expect(reader.getByText('Cheap watches here').count()).resolves.toBe(0);

    await author.goto(`${base}/web/posts/${postId}`);
    await expect(author.getByRole('note').textContent()).resolves.toContain('Hidden by a moderator: Advertising is not allowed');
    await expect(author.getByRole('heading', { name: 'Cheap watches here' }).count()).resolves.toBe(1);
  });

  it('Restore on the admin page brings it back for the reader', async () => {
    await admin.goto(`${base}/web/admin`);
    await clickAndLoad(admin, admin.getByRole('button', { name: 'Restore Cheap watches here' }));
    await expect(admin.getByRole('region', { name: 'Moderation' }).getByText('Nothing is hidden.').count()).resolves.toBe(1);
    const back = await reader.goto(`${base}/web/posts/${postId}`);
    expect(back?.status()).toBe(200);
    await expect(reader.getByRole('heading', { name: 'Cheap watches here' }).count()).resolves.toBe(1);
  });

  it('a hide with a forged CSRF token is refused, and so is a reader’s hide with a good one', async () => {
    const forged = await admin.request.post(`${base}/web/admin/posts/${postId}/hide`, { form: { _csrf: 'forged', reason: 'x' }, headers: { origin: base } });
    expect(forged.status()).toBe(403);
    await reader.goto(`${base}/web/posts/${postId}`);
    const token = await reader.locator('input[name="_csrf"]').first().getAttribute('value');
    const notAdmin = await reader.request.post(`${base}/web/admin/posts/${postId}/hide`, { form: { _csrf: token!, reason: 'x' }, headers: { origin: base } });
    expect(notAdmin.status()).toBe(403);
    const row = await s.db.db.select({ hiddenAt: schema.posts.hiddenAt }).from(schema.posts).where(eq(schema.posts.id, postId));
    expect(row[0]!.hiddenAt).toBeNull();
  });
});
