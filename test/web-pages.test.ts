import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '@blend/api';
import { eq } from 'drizzle-orm';
import { addWatchedMailbox, ensureGroup, finishInbound, findPersonByEmail, getInbound, getPreferences, schema, insertComment, insertPost, isFollowing, issueApiToken, storeFetched, tombstoneComment, upsertPerson } from '@blend/db';
import { type TestDatabase } from './support/database';
import { sessionCookie, startTestApi, type TestApi } from './support/api';

// The server-rendered pages, driven like a browser would with forms and a cookie.
let t: TestDatabase;
let app: FastifyInstance;
let api: TestApi;
const tokens: Record<string, string> = {};
const sessions: Record<string, string> = {};
const ids: Record<string, string> = {};
const XSS = '<script>alert(1)</script>';

beforeAll(async () => {
  api = await startTestApi({ addressing: { mode: 'domain', domain: 'bridge.test' } });
  ({ t, app } = api);
  for (const [name, optIn, admin] of [['alice', true, false], ['carol', false, false], ['root', true, true]] as const) {
    const { person } = await upsertPerson(t.db, { email: `${name}@corp.test`, name: name === 'alice' ? 'Alice "A" <Ops>' : name, optIn, isAdmin: admin });
    ids[name] = person.id;
    tokens[name] = await issueApiToken(t.db, person.id);
    sessions[name] = await sessionCookie(t.db, tokens[name]);
  }
  const g = await ensureGroup(t.db, 'general');
  const post = await insertPost(t.db, { groupId: g.id, authorId: ids.alice!, title: XSS, bodyText: 'x', bodyHtml: '<p>hello<img src=x onerror=alert(2)></p>', source: 'email', createdAt: new Date(Date.UTC(2026, 0, 1, 9)) });
  ids.post = post.id;
  await insertComment(t.db, { postId: post.id, authorId: ids.root!, bodyText: 'later', bodyHtml: '<p>later from ESN</p>', source: 'esn', createdAt: new Date(Date.UTC(2026, 0, 1, 11)) });
  await insertComment(t.db, { postId: post.id, authorId: ids.alice!, bodyText: 'first', bodyHtml: '<p>first by mail</p>', source: 'email', createdAt: new Date(Date.UTC(2026, 0, 1, 10)) });
  const gone = await insertComment(t.db, { postId: post.id, authorId: ids.alice!, bodyText: 'oops', bodyHtml: '<p>oops</p>', source: 'esn', createdAt: new Date(Date.UTC(2026, 0, 1, 12)) });
  await tombstoneComment(t.db, gone.id);
  const rows = await storeFetched(t.db, 'imap://x', 1, [1, 2].map((uid) => ({ uid, size: 10, raw: Buffer.from('x'), internalDate: null })));
  for (const r of rows) await t.db.transaction((tx) => finishInbound(tx, r.id, { state: 'withheld', reason: 'not_opted_in', postId: post.id, fromAddress: 'ext@corp.test', subject: 'Re: hi' }));
});
afterAll(async () => {
  await api?.close();
});

const cookie = (who: string) => ({ cookie: sessions[who]! });
const page = (url: string, who?: string) => app.inject({ method: 'GET', url, headers: who ? cookie(who) : {} });
const csrfOf = (body: string) => /name="_csrf" value="([^"]+)"/.exec(body)?.[1] ?? '';
async function post(url: string, who: string | undefined, form: Record<string, string>, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', ...(who ? cookie(who) : {}), ...headers }, payload: new URLSearchParams(form).toString() });
}
async function csrf(who: string) {
  return csrfOf((await page('/web/preferences', who)).body);
}

