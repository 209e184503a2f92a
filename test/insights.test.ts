import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ensureGroup, erasePerson, reachFacts, schema, upsertPerson, type Database } from '@blend/db';
import { launchChromium, listenOnLoopback, watchPage } from './support/browser';
import { personWithToken, sessionCookie, startTestApi, type TestApi } from './support/api';
import { buildApp } from '@blend/api';

// Participation insights (docs/SECURITY.md B35): computed from a seeded data set with
// known channels and weeks, aggregates only, small cells withheld; admin only; CSV; the page in
// Chromium with its SVG charts and tables and no CSP violation.
//
// Range 2026-11-02 .. 2026-11-15 = ISO weeks 2026-W45 and 2026-W46. People (30 contributors):
//  e0..e9  W45: a post by mail (their first contribution ever); e0..e4 W46: a web comment too
//  o0      an email post before the range and one in W45 (not a new voice)
//  w0..w9  W45: a web comment
//  b0..b2  W45: a comment by mail answering a digest, then a web comment
//  h0..h4  W46: 10 web posts each (the most active 15 %: 50 of 83 contributions)
//  s0      W46: one web post in the group "small"
//  x0      W45: a post by mail, then erased: not counted at all

let api: TestApi;
let admin: { id: string; token: string };
let reader: { id: string; token: string };

const at = (s: string) => new Date(s);
const FROM = '2026-11-02';
const TO = '2026-11-15';

async function seed(db: Database): Promise<void> {
  const general = await ensureGroup(db, 'general', 'General');
  const small = await ensureGroup(db, 'small', 'Small');
  const person = async (name: string) => (await upsertPerson(db, { email: `${name}@example.test`, name, optIn: true })).person.id;
  const ids: Record<string, string> = {};
  for (const p of ['x0', 'o0', 's0', ...['e', 'w', 'h'].flatMap((k) => Array.from({ length: 10 }, (_, i) => `${k}${i}`)).filter((n) => !/^h[5-9]$/.test(n)), 'b0', 'b1', 'b2']) ids[p] = await person(p);
  const post = async (who: string, source: 'email' | 'esn', createdAt: Date, groupId = general.id) =>
    (await db.insert(schema.posts).values({ groupId, authorId: ids[who]!, title: `by ${who}`, bodyText: 'x', bodyHtml: '<p>x</p>', source, createdAt }).returning({ id: schema.posts.id }))[0]!.id;
  const comment = async (who: string, postId: string, source: 'email' | 'esn', createdAt: Date) =>
    db.insert(schema.comments).values({ postId, authorId: ids[who]!, bodyText: 'y', bodyHtml: '<p>y</p>', source, createdAt });

  await post('o0', 'email', at('2026-10-01T09:00:00Z'));
  await post('o0', 'email', at('2026-11-03T08:30:00Z'));
  const thread = await post('e0', 'email', at('2026-11-03T09:00:00Z'));
  for (let i = 1; i < 10; i++) await post(`e${i}`, 'email', at(`2026-11-03T09:0${i}:00Z`));
  for (let i = 0; i < 10; i++) await comment(`w${i}`, thread, 'esn', at(`2026-11-03T12:0${i}:00Z`));
  // Digests on 3 November to b0..b2 and w0..w5, each with a reply address for the thread.
  for (const who of ['b0', 'b1', 'b2', 'w0', 'w1', 'w2', 'w3', 'w4', 'w5']) {
    const [o] = await db
      .insert(schema.outboundMessages)
      .values({ kind: 'digest', toAddress: `${who}@example.test`, personId: ids[who]!, postId: thread, messageId: `<digest-${who}@example.test>`, subject: 'Digest', textBody: '…', state: 'sent', sentAt: at('2026-11-03T08:00:00Z') })
      .returning({ id: schema.outboundMessages.id });
    await db.insert(schema.replyTokens).values({ tokenHash: `hash-${who}`, personId: ids[who]!, postId: thread, outboundId: o!.id, expiresAt: at('2026-12-31T00:00:00Z'), uses: who.startsWith('b') ? 1 : 0 });
  }
  for (const b of ['b0', 'b1', 'b2']) {
    await comment(b, thread, 'email', at('2026-11-04T10:00:00Z'));
    await comment(b, thread, 'esn', at('2026-11-04T11:00:00Z'));
  }
  for (let i = 0; i < 5; i++) await comment(`e${i}`, thread, 'esn', at(`2026-11-10T10:0${i}:00Z`));
  for (let i = 0; i < 5; i++) for (let k = 0; k < 10; k++) await post(`h${i}`, 'esn', at(`2026-11-11T1${i}:0${k}:00Z`));
  await post('s0', 'esn', at('2026-11-12T10:00:00Z'), small.id);
  await post('x0', 'email', at('2026-11-03T07:00:00Z'));
  await db.transaction((tx) => erasePerson(tx, ids.x0!, 'test'));
}

