import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { HTTP, type CloudEventV1 } from 'cloudevents';
import { Webhook } from 'standardwebhooks';
import { EVENT_TYPES } from '@blend/core';
import { addGroupMember, ensureGroup, issueApiToken, schema, setGroupVisibility, upsertPerson } from '@blend/db';
import { waitFor } from './support/database';
import { discordProblems, teamsProblems } from './support/chat-formats';
import { sendRaw, swaks } from './support/mail-server';
import { buildMessage } from './support/messages';
import { run } from './support/process';
import { serviceEnv, startStack, type Stack } from './support/stack';

// The way out: every change, whatever its channel, reaches a receiver on loopback
// as an event with its thread's sequence — a mail through Postfix, a reply by mail, an edit, a
// retraction, likes and comments on the ESN side, `blend people erase` — in CloudEvents form
// signed per Standard Webhooks, in order even after the receiver was down, replayed on demand,
// filtered per hook, as Teams and Discord messages, and pulled from GET /api/v1/events.

type Got = { path: string; headers: IncomingHttpHeaders; body: string };
const got: Got[] = [];
const down = new Set<string>();
const receiver = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    const path = req.url ?? '';
    if (down.has(path)) return void res.writeHead(503).end('down for maintenance');
    got.push({ path, headers: req.headers, body });
    res.writeHead(204).end();
  });
});

let s: Stack;
let admin = '';
let alice = '';
let bob = '';
const hooks: Record<string, { id: string; secret: string }> = {};
let postId = '';

const headersOf = (g: Got) => Object.fromEntries(Object.entries(g.headers).map(([k, v]) => [k, String(v)]));
const cloudEvents = () => got.filter((g) => g.path === '/ce').map((g) => HTTP.toEvent({ headers: g.headers, body: g.body }) as CloudEventV1<Record<string, unknown>>);
const ofThread = (id: string) => cloudEvents().filter((e) => e.blendthread === id);
const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string, payload?: object) =>
  s.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
const deliveriesTo = (hook: string) => s.db.db.select().from(schema.webhookDeliveries).where(eq(schema.webhookDeliveries.webhookId, hooks[hook]!.id));
const blend = (...args: string[]) => run(['services/cli/src/cli.ts', ...args], serviceEnv(s), { timeoutMs: 60_000 });

beforeAll(async () => {
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  s = await startStack({ BLEND_WEBHOOK_RETRY_BASE_MS: '300', BLEND_WEBHOOK_ALLOW_PRIVATE: 'true', BLEND_PUBLIC_URL: 'https://blend.test' });
  alice = await s.person('alice@corp.test', { name: 'Alice Example' });
  bob = await s.person('bob@corp.test', { name: 'Bob Builder' });
  await s.person('carol@corp.test', { name: 'Carol' });
  const { person } = await upsertPerson(s.db.db, { email: 'root@corp.test', isAdmin: true, optIn: true });
  admin = await issueApiToken(s.db.db, person.id);
  await ensureGroup(s.db.db, 'sales');
  const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const all = [...EVENT_TYPES];
  for (const [name, body] of Object.entries({
    ce: { events: all, format: 'cloudevents' },
    teams: { events: all, format: 'teams' },
    discord: { events: all, format: 'discord' },
    sales: { events: all, filter: { groups: ['sales'] } },
    esn: { format: 'blend', filter: { types: ['post.created', 'comment.created'], origin: 'esn' } },
  })) {
    const res = await api('POST', '/api/v1/admin/webhooks', admin, { url: `${base}/${name}`, ...body });
    expect(res.statusCode, res.body).toBe(201);
    hooks[name] = res.json() as { id: string; secret: string };
  }
}, 120_000);
afterAll(async () => {
  await s?.stop();
  receiver.close();
});

