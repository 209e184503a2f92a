import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, eq, inArray } from 'drizzle-orm';
import { ensureGroup, findPersonByEmail, schema, upsertPerson, type PostView } from '@blend/db';
import { parseMail } from '@blend/mail';
import { runDigestFor, runDueDigests } from '@blend/outbound';
import { addressingFrom } from '@blend/config';
import { createLogger } from '@blend/runtime';
import { createProducerRedis, createQueues, DIGEST_SCHEDULER_ID, enqueueSend, scheduleDigests } from '@blend/queue';
import { waitFor } from './support/database';
import { fetchRawMessages, headerValues, sendRaw } from './support/mail-server';
import { buildMessage, finalRow } from './support/messages';
import { startStack, type Stack } from './support/stack';

// ESN activity back into people's mailboxes (the stack's people domain, read over IMAP from
// Dovecot), and replies to those mails back in as comments, through Postfix.
let s: Stack;
let bridge: string;
let P: string;
const tokens: Record<string, string> = {};
const at = (name: string) => `${name}@${P}`;
const send = (raw: string, from: string, to = bridge) => sendRaw(raw, { from, to });

/** Mails that reached one person (oldest first), optionally only those whose decoded subject matches. */
async function mailsTo(address: string, kind?: RegExp) {
  const all = (await fetchRawMessages(s.people.imapUrl))
    .map((m) => m.source.toString('utf8'))
    .filter((raw) => headerValues(raw, 'delivered-to').some((d) => d.toLowerCase() === address));
  const out: string[] = [];
  for (const raw of all) if (!kind || kind.test(await subject(raw))) out.push(raw);
  return out;
}
const subject = async (raw: string) => (await parseMail(Buffer.from(raw))).mail.subject;
const waitForMail = (address: string, n: number, what: string, kind?: RegExp) =>
  waitFor(async () => {
    const m = await mailsTo(address, kind);
    return m.length >= n ? m : undefined;
  }, what);
const text = async (raw: string) => (await parseMail(Buffer.from(raw))).mail.text ?? '';
const ids = (v: string | undefined) => (v ?? '').match(/<[^<>]+>/g)?.map((x) => x.slice(1, -1)) ?? [];
const api = async (method: 'POST' | 'PUT' | 'DELETE' | 'PATCH', url: string, who: string, payload?: object) =>
  s.app.inject({ method, url, headers: { authorization: `Bearer ${tokens[who]}` }, ...(payload ? { payload } : {}) });
const post = async (id: string) => (await s.get<PostView & { reactions: { like: number } }>(`/api/v1/posts/${id}`, tokens.erin!)).body;
const personId = async (name: string) => (await findPersonByEmail(s.db.db, at(name)))!.id;

beforeAll(async () => {
  s = await startStack({
    BLEND_POLL_INTERVAL_MS: '1000',
    BLEND_RECEIPTS_FIRST: '5',
    BLEND_NOTIFY_COALESCE_MS: '1500',
    BLEND_CORRECTION_WINDOW_MS: '1500',
    BLEND_NOTIFY_SWEEP_MS: '200',
    // Digests are run by the test, not by the schedule.
    BLEND_DIGEST_TICK_MS: '3600000',
  });
  bridge = `status@${s.mail.domain}`;
  P = s.people.domain;
  for (const [name, full] of [['alice', 'Alice Mail'], ['bob', 'Bob Mail'], ['erin', 'Erin Esn'], ['carol', 'Carol Esn'], ['frank', 'Frank Digest']] as const) {
    tokens[name] = await s.person(at(name), { name: full });
  }
  // No quiet hours for these tests, except where one sets them.
  await s.db.db.update(schema.people).set({ quietStart: '00:00', quietEnd: '00:00' });
});
afterAll(async () => s?.stop());

let threadPost: string;
let rootId: string;

