import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { addOutbound, ensureGroup, getEsnPostView, issueApiToken, schema, upsertPerson } from '@blend/db';
import { createLogger } from '@blend/runtime';
import { newMessageId } from '@blend/core';
import { createSmtpTransport } from '@blend/mail';
import { send } from '@blend/worker';
import { clamdScanner } from '@blend/mail';
import { createMailDomain, fetchRawMessages, waitForMailboxCount } from './support/mail-server';
import { type TestDatabase } from './support/database';
import { sessionCookie, startTestApi, type TestApi } from './support/api';
import { EICAR, startFakeClamd } from './support/clamd';
import { countTransactions } from './support/count-transactions';

// The web composer (docs/ARCHITECTURE.md "Web composer"): Markdown with a preview, files
// checked and stored as mail attachments are (limits, types, virus scan), `@` suggestions.
let t: TestDatabase;
let app: FastifyInstance;
let api: TestApi;
let clamd: Awaited<ReturnType<typeof startFakeClamd>>;
const sessions: Record<string, string> = {};
const tokens: Record<string, string> = {};
const LIMITS = { maxFileBytes: 1000, maxTotalBytes: 1500, maxFiles: 3 };

beforeAll(async () => {
  clamd = await startFakeClamd();
  api = await startTestApi({ uploads: { limits: LIMITS, scanner: clamdScanner(clamd.url) } });
  ({ t, app } = api);
  for (const [name, display, optIn] of [['alice', 'Alice Archer', true], ['albert', 'Albert Pending', false], ['bob', 'Bob Builder', true]] as const) {
    const { person } = await upsertPerson(t.db, { email: `${name}@corp.test`, name: display, optIn });
    tokens[name] = await issueApiToken(t.db, person.id);
    sessions[name] = await sessionCookie(t.db, tokens[name]);
  }
  await ensureGroup(t.db, 'general');
});
afterAll(async () => {
  await api?.close();
  await clamd?.close();
});

const page = (url: string, who: string) => app.inject({ method: 'GET', url, headers: { cookie: sessions[who]! } });
const csrf = async (who: string) => /name="_csrf" value="([^"]+)"/.exec((await page('/web/preferences', who)).body)![1]!;

type Part = { name: string; value: string } | { name: string; filename: string; type: string; content: Buffer };

/** A multipart/form-data body as a browser sends it. */
function multipart(parts: Part[]): { body: Buffer; type: string } {
  const boundary = '----blendtest' + Math.random().toString(16).slice(2);
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const head = 'filename' in p
      ? `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"; filename="${p.filename}"\r\nContent-Type: ${p.type}\r\n\r\n`
      : `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"\r\n\r\n`;
    chunks.push(Buffer.from(head), 'filename' in p ? p.content : Buffer.from(p.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), type: `multipart/form-data; boundary=${boundary}` };
}

async function compose(who: string, fields: Record<string, string>, files: { filename: string; type: string; content: Buffer }[] = []) {
  const { body, type } = multipart([...Object.entries(fields).map(([name, value]) => ({ name, value })), ...files.map((f) => ({ name: 'files', ...f }))]);
  return app.inject({ method: 'POST', url: '/web/compose', headers: { cookie: sessions[who]!, 'content-type': type }, payload: body });
}

/** Rows that uploads write: posts, files and their contents. */
async function stored() {
  return {
    posts: (await t.db.select({ id: schema.posts.id }).from(schema.posts)).length,
    files: (await t.db.select({ id: schema.attachments.id }).from(schema.attachments)).length,
    blobs: (await t.db.select({ sha: schema.attachmentBlobs.sha256 }).from(schema.attachmentBlobs)).length,
  };
}