describe('events out, whatever the channel', () => {
  const mid = `<events-${randomBytes(6).toString('hex')}@corp.test>`;

  it('a mail through Postfix becomes a post and the receiver gets post.created as a signed CloudEvent', async () => {
    await swaks(['--to', `status@${s.mail.domain}`, '--from', 'alice@corp.test', '--header', 'Subject: Quarterly plan', '--header', `Message-Id: ${mid}`, '--body', 'We hire two people in Q1.']);
    const hit = await waitFor(async () => got.find((g) => g.path === '/ce'), 'post.created at the receiver', 60_000);
    // Verified with the standardwebhooks package, as a receiver would.
    const payload = new Webhook(hooks.ce!.secret).verify(hit.body, headersOf(hit)) as Record<string, unknown>;
    expect(payload).toMatchObject({ specversion: '1.0', type: 'blend.post.created', source: 'https://blend.test' });
    expect(hit.headers['content-type']).toMatch(/^application\/cloudevents\+json/);
    const ce = HTTP.toEvent({ headers: hit.headers, body: hit.body }) as CloudEventV1<{ post: { id: string; source: string; body_text: string; author: { email: string } } }>;
    postId = ce.data!.post.id;
    expect(ce).toMatchObject({ blendthread: postId, blendsequence: 1, blendorigin: 'email', subject: `posts/${postId}` });
    expect(ce.data!.post).toMatchObject({ source: 'email', body_text: 'We hire two people in Q1.', author: { email: 'alice@corp.test' }, url: `https://blend.test/web/posts/${postId}` });
    expect(hit.headers['webhook-id']).toBe(ce.id);
    // A wrong key is refused.
    expect(() => new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(hit.body, headersOf(hit))).toThrow();
  }, 90_000);

  it('its reply by mail gives comment.created, and an edit post.updated', async () => {
    await swaks([
      '--to', `status@${s.mail.domain}`, '--from', 'bob@corp.test', '--header', 'Subject: Re: Quarterly plan',
      '--header', `In-Reply-To: ${mid}`, '--header', `References: ${mid}`, '--body', 'Count me in for the interviews.',
    ]);
    await waitFor(async () => ofThread(postId).find((e) => e.type === 'blend.comment.created'), 'comment.created', 60_000);
    expect((await api('PATCH', `/api/v1/posts/${postId}`, alice, { body: 'We hire three people in Q1.' })).statusCode).toBe(200);
    const edit = await waitFor(async () => ofThread(postId).find((e) => e.type === 'blend.post.updated'), 'post.updated', 30_000);
    expect(edit.data).toMatchObject({ post: { body_text: 'We hire three people in Q1.', source: 'email' }, origin: 'email' });
    expect(ofThread(postId).map((e) => [e.type, e.blendsequence])).toEqual([['blend.post.created', 1], ['blend.comment.created', 2], ['blend.post.updated', 3]]);
  }, 90_000);

  it('a receiver down for a while gets every later event once it is back, in thread order', async () => {
    down.add('/ce');
    const mailComment = (await s.db.db.select().from(schema.comments).where(eq(schema.comments.postId, postId)))[0]!;
    expect((await api('POST', `/api/v1/posts/${postId}/reactions`, bob)).statusCode).toBe(200);
    expect((await api('DELETE', `/api/v1/comments/${mailComment.id}`, bob)).statusCode).toBe(204);
    expect((await api('POST', `/api/v1/posts/${postId}/comments`, alice, { body: 'Interviews start on the 12th.' })).statusCode).toBe(201);
    expect((await api('POST', `/api/v1/posts/${postId}/comments`, bob, { body: 'Bob on the ESN: I will host them.' })).statusCode).toBe(201);
    const pending = async () => (await deliveriesTo('ce')).filter((d) => d.state === 'pending').sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    await waitFor(async () => (await pending())[0]!.attempts >= 2, 'two failed attempts while the receiver is down', 30_000);
    // Later events of the thread wait for the first: none was tried.
    expect((await pending()).slice(1).every((d) => d.attempts === 0)).toBe(true);
    down.delete('/ce');
    await waitFor(async () => (await deliveriesTo('ce')).every((d) => d.state === 'delivered'), 'every delivery made once the receiver is back', 60_000);
    const seen = ofThread(postId);
    expect(seen.map((e) => e.blendsequence)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(seen.slice(3).map((e) => [e.type, e.blendorigin])).toEqual([
      ['blend.reaction.created', 'esn'],
      ['blend.comment.deleted', 'email'],
      ['blend.comment.created', 'esn'],
      ['blend.comment.created', 'esn'],
    ]);
    expect(seen[4]!.data).toMatchObject({ comment: { id: mailComment.id }, reason: 'retracted' });
  }, 120_000);

  it('blend people erase sends comment.deleted for what the person wrote, then person.erased, and scrubs earlier events', async () => {
    const p = blend('people', 'erase', 'bob@corp.test', '--yes');
    expect((await p.done).code, p.err()).toBe(0);
    const erased = await waitFor(async () => {
      const all = cloudEvents();
      return all.some((e) => e.type === 'blend.person.erased') ? all : undefined;
    }, 'person.erased', 60_000);
    // Both in the erasure's transaction; person.erased belongs to no thread, so either may come first.
    const tail = erased.slice(-2);
    expect(tail.map((e) => e.type).sort()).toEqual(['blend.comment.deleted', 'blend.person.erased']);
    expect(tail.find((e) => e.type === 'blend.comment.deleted')).toMatchObject({ blendsequence: 8, data: { reason: 'erased' } });
    // Nothing Bob wrote, nor his address, is in any event any more (the pull API reads the outbox).
    const pulled = JSON.stringify((await api('GET', '/api/v1/events?limit=500', admin)).json());
    expect(pulled).not.toContain('bob@corp.test');
    expect(pulled).not.toContain('Bob on the ESN');
    expect(pulled).not.toContain('Count me in');
    expect(pulled).toContain('We hire three people in Q1.');
    expect(pulled).not.toContain('We hire two people');
  }, 90_000);

  it('blend webhooks replay delivers the events again in order, with the same ids', async () => {
    const before = got.filter((g) => g.path === '/ce').map((g) => String(g.headers['webhook-id']));
    const p = blend('webhooks', 'replay', hooks.ce!.id, '--since', '1h', '--json');
    expect((await p.done).code, p.err()).toBe(0);
    expect(JSON.parse(p.out())).toMatchObject({ deliveries: before.length });
    await waitFor(async () => (got.filter((g) => g.path === '/ce').length === before.length * 2 ? true : undefined), 'the replayed events', 90_000);
    const again = got.filter((g) => g.path === '/ce').slice(before.length);
    expect(new Set(again.map((g) => String(g.headers['webhook-id'])))).toEqual(new Set(before));
    const seqs = again.map((g) => HTTP.toEvent({ headers: g.headers, body: g.body }) as CloudEventV1<unknown>).filter((e) => e.blendthread === postId).map((e) => e.blendsequence);
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const list = blend('webhooks', 'list', '--json');
    expect((await list.done).code, list.err()).toBe(0);
    const listed = JSON.parse(list.out()) as { id: string; format: string; filter: object; pending: number; failed: number }[];
    expect(listed.find((h) => h.id === hooks.ce!.id)).toMatchObject({ format: 'cloudevents', pending: 0, failed: 0 });
    expect(listed.find((h) => h.id === hooks.esn!.id)).toMatchObject({ format: 'blend', filter: { origin: 'esn' } });
    // The replay is in the audit log.
    const [audit] = await s.db.db.select().from(schema.auditLog).where(eq(schema.auditLog.action, 'webhook_replay'));
    expect(audit).toMatchObject({ subject: hooks.ce!.id, detail: { deliveries: before.length } });
    // Replayed content is as readers see it now: the retracted comment has no text.
    const retracted = again.map((g) => JSON.parse(g.body) as { type: string; data: { comment?: { body_text?: string; author?: { email: string } } } }).find((e) => e.type === 'blend.comment.created');
    expect(retracted?.data.comment).toMatchObject({ body_text: '', author: { email: '' } });
  }, 120_000);

  it('filters by group and by channel of origin', async () => {
    const sales = await api('POST', '/api/v1/posts', alice, { group: 'sales', title: 'Pipeline', body: 'Three deals close this week.' });
    expect(sales.statusCode).toBe(201);
    const hit = await waitFor(async () => got.find((g) => g.path === '/sales' && g.body.includes('Pipeline')), 'the sales hook', 30_000);
    expect(JSON.parse(hit.body)).toMatchObject({ event: 'post.created', post: { group: { slug: 'sales' }, title: 'Pipeline' } });
    await waitFor(async () => (await deliveriesTo('esn')).every((d) => d.state === 'delivered') && got.some((g) => g.path === '/esn' && g.body.includes('Pipeline')), 'the esn hook', 30_000);
    // Only the sales post reached the sales hook (the general thread never did), besides
    // person.erased, which belongs to no group…
    const sold = got.filter((g) => g.path === '/sales').map((g) => JSON.parse(g.body) as { event: string; post?: { group?: { slug: string } } });
    expect(sold.map((e) => [e.event, e.post?.group?.slug ?? null])).toEqual([['person.erased', null], ['post.created', 'sales']]);
    // …and the esn hook got only post.created and comment.created written on the ESN side.
    const esn = got.filter((g) => g.path === '/esn').map((g) => JSON.parse(g.body) as { event: string; origin: string });
    expect(esn.map((e) => e.event)).toEqual(['comment.created', 'comment.created', 'post.created']);
    expect(esn.every((e) => e.origin === 'esn')).toBe(true);
  }, 60_000);

  it('nothing of a private group goes to a hook, and the pull shows it to members only', async () => {
    const board = await ensureGroup(s.db.db, 'board');
    await setGroupVisibility(s.db.db, board.id, 'private');
    const alicePerson = (await s.db.db.select().from(schema.people).where(eq(schema.people.email, 'alice@corp.test')))[0]!;
    await addGroupMember(s.db.db, board.id, alicePerson.id);
    expect((await api('POST', '/api/v1/posts', alice, { group: 'board', title: 'Salaries', body: 'Board only: the new salary bands.' })).statusCode).toBe(201);
    const [ev] = await s.db.db.select().from(schema.events).where(eq(schema.events.groupId, board.id));
    expect(ev).toBeDefined();
    expect(await s.db.db.select().from(schema.webhookDeliveries).where(eq(schema.webhookDeliveries.eventId, ev!.id))).toEqual([]);
    // The admin is no member: the pull leaves it out (as the feed does); a member who is an admin sees it.
    const pull = async (token: string) => JSON.stringify((await api('GET', '/api/v1/events?limit=500', token)).json());
    expect(await pull(admin)).not.toContain('salary bands');
    await upsertPerson(s.db.db, { email: 'alice@corp.test', isAdmin: true });
    expect(await pull(alice)).toContain('salary bands');
    await upsertPerson(s.db.db, { email: 'alice@corp.test', isAdmin: false });
  }, 60_000);

  it('Teams and Discord get valid messages, edits and removals as follow-ups', async () => {
    await waitFor(
      async () => (await s.db.db.select().from(schema.webhookDeliveries).where(and(eq(schema.webhookDeliveries.state, 'pending')))).length === 0,
      'every chat delivery made',
      90_000,
    );
    const teams = got.filter((g) => g.path === '/teams').map((g) => JSON.parse(g.body) as unknown);
    const discord = got.filter((g) => g.path === '/discord').map((g) => JSON.parse(g.body) as { content: string });
    expect(teams.length).toBeGreaterThanOrEqual(9);
    for (const m of teams) expect(teamsProblems(m)).toEqual([]);
    for (const m of discord) expect(discordProblems(m)).toEqual([]);
    expect(JSON.stringify(teams)).toContain('edited: Alice Example');
    expect(JSON.stringify(teams)).toContain('"title":"Via","value":"email"');
    expect(discord.map((m) => m.content)).toContain('A comment on “Quarterly plan” was removed by the author');
  }, 120_000);

  it('a "+1" by mail is reaction.created from email, next in the thread', async () => {
    // Through Postfix as the others (swaks would read "+1" as an option).
    const like = buildMessage({ from: 'Carol <carol@corp.test>', to: `status@${s.mail.domain}`, subject: 'Re: Quarterly plan', inReplyTo: mid.slice(1, -1), body: '+1' });
    await sendRaw(like.raw, { from: 'carol@corp.test', to: `status@${s.mail.domain}` });
    const liked = await waitFor(async () => ofThread(postId).find((e) => e.type === 'blend.reaction.created' && e.blendorigin === 'email'), 'the like by mail', 60_000);
    expect(liked).toMatchObject({ blendsequence: 9, data: { reaction: { kind: 'like', person: { email: 'carol@corp.test' } } } });
  }, 90_000);

  it('GET /api/v1/events pages through every event in order, for admins only', async () => {
    // Every event but the private group's, which the admin (no member) does not see.
    const total = (await s.db.db.select().from(schema.events)).length - 1;
    const seen: { position: number; event: { id: string } }[] = [];
    let after: number | null = null;
    for (let i = 0; i < 100; i++) {
      const res = await api('GET', `/api/v1/events?limit=3${after !== null ? `&after=${after}` : ''}`, admin);
      expect(res.statusCode).toBe(200);
      const page = res.json() as { items: { position: number; event: { id: string } }[]; next_after: number | null };
      seen.push(...page.items);
      if (page.next_after === null) break;
      after = page.next_after;
    }
    expect(seen).toHaveLength(total);
    expect(seen.map((e) => e.position)).toEqual([...seen.map((e) => e.position)].sort((a, b) => a - b));
    expect(new Set(seen.map((e) => e.event.id)).size).toBe(total);
    // An event id is a cursor too.
    const fromId = (await api('GET', `/api/v1/events?after=${seen[1]!.event.id}&limit=1`, admin)).json() as { items: { event: { id: string } }[] };
    expect(fromId.items[0]!.event.id).toBe(seen[2]!.event.id);
    expect((await api('GET', '/api/v1/events', alice)).statusCode).toBe(403);
    expect((await api('GET', '/api/v1/events?after=nonsense', admin)).statusCode).toBe(400);
    expect((await api('GET', `/api/v1/events?after=${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`, admin)).statusCode).toBe(400);
  });
});