describe('an ESN comment on a thread that started in email', () => {
  it('is mailed to the opted-in participants as a reply in the same conversation, never to its author', async () => {
    const m = buildMessage({ from: `Alice Mail <${at('alice')}>`, to: at('bob'), cc: bridge, subject: 'Roadmap 2027', body: 'Here is the roadmap draft.' });
    rootId = m.messageId;
    await send(m.raw, at('alice'));
    const row = await finalRow(s.db.db, m.messageId);
    expect(row.state).toBe('posted');
    threadPost = row.postId!;

    const res = await api('POST', `/api/v1/posts/${threadPost}/comments`, 'erin', { body: 'Looks great <b>really</b>' });
    expect(res.statusCode).toBe(201);

    for (const who of ['alice', 'bob']) {
      const [mirror] = await waitForMail(at(who), 1, `the mirrored comment for ${who}`, /^Re: Roadmap 2027/);
      expect(ids(headerValues(mirror!, 'in-reply-to')[0])).toEqual([rootId]);
      expect(ids(headerValues(mirror!, 'references')[0])).toContain(rootId);
      expect(headerValues(mirror!, 'from')[0]).toMatch(new RegExp(`"?Erin Esn via Blend"? <status@${s.mail.domain}>`));
      expect(headerValues(mirror!, 'reply-to')[0]).toMatch(new RegExp(`reply\\+v1[a-z2-7]{26}@${s.mail.domain}`));
      expect(headerValues(mirror!, 'thread-topic')[0]).toBe('Roadmap 2027');
      expect(Buffer.from(headerValues(mirror!, 'thread-index')[0]!, 'base64').length).toBe(27);
      expect(headerValues(mirror!, 'auto-submitted')[0]).toBe('auto-generated');
      expect(headerValues(mirror!, 'x-blend-origin')[0]).toMatch(/^[0-9a-f]{32}$/);
      expect(headerValues(mirror!, 'list-unsubscribe-post')[0]).toBe('List-Unsubscribe=One-Click');
      expect(await text(mirror!)).toContain('Looks great <b>really</b>');
      expect(mirror!).toContain('/web/preferences');
    }
    // Each participant got exactly one, and the ESN author none.
    expect(await mailsTo(at('alice'), /^Re: Roadmap/)).toHaveLength(1);
    expect(await mailsTo(at('erin'))).toHaveLength(0);
  });

  it('takes a reply to the mirror as a comment with only the new text, and "+1" as a like', async () => {
    const [mirror] = await mailsTo(at('bob'), /^Re: Roadmap 2027/);
    const replyTo = headerValues(mirror!, 'reply-to')[0]!.replace(/^.*<|>.*$/g, '');
    const mirrorId = ids(headerValues(mirror!, 'message-id')[0])[0]!;
    const quoted = (await text(mirror!)).split('\n').map((l) => `> ${l}`).join('\n');
    const r = buildMessage({
      from: `Bob Mail <${at('bob')}>`,
      to: replyTo,
      subject: 'Re: Roadmap 2027',
      inReplyTo: mirrorId,
      body: `Agreed, let us ship it.\n\nOn Wed, 25 Nov 2026 at 10:00, Erin Esn via Blend <${bridge}> wrote:\n${quoted}`,
    });
    await send(r.raw, at('bob'), replyTo);
    expect(await finalRow(s.db.db, r.messageId)).toMatchObject({ state: 'commented', postId: threadPost });
    const p = await post(threadPost);
    expect(p.comments.map((c) => [c.author.email, c.body_text])).toEqual([
      [at('erin'), 'Looks great <b>really</b>'],
      [at('bob'), 'Agreed, let us ship it.'],
    ]);

    const like = buildMessage({ from: `Bob Mail <${at('bob')}>`, to: replyTo, subject: 'Re: Roadmap 2027', inReplyTo: mirrorId, body: '+1\n\n> Looks great' });
    await send(like.raw, at('bob'), replyTo);
    expect(await finalRow(s.db.db, like.messageId)).toMatchObject({ state: 'liked', postId: threadPost });
    const after = await post(threadPost);
    expect(after.comments).toHaveLength(2);
    expect(after.reactions).toMatchObject({ like: 1 });

    // Bob answered only the reply address: Alice gets his words as a reply in her conversation.
    const forAlice = await waitFor(async () => {
      for (const m of await mailsTo(at('alice'), /^Re: Roadmap 2027/)) if (/Bob Mail via Blend/.test(headerValues(m, 'from')[0] ?? '')) return m;
      return undefined;
    }, "bob's reply mirrored to alice");
    expect(await text(forAlice)).toContain('Agreed, let us ship it.');
    expect(await text(forAlice)).not.toContain('Looks great');
    expect(await mailsTo(at('bob'), /^Re: Roadmap 2027/)).toHaveLength(1);
  });

  it('sends one correction per participant for several edits within the window, answering the mirror', async () => {
    const erinComment = (await post(threadPost)).comments.find((c) => c.author.email === at('erin'))!;
    const fromErin = async (who: string) => (await mailsTo(at(who), /^Re: Roadmap 2027/)).filter((m) => /Erin Esn via Blend/.test(headerValues(m, 'from')[0] ?? ''));
    for (const body of ['Looks great, v2', 'Looks great, v3']) {
      expect((await api('PATCH', `/api/v1/comments/${erinComment.id}`, 'erin', { body })).statusCode).toBe(200);
    }
    const [mirror, correction] = await waitFor(async () => {
      const m = await fromErin('alice');
      return m.length >= 2 ? m : undefined;
    }, 'the correction');
    expect(ids(headerValues(correction!, 'in-reply-to')[0])).toEqual(ids(headerValues(mirror!, 'message-id')[0]));
    expect(ids(headerValues(correction!, 'references')[0])).toContain(rootId);
    expect(await text(correction!)).toContain('Looks great, v3');
    // The two edits within the window made one correction.
    await new Promise((r) => setTimeout(r, 2500));
    expect(await fromErin('alice')).toHaveLength(2);
    expect(await fromErin('bob')).toHaveLength(2);

    expect((await api('DELETE', `/api/v1/comments/${erinComment.id}`, 'erin')).statusCode).toBe(204);
    const all = await waitFor(async () => {
      const m = await fromErin('bob');
      return m.length >= 3 ? m : undefined;
    }, 'the deletion notice');
    expect(await text(all[2]!)).toMatch(/deleted/i);
  });
});

