import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import type { Browser } from 'playwright-core';
import type { EsnPostView } from '@blend/db';
import { ensureGroup, getInbound, schema, storeFetched } from '@blend/db';
import { ingest } from '@blend/worker';
import { personWithToken, sessionCookie, startTestApi, type TestApi } from './support/api';
import { launchChromium, listenOnLoopback, watchPage } from './support/browser';
import { ingestDeps } from './support/ingest';

// What extraction cut from a mail is kept with its post or comment and shown to the mail's
// author only (API, web page in Chromium); the raw mail is there for admins, audited.

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, 'fixtures/mail', name));
// A reply quoting an IBAN: BLEND_REDACT (card,iban in the tests) applies to the cut part too.
const IBAN = 'DE89370400440532013000';
const REDACTED_REPLY = Buffer.from(
  [
    'From: Bob <bob@corp.test>',
    'To: alice@corp.test',
    'Cc: status@example.test',
    'Subject: Re: Quarterly plan is ready',
    'Date: Tue, 24 Nov 2026 11:00:00 +0000',
    'Message-ID: <plan-3@corp.test>',
    'In-Reply-To: <plan-1@corp.test>',
    'References: <plan-1@corp.test>',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Paid.',
    '',
    'On Tue, 24 Nov 2026 at 09:00, Alice Example <alice@corp.test> wrote:',
    `> Please pay ${IBAN} by Friday.`,
    '',
  ].join('\r\n'),
);

let api: TestApi;
const tokens: Record<string, string> = {};
const inbound: Record<string, string> = {};
let postId = '';
let uid = 0;

async function ingestRaw(name: string, raw: Buffer): Promise<void> {
  const [row] = await storeFetched(api.t.db, 'imap://test', 1, [{ uid: ++uid, size: raw.length, raw, internalDate: new Date(Date.parse('2026-11-24T12:00:00Z') + uid * 60_000) }]);
  await ingest({ inboundId: row!.id }, ingestDeps(api.t.db));
  inbound[name] = row!.id;
}

const get = (url: string, who?: string) => api.app.inject({ method: 'GET', url, headers: who ? { authorization: `Bearer ${tokens[who]}` } : {} });

beforeAll(async () => {
  api = await startTestApi();
  await ensureGroup(api.t.db, 'general');
  for (const [who, extra] of [['alice', { name: 'Alice Example' }], ['bob', { name: 'Bob' }], ['erin', {}], ['root', { isAdmin: true }]] as const) {
    tokens[who] = (await personWithToken(api.t.db, { email: `${who}@corp.test`, ...extra })).token;
  }
  await ingestRaw('post', fixture('plain-new-thread.eml'));
  await ingestRaw('reply', fixture('plain-reply.eml'));
  await ingestRaw('redacted', REDACTED_REPLY);
  postId = (await getInbound(api.t.db, inbound.post!))!.postId!;
  expect((await getInbound(api.t.db, inbound.reply!))!.state).toBe('commented');
});
afterAll(async () => api?.close());

describe('trimmed_text', () => {
  it('is given to the author of each mail, and to nobody else', async () => {
    const as = async (who: string) => (await get(`/api/v1/posts/${postId}`, who)).json<EsnPostView>();
    const alice = await as('alice');
    expect(alice.body_text).not.toContain('Head of Planning');
    expect(alice.trimmed_text).toBe('--\nAlice Example\nHead of Planning');
    expect(alice.comments.map((c) => c.trimmed_text)).toEqual([null, null]);

    const bob = await as('bob');
    expect(bob.trimmed_text).toBeNull();
    expect(bob.comments[0]!.body_text).toBe('Looks good to me, one question about Q3 hiring.');
    expect(bob.comments[0]!.trimmed_text).toBe(
      'On Tue, 24 Nov 2026 at 09:00, Alice Example <alice@corp.test> wrote:\n> The quarterly plan is ready for review\n> Please comment by Friday.',
    );

    // Another reader, and an admin, see none of it: it quotes people who may not have opted in.
    for (const who of ['erin', 'root']) {
      const v = await as(who);
      expect([v.trimmed_text, ...v.comments.map((c) => c.trimmed_text)]).toEqual([null, null, null]);
    }
  });

  it('is redacted like the body', async () => {
    const comment = (await get(`/api/v1/posts/${postId}`, 'bob')).json<EsnPostView>().comments[1]!;
    expect(comment.body_text).toBe('Paid.');
    expect(comment.trimmed_text).toMatch(/^On Tue.*wrote:\n> Please pay .+ by Friday\.$/);
    expect(comment.trimmed_text).not.toContain(IBAN);
  });

  it('is left out of the feed', async () => {
    const feed = (await get('/api/v1/feed', 'alice')).json<{ items: EsnPostView[] }>();
    const item = feed.items.find((p) => p.id === postId)!;
    expect(item).not.toHaveProperty('trimmed_text');
    for (const c of item.comments) expect(c).not.toHaveProperty('trimmed_text');
  });

  it('goes with the text when the author retracts the comment', async () => {
    const commentId = (await getInbound(api.t.db, inbound.redacted!))!.commentId!;
    const res = await api.app.inject({ method: 'DELETE', url: `/api/v1/comments/${commentId}`, headers: { authorization: `Bearer ${tokens.bob}` } });
    expect(res.statusCode).toBe(204);
    const [row] = await api.t.db.select({ trimmedText: schema.comments.trimmedText }).from(schema.comments).where(eq(schema.comments.id, commentId));
    expect(row!.trimmedText).toBeNull();
  });

  it('shows behind a closed "Show trimmed content" toggle on the thread page (Chromium)', async () => {
    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      const base = await listenOnLoopback(api.app);
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const session = (await sessionCookie(api.t.db, tokens.bob!)).replace(/^blend_session=/, '');
      await context.addCookies([{ name: 'blend_session', value: session, url: base }]);
      const page = await context.newPage();
      const watch = watchPage(page);
      await page.goto(`${base}/web/posts/${postId}`);
      // Bob sees his own comment's cut part, not Alice's signature on the post.
      const toggles = page.getByText('Show trimmed content');
      expect(await toggles.count()).toBe(1);
      const details = page.locator('details.trimmed');
      const quote = details.getByText('> The quarterly plan is ready for review', { exact: false });
      expect(await details.getAttribute('open')).toBeNull();
      expect(await quote.isVisible()).toBe(false);
      await toggles.click();
      expect(await details.getAttribute('open')).toBe('');
      expect(await quote.isVisible()).toBe(true);
      // Escaped: the quoted address is text, not markup.
      expect(await details.locator('pre').textContent()).toContain('Alice Example <alice@corp.test> wrote:');
      expect(watch.pageErrors).toEqual([]);
      expect(watch.consoleErrors).toEqual([]);
      await context.close();
    } finally {
      await browser?.close();
    }
  });
});