describe('POST /web/compose', () => {
  it('posts Markdown with files; the files are stored like mail attachments and served back', async () => {
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(200, 7)]);
    const res = await compose('alice', { _csrf: await csrf('alice'), group: 'general', title: 'Plan', body: '**Bold** plan, see [site](https://example.com) and [x](javascript:alert(1))', action: 'post' }, [
      { filename: 'chart.png', type: 'image/png', content: png },
      { filename: 'notes.txt', type: 'text/plain', content: Buffer.from('hello notes') },
    ]);
    expect(res.statusCode, res.body).toBe(303);
    const id = /^\/web\/posts\/([0-9a-f-]{36})$/.exec(res.headers.location as string)![1]!;
    const post = (await getEsnPostView(t.db, id, null))!;
    expect(post.body_text).toContain('**Bold** plan');
    expect(post.body_html).toBe('<p><strong>Bold</strong> plan, see <a href="https://example.com" rel="nofollow noopener noreferrer" target="_blank">site</a> and [x](javascript:alert(1))</p>\n');
    expect(post.attachments.map((a) => [a.name, a.content_type, a.size])).toEqual([['chart.png', 'image/png', png.length], ['notes.txt', 'text/plain', 11]]);
    const file = await page(`/web/attachments/${post.attachments[0]!.id}`, 'bob');
    expect(file.statusCode).toBe(200);
    expect(file.rawPayload.equals(png)).toBe(true);
    expect(clamd.scanned()).toBe(2);
  });

  it.each([
    ['a file over the per-file limit', [{ filename: 'big.pdf', type: 'application/pdf', content: Buffer.alloc(LIMITS.maxFileBytes + 1, 1) }], 413, /larger than/],
    ['files over the per-post total', [1, 2].map((i) => ({ filename: `part${i}.pdf`, type: 'application/pdf', content: Buffer.alloc(800, i) })), 413, /together are larger/],
    ['more files than allowed', [1, 2, 3, 4].map((i) => ({ filename: `f${i}.txt`, type: 'text/plain', content: Buffer.from(`f${i}`) })), 413, /at most 3 files/],
    ['a runnable file', [{ filename: 'setup.exe', type: 'application/octet-stream', content: Buffer.from('MZ') }], 400, /not accepted/],
    ['a web page', [{ filename: 'page.html', type: 'text/html', content: Buffer.from('<script>alert(1)</script>') }], 400, /not accepted/],
    ['a file with a virus', [{ filename: 'eicar.txt', type: 'text/plain', content: Buffer.from(EICAR) }], 400, /virus scanner found Eicar-Test-Signature/],
  ])('refuses %s cleanly and stores nothing', async (_what, files, status, message) => {
    const before = await stored();
    const res = await compose('alice', { _csrf: await csrf('alice'), group: 'general', body: 'with files', action: 'post' }, files);
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toMatch(message);
    expect(await stored()).toEqual(before);
  });

  it('checks the CSRF token before any file is scanned', async () => {
    const before = await stored();
    const scanned = clamd.scanned();
    const res = await compose('alice', { _csrf: 'forged', group: 'general', body: 'forged', action: 'post' }, [{ filename: 'a.txt', type: 'text/plain', content: Buffer.from('a') }]);
    expect(res.statusCode).toBe(403);
    expect(clamd.scanned()).toBe(scanned);
    expect(await stored()).toEqual(before);
  });

  it('is refused to people who have not opted in', async () => {
    const res = await compose('albert', { _csrf: await csrf('albert'), group: 'general', body: 'hi', action: 'post' });
    expect(res.statusCode).toBe(403);
  });

  it('previews without posting: the form comes back filled in, the Markdown rendered by the mail sanitiser', async () => {
    const before = await stored();
    const res = await compose('alice', { _csrf: await csrf('alice'), group: 'general', title: 'Draft', body: '# Hi\n\n- one\n- two\n\n[bad](javascript:alert(1)) <script>alert(2)</script>', action: 'preview' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<h1>Hi</h1>');
    expect(res.body).toContain('<li>one</li>');
    expect(res.body).not.toMatch(/href="javascript:|<script>alert/);
    expect(res.body).toContain('&lt;script&gt;alert(2)&lt;/script&gt;</textarea>');
    expect(res.body).toContain('value="Draft"');
    expect(await stored()).toEqual(before);
  });
});

describe('POST /web/posts/:id/reply', () => {
  it('comments with Markdown and a file, and the comment\'s mirror mail carries the file', async () => {
    const first = await compose('alice', { _csrf: await csrf('alice'), group: 'general', body: 'thread for replies', action: 'post' });
    const postId = /([0-9a-f-]{36})$/.exec(first.headers.location as string)![1]!;
    const { body, type } = multipart([
      { name: '_csrf', value: await csrf('bob') },
      { name: 'body', value: 'Minutes *attached*' },
      { name: 'action', value: 'post' },
      { name: 'files', filename: 'minutes.pdf', type: 'application/pdf', content: Buffer.from('%PDF-1.4 minutes') },
    ]);
    const res = await app.inject({ method: 'POST', url: `/web/posts/${postId}/reply`, headers: { cookie: sessions.bob!, 'content-type': type }, payload: body });
    expect(res.statusCode, res.body).toBe(303);
    const commentId = /#c-([0-9a-f-]{36})$/.exec(res.headers.location as string)![1]!;
    const post = (await getEsnPostView(t.db, postId, null))!;
    expect(post.comments.map((c) => c.body_html)).toEqual(['<p>Minutes <em>attached</em></p>\n']);
    expect(post.attachments).toEqual([expect.objectContaining({ name: 'minutes.pdf', comment_id: commentId })]);
    // Editing it on the web keeps it Markdown.
    const edit = await app.inject({ method: 'POST', url: `/web/comments/${commentId}/edit`, headers: { cookie: sessions.bob!, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ _csrf: await csrf('bob'), body: 'Minutes **final**' }).toString() });
    expect(edit.statusCode).toBe(303);
    expect((await getEsnPostView(t.db, postId, null))!.comments[0]!.body_html).toBe('<p>Minutes <strong>final</strong></p>\n');

    // The mirror of that comment, sent through the real Postfix into Dovecot.
    const box = await createMailDomain();
    const addressing = { mode: 'domain' as const, domain: 'bridge.test' };
    const id = randomUUID();
    await addOutbound(t.db, { id, kind: 'mirror', toAddress: box.user, postId, commentId, messageId: newMessageId(id, addressing), subject: 'Re: thread', textBody: 'Minutes *attached*\n' });
    // A comment without files: its mirror's claim says so, and its send reads no files.
    const form = multipart([{ name: '_csrf', value: await csrf('alice') }, { name: 'body', value: 'No files here' }, { name: 'action', value: 'post' }]);
    const plain = await app.inject({ method: 'POST', url: `/web/posts/${postId}/reply`, headers: { cookie: sessions.alice!, 'content-type': form.type }, payload: form.body });
    expect(plain.statusCode, plain.body).toBe(303);
    const plainCommentId = /#c-([0-9a-f-]{36})$/.exec(plain.headers.location as string)![1]!;
    const plainId = randomUUID();
    await addOutbound(t.db, { id: plainId, kind: 'mirror', toAddress: box.user, postId, commentId: plainCommentId, messageId: newMessageId(plainId, addressing), subject: 'Re: thread', textBody: 'No files here\n' });
    const transport = createSmtpTransport(box.smtpUrl);
    const filesReads = (log: string[]) => log.filter((q) => /^select "attachments"\."filename"/i.test(q)).length;
    try {
      const deps = { db: t.db, log: createLogger('test', 'silent'), transport, addressing, secret: 's'.repeat(32), attachmentsMaxTotalBytes: 1000 };
      for (const [outboundId, reads] of [[id, 1], [plainId, 0]] as const) {
        const counted = countTransactions(t.pool);
        try {
          expect(await send({ outboundId }, deps)).toEqual({ state: 'sent' });
        } finally {
          counted.stop();
        }
        expect(filesReads(counted.log), counted.log.join('\n')).toBe(reads);
      }
    } finally {
      transport.close();
    }
    await waitForMailboxCount(box.imapUrl, 2);
    const mails = (await fetchRawMessages(box.imapUrl)).map((m) => m.source.toString('latin1'));
    const raw = mails.find((m) => m.includes('minutes.pdf'))!;
    expect(raw).toMatch(/Content-Type: application\/pdf; name=minutes\.pdf/);
    expect(raw).toMatch(/Content-Disposition: attachment; filename=minutes\.pdf/);
    expect(raw).toContain(Buffer.from('%PDF-1.4 minutes').toString('base64'));
    expect(mails.filter((m) => /Content-Disposition: attachment/.test(m))).toHaveLength(1);
  });
});