describe('immediate notifications', () => {
  it('coalesces replies and mentions on one thread into one mail; a reply to it is a comment', async () => {
    const created = await api('POST', '/api/v1/posts', 'carol', { group: 'general', body: 'Who wants to review the budget?' });
    expect(created.statusCode).toBe(201);
    const postId = (created.json() as { id: string }).id;
    await api('POST', `/api/v1/posts/${postId}/comments`, 'erin', { body: 'I can, tomorrow.' });
    await api('POST', `/api/v1/posts/${postId}/comments`, 'erin', { body: `Also looping in @${at('alice')}` });

    const [note] = await waitForMail(at('carol'), 1, "carol's notification", /budget/);
    expect(await subject(note!)).toMatch(/^2 new updates in “Who wants to review the budget\?”/);
    const body = await text(note!);
    expect(body).toContain('I can, tomorrow.');
    expect(body).toContain('Also looping in');
    const [mention] = await waitForMail(at('alice'), 1, "alice's mention", /mentioned you/);
    expect(await text(mention!)).toContain('Also looping in');
    await new Promise((r) => setTimeout(r, 2000));
    expect(await mailsTo(at('carol'), /budget/)).toHaveLength(1);

    const replyTo = headerValues(note!, 'reply-to')[0]!.replace(/^.*<|>.*$/g, '');
    const r = buildMessage({
      from: `Carol Esn <${at('carol')}>`,
      to: replyTo,
      subject: `Re: ${await subject(note!)}`,
      inReplyTo: ids(headerValues(note!, 'message-id')[0])[0]!,
      body: `Thanks both!\n\nOn Wed, 25 Nov 2026, Blend <${bridge}> wrote:\n${body.split('\n').map((l) => `> ${l}`).join('\n')}`,
    });
    await send(r.raw, at('carol'), replyTo);
    expect(await finalRow(s.db.db, r.messageId)).toMatchObject({ state: 'commented', postId });
    expect((await post(postId)).comments.at(-1)).toMatchObject({ body_text: 'Thanks both!', author: { email: at('carol') } });
  });

  it('holds notifications during quiet hours in the person’s time zone', async () => {
    const now = new Date();
    const hh = (d: Date) => `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
    const end = new Date(now.getTime() + 3 * 3_600_000);
    await s.db.db.update(schema.people).set({ timezone: 'UTC', quietStart: hh(new Date(now.getTime() - 3_600_000)), quietEnd: hh(end) }).where(eq(schema.people.email, at('carol')));
    const created = await api('POST', '/api/v1/posts', 'carol', { group: 'general', body: 'Late night idea' });
    const postId = (created.json() as { id: string }).id;
    await api('POST', `/api/v1/posts/${postId}/comments`, 'erin', { body: 'Sleep on it' });
    const [n] = await s.db.db.select().from(schema.notifications).where(and(eq(schema.notifications.postId, postId), eq(schema.notifications.personId, await personId('carol'))));
    expect(n!.state).toBe('pending');
    expect(Math.abs(n!.dueAt.getTime() - end.getTime())).toBeLessThan(61_000);
  });
});

describe('publish receipts', () => {
  it('tells the sender what was published, with an undo link that retracts it', async () => {
    const m = buildMessage({ from: `Alice Mail <${at('alice')}>`, to: bridge, subject: 'Office move', body: 'We move on Friday.' });
    await send(m.raw, at('alice'));
    const row = await finalRow(s.db.db, m.messageId);
    const [receipt] = await waitForMail(at('alice'), 1, 'the receipt', /^Published: Office move/);
    expect(ids(headerValues(receipt!, 'in-reply-to')[0])).toEqual([m.messageId]);
    expect(headerValues(receipt!, 'auto-submitted')[0]).toBe('auto-replied');
    const body = await text(receipt!);
    expect(body).toContain('We move on Friday.');
    const undo = /https?:\/\/\S+\/links\/undo\?t=[A-Za-z0-9._%-]+/.exec(body)![0];
    const t = decodeURIComponent(new URL(undo).searchParams.get('t')!);
    expect((await s.app.inject({ method: 'GET', url: `/links/undo?t=${encodeURIComponent(t)}` })).statusCode).toBe(200);
    expect((await post(row.postId!)).title).toBe('Office move');
    const done = await s.app.inject({ method: 'POST', url: '/links/undo', payload: `t=${encodeURIComponent(t)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(done.body).toContain('Removed');
    const [p] = await s.db.db.select().from(schema.posts).where(eq(schema.posts.id, row.postId!));
    expect(p!.deletedAt).not.toBeNull();
  });

  it('names the reason when a message is not published', async () => {
    const m = buildMessage({ from: `Alice Mail <${at('alice')}>`, to: `no-such-group@${s.mail.domain}`, subject: 'Lost post', body: 'Hello group' });
    await send(m.raw, at('alice'), `no-such-group@${s.mail.domain}`);
    expect(await finalRow(s.db.db, m.messageId)).toMatchObject({ state: 'rejected', reason: 'unknown_group' });
    const [receipt] = await waitForMail(at('alice'), 1, 'the not-published receipt', /^Not published: Lost post/);
    expect(await text(receipt!)).toMatch(/group/i);
  });
});

describe('digests', () => {
  it('contain what the person may see since the last digest, grouped by thread; a second run sends nothing', async () => {
    const frank = await personId('frank');
    const log = createLogger('test', 'silent');
    const deps = { db: s.db.db, log, site: { addressing: addressingFrom(s.config), publicUrl: 'https://blend.example.test', secret: s.config.BLEND_SECRET } };
    // Frank follows the Roadmap thread; everything before now is old news.
    await s.db.db.insert(schema.follows).values({ personId: frank, postId: threadPost });
    await s.db.db.update(schema.people).set({ lastDigestAt: new Date(), digestFrequency: 'daily' }).where(eq(schema.people.id, frank));
    const other = (await api('POST', '/api/v1/posts', 'carol', { group: 'general', body: 'Not for Frank' }).then((r) => r.json())) as { id: string };
    await api('POST', `/api/v1/posts/${threadPost}/comments`, 'erin', { body: 'Digest-worthy update on the roadmap' });
    await api('POST', `/api/v1/posts/${threadPost}/comments`, 'carol', { body: `Second roadmap note for @${at('frank')}` });

    const first = await runDigestFor(deps, at('frank'));
    expect(first).toMatchObject({ sent: 1 });
    const redis = createProducerRedis(s.config.REDIS_URL);
    const queues = createQueues(redis, s.config.BLEND_QUEUE_PREFIX);
    await enqueueSend(queues.send, first!.outbound[0]!);
    const [digest] = await waitForMail(at('frank'), 1, "frank's digest", /digest/i);
    expect(headerValues(digest!, 'precedence')[0]).toBe('bulk');
    expect(headerValues(digest!, 'list-unsubscribe-post')[0]).toBe('List-Unsubscribe=One-Click');
    const body = await text(digest!);
    expect(body).toContain('Roadmap 2027');
    expect(body).toContain('Digest-worthy update on the roadmap');
    expect(body).toContain('Second roadmap note');
    expect(body).not.toContain('Not for Frank');
    expect(other.id).toBeTruthy();

    expect(await runDigestFor(deps, at('frank'))).toMatchObject({ sent: 0, empty: 1 });

    // A reply to the thread's own address in the digest is a comment on that thread.
    const replyTo = /reply\+v1[a-z2-7]{26}@[a-z0-9.-]+/.exec(body)![0];
    const r = buildMessage({ from: `Frank Digest <${at('frank')}>`, to: replyTo, subject: 'Re: Roadmap 2027', body: `Count me in.\n\n> ${body.split('\n').slice(0, 5).join('\n> ')}` });
    await send(r.raw, at('frank'), replyTo);
    expect(await finalRow(s.db.db, r.messageId)).toMatchObject({ state: 'commented', postId: threadPost });
    expect((await post(threadPost)).comments.at(-1)).toMatchObject({ body_text: 'Count me in.', author: { email: at('frank') } });

    // One-click unsubscribe (RFC 8058): a POST to the URL turns digests off.
    const unsub = /<(https:\/\/[^>]+)>/.exec(headerValues(digest!, 'list-unsubscribe')[0]!)![1]!;
    const u = new URL(unsub);
    const res = await s.app.inject({ method: 'POST', url: `${u.pathname}${u.search}`, payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.statusCode).toBe(200);
    const [f] = await s.db.db.select().from(schema.people).where(eq(schema.people.id, frank));
    expect(f!.digestFrequency).toBe('off');
    await queues.close();
    redis.disconnect();
  });
});

describe('digest schedule', () => {
  it('sends each due person one digest when several workers run at once, and moves the schedule on', async () => {
    const log = createLogger('test', 'silent');
    const deps = { db: s.db.db, log, site: { addressing: addressingFrom(s.config), publicUrl: 'https://blend.example.test', secret: s.config.BLEND_SECRET }, batchSize: 3 };
    const readers: string[] = [];
    const group = await ensureGroup(s.db.db, 'schedule');
    const since = new Date(Date.now() - 60_000);
    for (let i = 0; i < 12; i++) {
      const { person } = await upsertPerson(s.db.db, { email: `sched${i}@${P}`, name: `Reader ${i}`, optIn: true });
      readers.push(person.id);
      await s.db.db.insert(schema.groupMembers).values({ groupId: group.id, personId: person.id });
    }
    await s.db.db.update(schema.people).set({ lastDigestAt: since, nextDigestAt: new Date(Date.now() - 1000), digestFrequency: 'daily', digestTime: '09:00', timezone: 'Europe/Berlin' }).where(inArray(schema.people.id, readers));
    await api('POST', '/api/v1/posts', 'carol', { group: 'schedule', body: 'Schedule test post' });

    const runs = await Promise.all([runDueDigests(deps), runDueDigests(deps), runDueDigests(deps)]);
    expect(runs.reduce((n, r) => n + r.sent, 0)).toBeGreaterThanOrEqual(12);
    const rows = await s.db.db.select().from(schema.outboundMessages).where(and(eq(schema.outboundMessages.kind, 'digest'), inArray(schema.outboundMessages.personId, readers)));
    expect(rows.map((r) => r.personId).sort()).toEqual([...readers].sort());
    const after = await s.db.db.select().from(schema.people).where(inArray(schema.people.id, readers));
    for (const p of after) {
      // The next daily digest: 09:00 in Berlin, after now.
      expect(p.nextDigestAt!.getTime()).toBeGreaterThan(Date.now());
      expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit' }).format(p.nextDigestAt!)).toBe('09:00');
    }
    // Nothing is due any more.
    expect((await runDueDigests(deps)).sent).toBe(0);
  });

  it('is driven by one BullMQ job scheduler that every worker registers idempotently', async () => {
    const redis = createProducerRedis(s.config.REDIS_URL);
    const queues = createQueues(redis, s.config.BLEND_QUEUE_PREFIX);
    try {
      await scheduleDigests(queues.digest, s.config.BLEND_DIGEST_TICK_MS);
      const schedulers = await queues.digest.getJobSchedulers();
      expect(schedulers.map((j) => [j.key, j.every])).toEqual([[DIGEST_SCHEDULER_ID, s.config.BLEND_DIGEST_TICK_MS]]);
    } finally {
      await queues.close();
      redis.disconnect();
    }
  });
});