describe('GET /api/v1/admin/inbound/:id/source', () => {
  const url = (id: string) => `/api/v1/admin/inbound/${id}/source`;

  it('gives an admin the exact bytes as a download, and audits it', async () => {
    const res = await get(url(inbound.reply!), 'root');
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(fixture('plain-reply.eml'))).toBe(true);
    expect(res.headers['content-type']).toBe('message/rfc822');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="inbound-${inbound.reply}.eml"`);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain('sandbox');
    expect(res.headers['cache-control']).toBe('no-store');
    const audit = await api.t.db
      .select()
      .from(schema.auditLog)
      .where(and(eq(schema.auditLog.action, 'view_inbound_source'), eq(schema.auditLog.subject, inbound.reply!)));
    expect(audit).toEqual([expect.objectContaining({ actor: 'api:root@corp.test', detail: expect.objectContaining({ bytes: res.rawPayload.length }) })]);
  });

  it('is 401 without a token, 403 for a non-admin, 404 for an unknown id', async () => {
    expect((await get(url(inbound.reply!))).statusCode).toBe(401);
    const bob = await get(url(inbound.reply!), 'bob');
    expect(bob.statusCode).toBe(403);
    expect(bob.body).not.toContain('Looks good');
    expect((await get(url('00000000-0000-4000-8000-000000000000'), 'root')).json()).toMatchObject({ error: { code: 'INBOUND_NOT_FOUND' } });
    expect((await get(url('not-a-uuid'), 'root')).statusCode).toBe(404);
  });

  it('is 410 SOURCE_PURGED once retention removed the raw mail, without an audit entry', async () => {
    await api.t.db.update(schema.inboundMessages).set({ raw: null }).where(eq(schema.inboundMessages.id, inbound.post!));
    const res = await get(url(inbound.post!), 'root');
    expect(res.statusCode).toBe(410);
    expect(res.json()).toMatchObject({ error: { code: 'SOURCE_PURGED' } });
    const audit = await api.t.db.select().from(schema.auditLog).where(eq(schema.auditLog.subject, inbound.post!));
    expect(audit).toEqual([]);
  });

  it('is linked from the web admin page and the thread page, served there to admins only (audited as web:)', async () => {
    const sessions: Record<string, string> = { root: await sessionCookie(api.t.db, tokens.root!), bob: await sessionCookie(api.t.db, tokens.bob!) };
    const cookie = (who: string) => ({ cookie: sessions[who]! });
    const admin = await api.app.inject({ method: 'GET', url: '/web/admin', headers: cookie('root') });
    expect(admin.body).toContain(`href="/web/admin/inbound/${inbound.reply}/source"`);
    const res = await api.app.inject({ method: 'GET', url: `/web/admin/inbound/${inbound.reply}/source`, headers: cookie('root') });
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(fixture('plain-reply.eml'))).toBe(true);
    expect(res.headers['content-disposition']).toMatch(/^attachment;/);
    const [entry] = await api.t.db.select().from(schema.auditLog).where(eq(schema.auditLog.actor, 'web:root@corp.test'));
    expect(entry).toMatchObject({ action: 'view_inbound_source', subject: inbound.reply });
    expect((await api.app.inject({ method: 'GET', url: `/web/admin/inbound/${inbound.reply}/source`, headers: cookie('bob') })).statusCode).toBe(403);
    // The thread page links each mirrored mail's original for admins, for nobody else.
    const thread = (who: string) => api.app.inject({ method: 'GET', url: `/web/posts/${postId}`, headers: cookie(who) });
    expect((await thread('root')).body).toContain(`href="/web/admin/inbound/${inbound.reply}/source"`);
    expect((await thread('bob')).body).not.toContain('/source"');
  });
});