beforeAll(async () => {
  api = await startTestApi();
  admin = await personWithToken(api.t.db, { email: 'it@example.test', isAdmin: true });
  reader = await personWithToken(api.t.db, { email: 'reader@example.test' });
  await seed(api.t.db);
});

afterAll(async () => {
  await api?.close();
});

const get = (url: string, token = admin.token, headers: Record<string, string> = {}) => api.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, ...headers } });
const shown = (value: number) => ({ value, suppressed: false });
const withheld = { value: null, suppressed: true };

describe('GET /api/v1/admin/insights', () => {
  it('answers the known numbers, withholding small cells and those that would give them away', async () => {
    const res = await get(`/api/v1/admin/insights?from=${FROM}&to=${TO}`);
    expect(res.statusCode, res.body).toBe(200);
    const r = res.json();
    expect(r).toMatchObject({ from: FROM, to: TO, group: null, min_people: 5 });
    const [w45, w46] = r.weeks;
    expect([w45.week, w46.week]).toEqual(['2026-W45', '2026-W46']);
    // W45: 11 by mail only, 10 on the web only, 3 both (withheld, and web-only with it: 10 < 11).
    expect(w45.active_people).toEqual({ email_only: shown(11), web_only: withheld, both: withheld, total: shown(24) });
    expect(w46.active_people).toEqual({ email_only: shown(0), web_only: shown(11), both: shown(0), total: shown(11) });
    expect(r.total.active_people).toEqual({ email_only: shown(6), web_only: shown(16), both: shown(8), total: shown(30) });
    expect(w45.posts).toEqual({ email: shown(11), web: shown(0), total: shown(11), email_share: 1 });
    expect(r.total.posts).toEqual({ email: shown(11), web: shown(51), total: shown(62), email_share: 0.1774 });
    // 3 comments by mail in W45: withheld, with the cells that would give them away.
    expect(w45.comments.email).toEqual(withheld);
    expect(w45.comments.web).toEqual(withheld);
    expect(r.total.comments.email).toEqual(withheld);
    // New voices: e0..e9 and b0..b2 (not o0, whose first mail came before the range); 8 later used the web.
    expect(r.total.new_voices).toEqual({ total: shown(13), later_web: shown(8), email_only_since: shown(5) });
    // The small group has one contributor: nothing about it is shown.
    const smallGroup = r.groups.find((g: { slug: string }) => g.slug === 'small');
    expect(smallGroup.posts.web).toEqual(withheld);
    expect(smallGroup.active_people.total).toEqual(withheld);
  });

  it('concentration: the top 15 % share and the Lorenz curve', async () => {
    const r = (await get(`/api/v1/admin/insights?from=${FROM}&to=${TO}`)).json();
    expect(r.total.concentration.contributors).toEqual(shown(30));
    expect(r.total.concentration.top15_share).toBe(0.6024); // 50 of 83
    expect(r.total.concentration.lorenz).toEqual([
      { people: 0, content: 0 },
      { people: 0.1667, content: 0.0602 },
      { people: 0.3333, content: 0.1205 },
      { people: 0.5, content: 0.1807 },
      { people: 0.6667, content: 0.2771 },
      { people: 0.8333, content: 0.3976 },
      { people: 1, content: 1 },
    ]);
    // A week with 11 contributors is too few for a top 15 % of 5 people.
    expect(r.weeks[1].concentration.top15_share).toBeNull();
  });

  it('digest reach: 9 digests sent; the 3 replies that became comments are counted but withheld', async () => {
    const r = (await get(`/api/v1/admin/insights?from=${FROM}&to=${TO}`)).json();
    expect(r.total.reach.digest).toEqual({ sent: shown(9), replies: withheld });
    const facts = await reachFacts(api.t.db, { from: at(`${FROM}T00:00:00Z`), to: at('2026-11-16T00:00:00Z') });
    expect(facts.filter((f) => f.event === 'reply').map((f) => f.kind)).toEqual(['digest', 'digest', 'digest']);
  });

  it('one group: its numbers only, digests not applicable', async () => {
    const r = (await get(`/api/v1/admin/insights?from=${FROM}&to=${TO}&group=general`)).json();
    expect(r.group).toBe('general');
    expect(r.groups.map((g: { slug: string }) => g.slug)).toEqual(['general']);
    expect(r.total.posts.total).toEqual(shown(61));
    expect(r.total.reach.digest.sent).toEqual({ value: null, suppressed: false });
  });

  it('holds no person, address or name', async () => {
    const body = (await get(`/api/v1/admin/insights?from=${FROM}&to=${TO}`)).body;
    expect(body).not.toMatch(/example\.test|"e0"|[0-9a-f]{8}-[0-9a-f]{4}-/);
  });

  it('CSV with format=csv or Accept: text/csv', async () => {
    for (const res of [await get(`/api/v1/admin/insights?from=${FROM}&to=${TO}&format=csv`), await get(`/api/v1/admin/insights?from=${FROM}&to=${TO}`, admin.token, { accept: 'text/csv' })]) {
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['content-disposition']).toBe(`attachment; filename="blend-insights-${FROM}-${TO}.csv"`);
      const lines = res.body.split('\r\n');
      expect(lines[0]).toBe('scope,week,week_start,group,metric,value,suppressed');
      expect(lines).toContain('week,2026-W45,2026-11-02,,active_both,,true');
      expect(lines).toContain('total,,,,top15_share,0.6024,false');
      expect(lines).toContain('group,,,small,posts_web,,true');
    }
  });

  it.each([
    ['from=2026-02-30', 'from must be a date as YYYY-MM-DD, got "2026-02-30"'],
    ['from=2026-11-10&to=2026-11-01', 'from must be on or before to'],
    ['from=2024-01-01&to=2026-01-01', 'the range may span at most 366 days'],
    ['group=nope', 'group: no group has the slug "nope"'],
  ])('400 for %s', async (query, message) => {
    const res = await get(`/api/v1/admin/insights?${query}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'VALIDATION', message } });
  });

  it('400 for an unknown parameter or format', async () => {
    expect((await get('/api/v1/admin/insights?person=e0')).statusCode).toBe(400);
    expect((await get('/api/v1/admin/insights?format=xlsx')).statusCode).toBe(400);
  });

  it('admins only: 403 for others, 401 without a token', async () => {
    expect((await get('/api/v1/admin/insights', reader.token)).statusCode).toBe(403);
    expect((await api.app.inject({ method: 'GET', url: '/api/v1/admin/insights' })).statusCode).toBe(401);
    const cookie = await sessionCookie(api.t.db, reader.token);
    expect((await api.app.inject({ method: 'GET', url: '/web/admin/insights', headers: { cookie } })).statusCode).toBe(403);
    expect((await api.app.inject({ method: 'GET', url: '/web/admin/insights.csv', headers: { cookie } })).statusCode).toBe(403);
  });
});

describe('/web/admin/insights in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows accessible SVG charts with their tables, within the CSP, linked from the admin page', async () => {
    const app = buildApp(api.deps());
    const base = await listenOnLoopback(app);
    const context = await browser.newContext({ locale: 'en-GB', timezoneId: 'UTC' });
    try {
      const [name, value] = (await sessionCookie(api.t.db, admin.token)).split('=') as [string, string];
      await context.addCookies([{ name, value, url: base }]);
      const page = await context.newPage();
      const watch = watchPage(page);
      await page.goto(`${base}/web/admin`);
      await page.getByRole('link', { name: 'Participation insights' }).click();
      await page.waitForURL(/\/web\/admin\/insights$/);
      await page.locator('input[name="from"]').fill(FROM);
      await page.locator('input[name="to"]').fill(TO);
      await page.getByRole('button', { name: 'Show' }).click();
      await page.waitForURL(/from=2026-11-02/);
      await expect(page.getByRole('heading', { name: 'Participation insights' }).count()).resolves.toBe(1);
      const charts = page.locator('svg[role="img"]');
      expect(await charts.count()).toBe(5);
      for (const title of ['Active people per week by channel', 'Lorenz curve of content over the whole range']) {
        await expect(page.getByRole('img', { name: title }).count()).resolves.toBe(1);
      }
      // Each chart has its numbers in a table beside it.
      expect(await page.locator('.chart > svg + .scroll table').count()).toBe(5);
      await expect(page.getByRole('table', { name: 'Active people per week' }).getByRole('row').nth(1).textContent()).resolves.toContain('2026-W45');
      expect(watch.consoleErrors, 'console errors (CSP violations show up here)').toEqual([]);
      expect(watch.pageErrors).toEqual([]);
      const csv = await page.request.get(`${base}/web/admin/insights.csv?from=${FROM}&to=${TO}`);
      expect(csv.status()).toBe(200);
      expect(await csv.text()).toContain('total,,,,active_total,30,false');
    } finally {
      await context.close();
      await app.close();
    }
  });
});