describe('sign-in', () => {
  it('sends a visitor without a session to the login page', async () => {
    const res = await page('/web');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/web/login?next=%2Fweb');
    expect((await page('/')).headers.location).toBe('/web');
  });

  it('shows an accessible login form under a strict CSP', async () => {
    const res = await page('/web/login?next=/web/preferences');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.body).toContain('<label for="token">');
    expect(res.body).toContain('<main id="main"');
    expect(res.body).toContain('name="next" value="/web/preferences"');
    expect(res.body).not.toMatch(/<script|style=/);
  });

  it('refuses a wrong token', async () => {
    const res = await post('/web/login', undefined, { token: 'blend_wrongwrongwrongwrong' });
    expect(res.statusCode).toBe(401);
    expect(res.body).toContain('role="alert"');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('sets an HttpOnly, SameSite=Strict cookie holding a session, never the token', async () => {
    const res = await post('/web/login', undefined, { token: tokens.alice!, next: '/web/preferences' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/web/preferences');
    const c = String(res.headers['set-cookie']);
    expect(c).toMatch(/^blend_session=bs_[A-Za-z0-9_-]{43}; /);
    expect(c).not.toContain(tokens.alice);
    expect(c).toContain('HttpOnly');
    expect(c).toContain('SameSite=Strict');
    expect(c).toContain('Path=/');
    expect(c).not.toContain('Secure'); // plain http here; https requests get Secure
  });

  it('marks the cookie Secure when the public URL is https (TLS ends at a proxy)', async () => {
    const behindProxy = buildApp(api.deps({ publicUrl: 'https://blend.corp.test' }));
    const res = await behindProxy.inject({ method: 'POST', url: '/web/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${tokens.alice}` });
    expect(String(res.headers['set-cookie'])).toMatch(/; Secure/);
    await behindProxy.close();
  });

  it('never redirects to another site after login', async () => {
    expect((await post('/web/login', undefined, { token: tokens.alice!, next: '//evil.test/x' })).headers.location).toBe('/web');
    expect((await post('/web/login', undefined, { token: tokens.alice!, next: 'https://evil.test' })).headers.location).toBe('/web');
  });

  it('refuses a cross-site login (login CSRF)', async () => {
    expect((await post('/web/login', undefined, { token: tokens.alice! }, { origin: 'https://evil.test' })).statusCode).toBe(403);
  });

  it('signs out with a CSRF token, ending the session on the server', async () => {
    sessions.leaving = await sessionCookie(t.db, tokens.alice!);
    const res = await post('/web/logout', 'leaving', { _csrf: await csrf('leaving') });
    expect(res.statusCode).toBe(303);
    expect(String(res.headers['set-cookie'])).toMatch(/^blend_session=;/);
    // A copy of the old cookie no longer signs anyone in.
    expect((await page('/web', 'leaving')).headers.location).toBe('/web/login?next=%2Fweb');
    expect((await page('/web', 'alice')).statusCode).toBe(200);
  });
});

describe('feed page', () => {
  it('shows posts with author, group, time, email badge and escaped titles', async () => {
    const res = await page('/web', 'alice');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toBe("default-src 'self';base-uri 'none';form-action 'self';frame-ancestors 'none';object-src 'none'");
    expect(res.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(res.body).not.toContain(XSS);
    expect(res.body).not.toContain('onerror');
    expect(res.body).toContain('Alice &quot;A&quot; &lt;Ops&gt;');
    expect(res.body).toContain('>general</a>');
    // Relative time in words, the exact time in the reader's zone on hover.
    expect(res.body).toMatch(/<time datetime="2026-01-01T09:00:00.000Z" title="1 Jan 2026, 09:00">[^<]+ ago<\/time>/);
    // Initials avatars beside the names, hidden from screen readers (the name is written out).
    expect(res.body).toMatch(/<span class="avatar av-\d" aria-hidden="true">AA<\/span><span class="author" title="alice@corp.test">/);
    // The latest comments under the card, oldest first; the retracted one is not among them.
    expect(res.body).toMatch(/<section class="latest" aria-label="Latest comments">.*first by mail.*later from ESN.*<\/section>/s);
    expect(res.body).not.toContain('oops');
    // The emoji reactions besides the like, each a form of its own.
    expect(res.body).toContain('aria-label="Love: 0"');
    expect(res.body).toContain('<span class="badge" title="Came in by email">email</span>');
    expect(res.body).toContain('2 comments');
    expect(res.body).toMatch(/<button type="submit" aria-pressed="false">Like<\/button>/);
    expect(res.body).toMatch(/<textarea id="compose-body" name="body"/);
  });

  it('offers a reader who has not opted in the opt-in, not the composer', async () => {
    const res = await page('/web', 'carol');
    expect(res.body).toContain('href="/web/preferences">opt in</a>');
    expect(res.body).not.toContain('<textarea');
    expect(res.body).toContain('disabled title="Opt in to like posts"');
  });

  it('rejects a form without a valid CSRF token', async () => {
    expect((await post('/web/posts', 'alice', { group: 'general', body: 'no token' })).statusCode).toBe(403);
    const res = await post('/web/posts', 'alice', { _csrf: 'forged', group: 'general', body: 'bad token' });
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect((await post('/web/posts', 'alice', { _csrf: await csrf('root'), group: 'general', body: "root's token" })).statusCode).toBe(403);
  });

  it('accepts a form from its own origin and refuses one from another site, even with the token', async () => {
    const form = async (headers: Record<string, string>) => (await post(`/web/posts/${ids.post}/like`, 'alice', { _csrf: await csrf('alice'), like: 'false' }, headers)).statusCode;
    expect(await form({ origin: 'http://localhost:80' })).toBe(303);
    expect(await form({ origin: 'https://evil.test' })).toBe(403);
    expect(await form({ origin: 'null' })).toBe(403);
    expect(await form({ 'sec-fetch-site': 'cross-site' })).toBe(403);
  });

  it('posts from the composer and redirects to the thread', async () => {
    const res = await post('/web/posts', 'alice', { _csrf: await csrf('alice'), group: 'general', title: '', body: 'Web <em>post</em> #web' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toMatch(/^\/web\/posts\/[0-9a-f-]{36}$/);
    const thread = await page(res.headers.location as string, 'alice');
    expect(thread.body).toContain('<p>Web &lt;em&gt;post&lt;/em&gt; #web</p>');
    expect((await page('/web?tag=web&source=esn&group=', 'alice')).body).toContain('Web &lt;em&gt;post&lt;/em&gt; #web</a>');
    expect((await page('/web?source=email', 'alice')).body).not.toContain('#web</a>');
  });

  it('likes with a plain form POST and redirects back', async () => {
    const res = await post(`/web/posts/${ids.post}/like`, 'alice', { _csrf: await csrf('alice'), like: 'true', return_to: '/web' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/web');
    expect((await page('/web', 'alice')).body).toContain('aria-pressed="true">Liked</button>');
    expect((await post(`/web/posts/${ids.post}/like`, 'carol', { _csrf: await csrf('carol'), like: 'true' })).statusCode).toBe(403);
  });

  it('answers a bad filter with an HTML 400', async () => {
    const res = await page('/web?source=fax', 'alice');
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/text\/html/);
  });
});

describe('thread page', () => {
  it('interleaves comments by time, counts withheld replies and shows retractions', async () => {
    const res = await page(`/web/posts/${ids.post}`, 'alice');
    expect(res.statusCode).toBe(200);
    const order = ['first by mail', 'later from ESN', 'Comment retracted'].map((s) => res.body.indexOf(s));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(res.body).toContain('2 replies withheld');
    expect(res.body).toContain('<h1 id="title">&lt;script&gt;alert(1)&lt;/script&gt;</h1>');
    expect(res.body).toContain('<label>Your comment');
  });

  it('comments with a plain form POST', async () => {
    const res = await post(`/web/posts/${ids.post}/comments`, 'alice', { _csrf: await csrf('alice'), body: 'from the web' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toMatch(new RegExp(`^/web/posts/${ids.post}#c-`));
    expect((await page(`/web/posts/${ids.post}`, 'alice')).body).toContain('<p>from the web</p>');
    expect((await post(`/web/posts/${ids.post}/comments`, 'alice', { body: 'no csrf' })).statusCode).toBe(403);
  });

  it('follows and unfollows a thread with a button', async () => {
    expect((await page(`/web/posts/${ids.post}`, 'alice')).body).toContain('Follow this thread');
    const res = await post(`/web/posts/${ids.post}/follow`, 'alice', { _csrf: await csrf('alice'), follow: 'on' });
    expect(res.statusCode).toBe(303);
    expect(await isFollowing(t.db, ids.alice!, { postId: ids.post! })).toBe(true);
    expect((await page(`/web/posts/${ids.post}`, 'alice')).body).toContain('aria-pressed="true"');
    await post(`/web/posts/${ids.post}/follow`, 'alice', { _csrf: await csrf('alice'), follow: 'off' });
    expect(await isFollowing(t.db, ids.alice!, { postId: ids.post! })).toBe(false);
    expect((await post(`/web/posts/${ids.post}/follow`, 'alice', { follow: 'on' })).statusCode).toBe(403);
  });

  it('edits and retracts one’s own comment, and offers no controls on others’ comments', async () => {
    const made = await post(`/web/posts/${ids.post}/comments`, 'alice', { _csrf: await csrf('alice'), body: 'typo heer' });
    const id = /#c-(.+)$/.exec(made.headers.location as string)![1]!;
    const thread = (await page(`/web/posts/${ids.post}`, 'alice')).body;
    expect(thread).toContain(`action="/web/comments/${id}/edit"`);
    expect(thread.match(/action="\/web\/comments\/[^"]+\/edit"/g)!.length).toBeLessThan(thread.match(/class="comment"/g)!.length);
    const res = await post(`/web/comments/${id}/edit`, 'alice', { _csrf: await csrf('alice'), body: 'typo here' });
    expect(res.statusCode).toBe(303);
    expect((await page(`/web/posts/${ids.post}`, 'alice')).body).toContain('<p>typo here</p>');
    expect((await post(`/web/comments/${id}/edit`, 'root', { _csrf: await csrf('root'), body: 'hijack' })).statusCode).toBe(403);
    expect((await post(`/web/comments/${id}/retract`, 'alice', {})).statusCode).toBe(403);
    expect((await post(`/web/comments/${id}/retract`, 'alice', { _csrf: await csrf('alice') })).statusCode).toBe(303);
    expect((await page(`/web/posts/${ids.post}`, 'alice')).body).not.toContain('typo here');
  });

  it('is a 404 page for an unknown post', async () => {
    expect((await page('/web/posts/00000000-0000-4000-8000-000000000000', 'alice')).statusCode).toBe(404);
    expect((await page('/web/posts/nope', 'alice')).statusCode).toBe(404);
  });
});

describe('preferences page', () => {
  it('shows digest settings and the opt-in state', async () => {
    const res = await page('/web/preferences', 'carol');
    expect(res.body).toContain('<option value="daily" selected>Daily</option>');
    expect(res.body).toContain('name="digest_time" value="08:00"');
    expect(res.body).toContain('<option selected>UTC</option>');
    expect(res.body).toContain('Not opted in yet');
    expect(res.body).toContain('<button type="submit">Opt in</button>');
  });

  it('saves preferences; an unticked box is off', async () => {
    const res = await post('/web/preferences', 'carol', { _csrf: await csrf('carol'), digest_frequency: 'weekly', digest_time: '07:15', timezone: 'Europe/Paris', notify_mentions: 'on', digest_weekday: '3', quiet_start: '21:30', quiet_end: '06:00' });
    expect(res.statusCode).toBe(303);
    expect(await getPreferences(t.db, ids.carol!)).toEqual({
      digest_frequency: 'weekly', digest_time: '07:15', timezone: 'Europe/Paris', notify_mentions: true, notify_replies: false, receipts: false,
      digest_weekday: 3, quiet_start: '21:30', quiet_end: '06:00', language: null,
    });
    const bad = await post('/web/preferences', 'carol', { _csrf: await csrf('carol'), digest_frequency: 'weekly', digest_time: '07:15', timezone: 'Nowhere/Land' });
    expect(bad.statusCode).toBe(400);
    expect((await post('/web/preferences', 'carol', { digest_frequency: 'off', digest_time: '07:15', timezone: 'UTC' })).statusCode).toBe(403);
  });

  it('opts in and out with the button', async () => {
    expect((await post('/web/opt-in', 'carol', { _csrf: await csrf('carol'), state: 'opted_in' })).statusCode).toBe(303);
    expect((await findPersonByEmail(t.db, 'carol@corp.test'))!.optIn).toBe('opted_in');
    expect((await page('/web/preferences', 'carol')).body).toContain('<button type="submit">Opt out</button>');
    await post('/web/opt-in', 'carol', { _csrf: await csrf('carol'), state: 'opted_out' });
    expect((await findPersonByEmail(t.db, 'carol@corp.test'))!.optIn).toBe('opted_out');
  });
});

describe('admin page', () => {
  it('is for admins only', async () => {
    expect((await page('/web/admin', 'alice')).statusCode).toBe(403);
  });

  it('lists people with opt-in states and inbound mail, filtered by state and reason', async () => {
    const res = await page('/web/admin', 'root');
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/carol@corp\.test<\/td><td>carol<\/td><td><span class="state state-opted_out">opted out/);
    expect(res.body).toContain('<td>ext@corp.test</td>');
    expect((await page('/web/admin?state=withheld&reason=not_opted_in', 'root')).body).toContain('<td>not_opted_in</td>');
    expect((await page('/web/admin?state=rejected', 'root')).body).toContain('No inbound mail matches.');
    expect((await page('/web/admin?reason=bounce', 'root')).body).toContain('No inbound mail matches.');
    expect((await page('/web/admin?state=bogus', 'root')).statusCode).toBe(400);
  });

  it('shows every mailbox with its connection state, lease holder, checkpoint and how to fix a refused login', async () => {
    const main = 'imap://bridge%40corp.test@127.0.0.1:143/INBOX';
    const added = 'imaps://second%40corp.test@imap2.corp.test:993/INBOX';
    const off = 'imaps://third%40corp.test@imap3.corp.test:993/INBOX';
    await t.pool.query(`insert into mailbox_checkpoints (mailbox, uid_validity, last_uid) values ($1, 7, 42)`, [main]);
    await t.pool.query(`insert into mailbox_leases (mailbox, holder, expires_at, state, last_sync_at) values ($1, 'poller-a', now() + interval '1 minute', 'connected', now())`, [main]);
    // Added with a wrong password: it never got a checkpoint, only the poller's report.
    await t.db.transaction((tx) => addWatchedMailbox(tx, { key: added, url: added, passwordSealed: 'v1.x', after: null }, 'test'));
    await t.pool.query(`insert into mailbox_leases (mailbox, holder, expires_at, state, last_error) values ($1, 'poller-a', now() + interval '1 minute', 'auth_failed', 'IMAP login failed: AUTHENTICATIONFAILED')`, [added]);
    await t.db.transaction((tx) => addWatchedMailbox(tx, { key: off, url: off, passwordSealed: 'v1.x', after: null }, 'test'));
    await t.pool.query(`update watched_mailboxes set enabled = false where key = $1`, [off]);
    const body = (await page('/web/admin', 'root')).body;
    const row = (key: string) => new RegExp(`<tr><td>${key.replace(/[.?]/g, '\\$&')}.*?</tr>`, 's').exec(body)?.[0] ?? '';
    expect(row(main)).toMatch(/BLEND_IMAP_URL.*>connected<.*poller-a.*7 \/ 42.*<time/s);
    expect(row(added)).toMatch(/>auth_failed<.*IMAP login failed: AUTHENTICATIONFAILED.*blend mailbox set imaps:\/\/second%40corp\.test@imap2\.corp\.test:993\/INBOX --password-file FILE.*none yet.*never/s);
    expect(row(off)).toMatch(/>disabled<.*none.*none yet/s);
    await t.pool.query('delete from mailbox_leases; delete from mailbox_checkpoints; delete from watched_mailboxes');
  });

  it('replays a withheld mail with a button (admins only, CSRF-checked, audited)', async () => {
    const [row] = await storeFetched(t.db, 'imap://x', 1, [{ uid: 99, size: 10, raw: Buffer.from('x'), internalDate: null }]);
    await t.db.transaction((tx) => finishInbound(tx, row!.id, { state: 'withheld', reason: 'not_opted_in', fromAddress: 'late@corp.test', subject: 'Later' }));
    const admin = await page('/web/admin', 'root');
    expect(admin.body).toContain(`action="/web/admin/inbound/${row!.id}/replay"`);
    expect(admin.body).toContain('<h2 id="mailboxes-h">Mailboxes</h2>');
    expect((await post(`/web/admin/inbound/${row!.id}/replay`, 'root', {})).statusCode).toBe(403);
    expect((await post(`/web/admin/inbound/${row!.id}/replay`, 'alice', { _csrf: await csrf('alice') })).statusCode).toBe(403);
    const res = await post(`/web/admin/inbound/${row!.id}/replay`, 'root', { _csrf: await csrf('root') });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/web/admin?replayed=yes');
    expect((await getInbound(t.db, row!.id))!.state).toBe('received');
    const audit = await t.db.select().from(schema.auditLog).where(eq(schema.auditLog.subject, row!.id));
    expect(audit).toEqual([expect.objectContaining({ action: 'replay_inbound', actor: 'web:root@corp.test', detail: { previousState: 'withheld' } })]);
    // Once it is back in the pipeline it cannot be replayed again.
    expect((await post(`/web/admin/inbound/${row!.id}/replay`, 'root', { _csrf: await csrf('root') })).headers.location).toBe('/web/admin?replayed=no');
  });
});

describe('static assets', () => {
  it('serves the one stylesheet', async () => {
    const res = await page('/web/static/app.css');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/css/);
  });
});