describe('POST /web/posts/:id/reactions', () => {
  it('gives and takes back an emoji reaction with a plain form post, shown pressed with its count', async () => {
    const first = await compose('alice', { _csrf: await csrf('alice'), group: 'general', title: 'React to me', body: 'x', action: 'post' });
    const postId = /([0-9a-f-]{36})$/.exec(first.headers.location as string)![1]!;
    const react = async (who: string, form: Record<string, string>) =>
      app.inject({ method: 'POST', url: `/web/posts/${postId}/reactions`, headers: { cookie: sessions[who]!, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ _csrf: await csrf(who), ...form }).toString() });
    const res = await react('bob', { set: 'tada:on', return_to: '/web' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/web');
    const feed = (await page('/web', 'bob')).body;
    expect(feed).toMatch(/<button type="submit" name="set" value="tada:off" class="reaction" aria-pressed="true" aria-label="Celebrate: 1"/);
    expect((await page(`/web/posts/${postId}`, 'alice')).body).toMatch(/aria-pressed="false" aria-label="Celebrate: 1"/);
    expect((await react('bob', { set: 'tada:off' })).headers.location).toBe(`/web/posts/${postId}`);
    // A second click on a stale page sets the same again: no change.
    expect((await react('bob', { set: 'tada:off' })).statusCode).toBe(303);
    expect((await page('/web', 'bob')).body).toContain('aria-label="Celebrate: 0"');
    expect((await react('bob', { set: 'poo:on' })).statusCode).toBe(400);
    expect((await react('albert', { set: 'tada:on' })).statusCode).toBe(403);
    expect((await react('bob', { set: 'tada:on', return_to: 'https://evil.example/' })).headers.location).toBe(`/web/posts/${postId}`);
  });
});

describe('POST /web/preview', () => {
  it('answers the rendered Markdown for the composer script, with a CSRF token only', async () => {
    const form = (body: Record<string, string>) =>
      app.inject({ method: 'POST', url: '/web/preview', headers: { cookie: sessions.alice!, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(body).toString() });
    const ok = await form({ _csrf: await csrf('alice'), body: '*hi* [x](javascript:alert(1))' });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toBe('<div class="body"><p><em>hi</em> [x](javascript:alert(1))</p>\n</div>');
    expect(ok.headers['content-security-policy']).toContain("default-src 'self'");
    expect((await form({ _csrf: 'forged', body: 'x' })).statusCode).toBe(403);
  });
});

describe('Markdown through the API', () => {
  it('renders a post or comment written with format markdown through the mail sanitiser; plain text stays the default', async () => {
    const call = (url: string, payload: object) => app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${tokens.alice}` }, payload });
    const post = (await call('/api/v1/posts', { group: 'general', body: '**API** [x](javascript:alert(1))', format: 'markdown' })).json() as { id: string; body_html: string };
    expect(post.body_html).toBe('<p><strong>API</strong> [x](javascript:alert(1))</p>\n');
    const comment = (await call(`/api/v1/posts/${post.id}/comments`, { body: '*yes*', format: 'markdown' })).json() as { body_html: string };
    expect(comment.body_html).toBe('<p><em>yes</em></p>\n');
    expect(((await call('/api/v1/posts', { group: 'general', body: '**plain**' })).json() as { body_html: string }).body_html).toBe('<p>**plain**</p>');
    expect((await call('/api/v1/posts', { group: 'general', body: 'x', format: 'html' })).statusCode).toBe(400);
  });
});

describe('people suggestions for @', () => {
  it('lists opted-in people by the start of any name word or the address, to signed-in readers', async () => {
    const res = await page('/web/people/suggest?q=al', 'bob');
    expect(res.json()).toEqual({ people: [{ name: 'Alice Archer', email: 'alice@corp.test' }] });
    expect((await page('/web/people/suggest?q=build', 'alice')).json()).toEqual({ people: [{ name: 'Bob Builder', email: 'bob@corp.test' }] });
    expect((await page('/web/people/suggest?q=%25', 'alice')).json()).toEqual({ people: [] });
    expect((await app.inject({ method: 'GET', url: '/web/people/suggest?q=al' })).statusCode).toBe(303);
    const api = await app.inject({ method: 'GET', url: '/api/v1/people?q=@ali', headers: { authorization: `Bearer ${tokens.bob}` } });
    expect(api.json()).toEqual({ items: [{ id: expect.any(String), name: 'Alice Archer', email: 'alice@corp.test' }] });
    expect((await app.inject({ method: 'GET', url: '/api/v1/people?q=al' })).statusCode).toBe(401);
  });
});
