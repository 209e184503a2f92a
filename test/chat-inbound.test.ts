import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, eq } from 'drizzle-orm';
import { inboundSignature, slackSignature } from '@blend/core';
import { schema, type PostView } from '@blend/db';
import { parseMail } from '@blend/mail';
import { waitFor } from './support/database';
import { fetchRawMessages, headerValues, sendRaw } from './support/mail-server';
import { buildMessage, finalRow } from './support/messages';
import { run } from './support/process';
import { startStack, type Stack } from './support/stack';

// The way back in (docs/ARCHITECTURE.md "Chat tools", docs/SECURITY.md B36): replies written in
// Slack, Mattermost, Rocket.Chat or any tool reach Blend over real HTTP and become comments that
// go back into the mail conversation through the real Postfix and Dovecot.
const PUBLIC_URL = 'https://blend.test';
const SLACK_SECRET = randomBytes(16).toString('hex');
const MM_TOKEN = 'mmtoken0000000000000000000';
const RC_TOKEN = 'rctoken0000000000000000000';
const INBOUND_SECRET = randomBytes(32).toString('hex');
const ERIN_SLACK = 'U0ERIN01';
const PAT_SLACK = 'U0PAT001';
const ERIN_MM = 'abcdefghijklmnopqrstuvwxyz';
const ERIN_RC = 'RcErinUserId00001';

let s: Stack;
let base: string;
let slackWebhook: Server;
/** What Blend's Slack-format webhook delivered (the messages Slack would show in the channel). */
const delivered: string[] = [];
/** A CloudEvents receiver of comments, to see that a chat reply still leaves Blend, marked `via`. */
let ceWebhook: Server;
const cloudEvents: Record<string, unknown>[] = [];
const hookIds: Record<'slack' | 'ce', string> = { slack: '', ce: '' };
let P: string;
let rootId: string;
let postId: string;
const tokens: Record<string, string> = {};
const at = (name: string) => `${name}@${P}`;
const blend = (...args: string[]) => run(['services/cli/src/cli.ts', ...args], { DATABASE_URL: s.config.DATABASE_URL });

const post = async () => (await s.get<PostView>(`/api/v1/posts/${postId}`, tokens.alice!)).body;
const chatRows = async () => s.db.db.select().from(schema.chatInbound);
const commentCount = async () => (await s.db.db.select({ n: count() }).from(schema.comments))[0]!.n;
/** The hooks a comment's `comment.created` was fanned out to (written with the comment, so known at once). */
const hooksGiven = async (commentId: string) =>
  (
    await s.db.db
      .select({ hook: schema.webhookDeliveries.webhookId })
      .from(schema.webhookDeliveries)
      .innerJoin(schema.events, eq(schema.events.id, schema.webhookDeliveries.eventId))
      .where(eq(schema.events.commentId, commentId))
  ).map((r) => (r.hook === hookIds.slack ? 'slack' : r.hook === hookIds.ce ? 'ce' : r.hook));

/** What Slack would send: an event callback, signed now (or at `signedAt`) with the app's secret. */
async function slack(event: Record<string, unknown>, opts: { eventId?: string; signedAt?: number; secret?: string; headers?: Record<string, string> } = {}) {
  const body = JSON.stringify({ token: 'legacy', team_id: 'T0BLEND', api_app_id: 'A0BLEND', type: 'event_callback', event_id: opts.eventId ?? `Ev${randomBytes(5).toString('hex')}`, event_time: 1, event });
  return slackRaw(body, opts);
}
async function slackRaw(body: string, opts: { signedAt?: number; secret?: string; headers?: Record<string, string> } = {}) {
  const ts = String(opts.signedAt ?? Math.floor(Date.now() / 1000));
  const res = await fetch(`${base}/api/v1/integrations/slack/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(opts.secret ?? SLACK_SECRET, ts, body), ...opts.headers },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const slackReply = (user: string, text: string, threadTs: string) => ({ type: 'message', channel: 'C0GENERAL', user, text, ts: `${Date.now() / 1000}`, thread_ts: threadTs });

async function generic(payload: object, opts: { signedAt?: number; secret?: string } = {}) {
  const body = JSON.stringify(payload);
  const ts = String(opts.signedAt ?? Math.floor(Date.now() / 1000));
  const res = await fetch(`${base}/api/v1/inbound/comments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-blend-timestamp': ts, 'x-blend-signature': inboundSignature(opts.secret ?? INBOUND_SECRET, ts, body) },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Mails that reached one person whose From names `author` (oldest first). */
async function mailsFrom(to: string, author: RegExp) {
  return (await fetchRawMessages(s.people.imapUrl))
    .map((m) => m.source.toString('utf8'))
    .filter((raw) => headerValues(raw, 'delivered-to').some((d) => d.toLowerCase() === to) && author.test(headerValues(raw, 'from')[0] ?? ''));
}
const ids = (v: string | undefined) => (v ?? '').match(/<[^<>]+>/g)?.map((x) => x.slice(1, -1)) ?? [];

const SLACK_PARENT_TS = '1796570000.000100';

beforeAll(async () => {
  s = await startStack({
    BLEND_PUBLIC_URL: PUBLIC_URL,
    BLEND_SLACK_SIGNING_SECRET: SLACK_SECRET,
    BLEND_MATTERMOST_TOKEN: `other-token-000000000000,${MM_TOKEN}`,
    BLEND_ROCKETCHAT_TOKEN: RC_TOKEN,
    BLEND_INBOUND_SECRET: INBOUND_SECRET,
    BLEND_POLL_INTERVAL_MS: '1000',
    BLEND_NOTIFY_COALESCE_MS: '500',
    BLEND_NOTIFY_SWEEP_MS: '200',
    BLEND_WEBHOOK_ALLOW_PRIVATE: 'true',
  });
  P = s.people.domain;
  for (const [name, full, optIn] of [['alice', 'Alice Mail', true], ['bob', 'Bob Mail', true], ['erin', 'Erin Chat', true], ['pat', 'Pat Pending', false], ['root', 'IT', true]] as const) {
    tokens[name] = await s.person(at(name), { name: full, optIn });
  }
  await s.db.db.update(schema.people).set({ quietStart: '00:00', quietEnd: '00:00' });
  await s.db.db.update(schema.people).set({ isAdmin: true }).where(eq(schema.people.email, at('root')));
  base = await s.app.listen({ port: 0, host: '127.0.0.1' });

  // Slack's incoming webhook, standing in: Blend announces the new thread to it in Slack's format.
  slackWebhook = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      delivered.push(body);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => slackWebhook.listen(0, '127.0.0.1', resolve));
  const hook = await s.app.inject({
    method: 'POST',
    url: '/api/v1/admin/webhooks',
    headers: { authorization: `Bearer ${tokens.root}` },
    payload: { url: `http://127.0.0.1:${(slackWebhook.address() as AddressInfo).port}/services/T0/B0/x`, events: ['post.created', 'comment.created'], format: 'slack' },
  });
  expect(hook.statusCode).toBe(201);
  hookIds.slack = (hook.json() as { id: string }).id;
  ceWebhook = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      cloudEvents.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => ceWebhook.listen(0, '127.0.0.1', resolve));
  const ce = await s.app.inject({
    method: 'POST',
    url: '/api/v1/admin/webhooks',
    headers: { authorization: `Bearer ${tokens.root}` },
    payload: { url: `http://127.0.0.1:${(ceWebhook.address() as AddressInfo).port}/ce`, events: ['comment.created'], format: 'cloudevents' },
  });
  expect(ce.statusCode).toBe(201);
  hookIds.ce = (ce.json() as { id: string }).id;

  // A conversation that started in mail.
  const m = buildMessage({ from: `Alice Mail <${at('alice')}>`, to: at('bob'), cc: `status@${s.mail.domain}`, subject: 'Offsite venue', body: 'Shall we book the lake house?' });
  rootId = m.messageId;
  await sendRaw(m.raw, { from: at('alice'), to: `status@${s.mail.domain}` });
  const row = await finalRow(s.db.db, m.messageId);
  expect(row.state).toBe('posted');
  postId = row.postId!;
}, 60_000);
afterAll(async () => {
  await new Promise((resolve) => slackWebhook?.close(resolve));
  await new Promise((resolve) => ceWebhook?.close(resolve));
  await s?.stop();
});

describe('blend people link', () => {
  it('links chat accounts to people, lists them and refuses usernames', async () => {
    for (const args of [['--slack', ERIN_SLACK], ['--mattermost', ERIN_MM], ['--rocketchat', ERIN_RC]]) {
      const p = blend('people', 'link', at('erin'), ...args);
      expect((await p.done).code, p.err()).toBe(0);
      expect(p.out()).toContain(`linked ${args[0]!.slice(2)} ${args[1]} to ${at('erin')}`);
    }
    const pat = blend('people', 'link', at('pat'), '--slack', PAT_SLACK);
    expect((await pat.done).code).toBe(0);
    expect(pat.out()).toContain('has not opted in');

    const bad = blend('people', 'link', at('erin'), '--mattermost', 'erin.chat');
    expect((await bad.done).code).toBe(2);
    expect(bad.err()).toContain('a username is not accepted');

    const list = blend('people', 'links', at('erin'), '--json');
    expect((await list.done).code).toBe(0);
    expect((JSON.parse(list.out()) as { tool: string; id: string }[]).map((l) => `${l.tool}:${l.id}`).sort()).toEqual([`mattermost:${ERIN_MM}`, `rocketchat:${ERIN_RC}`, `slack:${ERIN_SLACK}`]);

    // Unlink and link again: the link is IT's to give and take, and each change is audited.
    const un = blend('people', 'unlink', at('pat'), '--slack', PAT_SLACK);
    expect((await un.done).code).toBe(0);
    expect(un.out()).toContain('unlinked 1 slack account');
    expect((await blend('people', 'link', at('pat'), '--slack', PAT_SLACK).done).code).toBe(0);
    const audit = await s.db.db.select().from(schema.auditLog);
    expect(audit.filter((a) => a.action === 'link_chat_account')).toHaveLength(5);
    expect(audit.filter((a) => a.action === 'unlink_chat_account').map((a) => a.detail)).toEqual([{ tool: 'slack', ids: [PAT_SLACK] }]);
  }, 60_000);
});

describe('Slack Events API', () => {
  it('answers the URL verification challenge, only when signed', async () => {
    const body = JSON.stringify({ token: 'legacy', challenge: 'c-3f2a', type: 'url_verification' });
    expect(await slackRaw(body)).toEqual({ status: 200, body: { challenge: 'c-3f2a' } });
    expect((await slackRaw(body, { secret: 'not-the-signing-secret' })).status).toBe(401);
  });

  it('learns the thread from Blend’s own message and takes a reply in it as a comment that reaches the mail conversation', async () => {
    // Blend's webhook message, as it delivered it, comes back to the app as a bot message.
    const own = JSON.parse(await waitFor(async () => delivered.find((b) => b.includes(postId)), 'the post announced to Slack')) as { text: string; attachments: unknown[] };
    expect(own.text).toContain(`<${PUBLIC_URL}/web/posts/${postId}|`);
    const recorded = await slack({ type: 'message', subtype: 'bot_message', bot_id: 'B0BLEND', channel: 'C0GENERAL', ts: SLACK_PARENT_TS, text: own.text, attachments: own.attachments });
    expect(recorded).toEqual({ status: 200, body: { status: 'thread_recorded', post_id: postId } });

    const res = await slack(slackReply(ERIN_SLACK, 'The lake house works &amp; it has a big room, ask <@U0BOB0001|bob>', SLACK_PARENT_TS), { eventId: 'Ev0REPLY0001' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'commented', post_id: postId });
    const comments = (await post()).comments;
    expect(comments.map((c) => [c.author.email, c.body_text])).toEqual([[at('erin'), 'The lake house works & it has a big room, ask @bob']]);

    // Mirrored into the mail conversation, to both of its people, as a reply to the first mail.
    for (const who of ['alice', 'bob']) {
      const [mail] = await waitFor(async () => {
        const m = await mailsFrom(at(who), /Erin Chat via Blend/);
        return m.length ? m : undefined;
      }, `the Slack reply mirrored to ${who}`);
      expect(ids(headerValues(mail!, 'in-reply-to')[0])).toEqual([rootId]);
      expect(ids(headerValues(mail!, 'references')[0])).toContain(rootId);
      const parsed = (await parseMail(Buffer.from(mail!))).mail;
      expect(parsed.subject).toBe('Re: Offsite venue');
      expect(parsed.text).toContain('The lake house works & it has a big room');
    }
    expect(await chatRows()).toEqual([expect.objectContaining({ tool: 'slack', eventKey: 'Ev0REPLY0001', state: 'commented', commentId: comments[0]!.id })]);

    // Not echoed into Slack by the Slack-format hook; a CloudEvents receiver gets it, marked as from Slack.
    const ce = await waitFor(async () => cloudEvents.find((e) => (e.data as { comment?: { id: string } }).comment?.id === comments[0]!.id), 'the reply as a CloudEvent');
    expect(ce).toMatchObject({ type: 'blend.comment.created', blendvia: 'slack', blendorigin: 'esn', data: { via: 'slack', origin: 'esn', comment: { body_text: comments[0]!.body_text } } });
    expect(await hooksGiven(comments[0]!.id)).toEqual(['ce']);
    expect(delivered.filter((b) => b.includes('lake house works'))).toEqual([]);
  }, 60_000);

  it('takes a retried event once', async () => {
    const before = await commentCount();
    const again = await slack(slackReply(ERIN_SLACK, 'The lake house works', SLACK_PARENT_TS), { eventId: 'Ev0REPLY0001', headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } });
    expect(again).toEqual({ status: 200, body: { status: 'duplicate' } });
    expect(await commentCount()).toBe(before);

    // Two copies of a new event at once: the claim is taken in the comment's transaction, so one wins.
    const event = slackReply(ERIN_SLACK, 'Parking is free there.', SLACK_PARENT_TS);
    const both = await Promise.all([slack(event, { eventId: 'Ev0TWICE0001' }), slack(event, { eventId: 'Ev0TWICE0001' })]);
    expect(both.map((r) => r.body.status).sort()).toEqual(['commented', 'duplicate']);
    expect(await commentCount()).toBe(before + 1);
  });

  it('refuses a bad signature and a replayed timestamp with 401, changing nothing', async () => {
    const before = { comments: await commentCount(), rows: (await chatRows()).length };
    const forged = await slack(slackReply(ERIN_SLACK, 'forged', SLACK_PARENT_TS), { secret: 'a-guess-at-the-signing-secret' });
    expect(forged).toEqual({ status: 401, body: { error: { code: 'UNAUTHORIZED', message: 'Slack signature does not match the body' } } });
    // A request Slack really signed, captured and sent again ten minutes later.
    const replayed = await slack(slackReply(ERIN_SLACK, 'replayed', SLACK_PARENT_TS), { signedAt: Math.floor(Date.now() / 1000) - 600 });
    expect(replayed.status).toBe(401);
    expect((replayed.body.error as { message: string }).message).toMatch(/more than 5 minutes.*replayed/);
    const unsigned = await fetch(`${base}/api/v1/integrations/slack/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(unsigned.status).toBe(401);
    expect({ comments: await commentCount(), rows: (await chatRows()).length }).toEqual(before);
  });

  it('leaves replies in threads Blend did not start alone, with a reason', async () => {
    const before = { comments: await commentCount(), rows: (await chatRows()).length };
    expect(await slack(slackReply(ERIN_SLACK, 'lunch?', '1796570000.999999'))).toEqual({ status: 200, body: { status: 'ignored', reason: 'unknown_thread' } });
    expect(await slack({ type: 'message', channel: 'C0GENERAL', user: ERIN_SLACK, text: 'top level', ts: '1796570001.000001' })).toEqual({ status: 200, body: { status: 'ignored', reason: 'not_in_thread' } });
    expect({ comments: await commentCount(), rows: (await chatRows()).length }).toEqual(before);
  });

  it('withholds replies of unlinked and not opted-in authors, recorded for IT', async () => {
    const before = await commentCount();
    expect(await slack(slackReply('U0STRANGER', 'who are you people', SLACK_PARENT_TS), { eventId: 'Ev0STRANGER1' })).toEqual({ status: 200, body: { status: 'withheld', reason: 'unknown_author' } });
    expect(await slack(slackReply(PAT_SLACK, 'count me in', SLACK_PARENT_TS), { eventId: 'Ev0PAT000001' })).toEqual({ status: 200, body: { status: 'withheld', reason: 'not_opted_in' } });
    expect(await commentCount()).toBe(before);
    const rows = await chatRows();
    expect(rows.find((r) => r.eventKey === 'Ev0STRANGER1')).toMatchObject({ state: 'withheld', reason: 'unknown_author', authorRef: 'U0STRANGER', personId: null, postId });
    expect(rows.find((r) => r.eventKey === 'Ev0PAT000001')).toMatchObject({ state: 'withheld', reason: 'not_opted_in', authorRef: PAT_SLACK });
    const list = blend('chat', 'list', '--json');
    expect((await list.done).code).toBe(0);
    expect((JSON.parse(list.out()) as { reason: string | null }[]).map((r) => r.reason)).toEqual(expect.arrayContaining(['unknown_author', 'not_opted_in', null]));
  }, 30_000);
});

describe('Mattermost and Rocket.Chat outgoing webhooks', () => {
  const link = () => `${PUBLIC_URL}/web/posts/${postId}`;
  const mattermost = (form: Record<string, string>) =>
    fetch(`${base}/api/v1/integrations/mattermost`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });

  it('refuses a token it was not given', async () => {
    const before = await commentCount();
    const res = await mattermost({ token: 'wrong-token-0000000000000', post_id: 'mmpost1', channel_id: 'mmchan', user_id: ERIN_MM, text: `${link()} hi` });
    expect(res.status).toBe(401);
    expect(await commentCount()).toBe(before);
  });

  it('takes a reply that names its thread by Blend’s link, once', async () => {
    const form = { token: MM_TOKEN, team_id: 't', channel_id: 'mmchan', user_id: ERIN_MM, user_name: 'erin', post_id: 'mmpost00000000000000000001', text: `blend ${link()} Booked it for Friday.`, trigger_word: 'blend', timestamp: '1' };
    const res = await mattermost(form);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'commented', post_id: postId });
    expect((await post()).comments.at(-1)).toMatchObject({ body_text: 'Booked it for Friday.', author: { email: at('erin') } });
    // Mattermost takes the Slack format: no echo there either.
    expect(await hooksGiven((await post()).comments.at(-1)!.id)).toEqual(['ce']);
    expect(await (await mattermost(form)).json()).toEqual({ status: 'duplicate' });
    expect(await (await mattermost({ ...form, post_id: 'mmpost2', text: 'just chatting' })).json()).toEqual({ status: 'ignored', reason: 'no_thread_reference' });
  });

  it('follows a Rocket.Chat thread (tmid) that Blend’s own message started', async () => {
    const rc = (body: object) => fetch(`${base}/api/v1/integrations/rocketchat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: RC_TOKEN, channel_id: 'rcroom', ...body }) });
    expect(await (await rc({ bot: true, message_id: 'rcBlendMsg', user_id: 'rcbot', text: `Alice posted <${link()}|Offsite venue>` })).json()).toEqual({ status: 'thread_recorded', post_id: postId });
    const res = await rc({ bot: false, message_id: 'rcReply1', tmid: 'rcBlendMsg', user_id: ERIN_RC, user_name: 'erin', text: 'Bringing the projector.' });
    expect(await res.json()).toMatchObject({ status: 'commented', post_id: postId });
    expect((await post()).comments.at(-1)).toMatchObject({ body_text: 'Bringing the projector.' });
    expect(await hooksGiven((await post()).comments.at(-1)!.id)).toEqual(['ce']);
  });
});

describe('the generic signed endpoint', () => {
  it('takes a signed comment by address or linked account, once; refuses bad signatures and unknown threads', async () => {
    const msg = { id: 'tool-msg-1', thread: `${PUBLIC_URL}/web/posts/${postId}`, author: { email: at('bob') }, text: 'Friday suits me.' };
    const first = await generic(msg);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ status: 'commented', post_id: postId });
    expect(await generic(msg)).toEqual({ status: 200, body: { status: 'duplicate' } });
    expect((await generic({ ...msg, id: 'tool-msg-2', thread: postId, author: { slack: ERIN_SLACK }, text: 'Same for me.' })).status).toBe(201);
    expect((await post()).comments.slice(-2).map((c) => c.author.email)).toEqual([at('bob'), at('erin')]);
    // The generic endpoint's tool is not known to be Slack's: the Slack-format hook gets these.
    expect((await hooksGiven((await post()).comments.at(-1)!.id)).sort()).toEqual(['ce', 'slack']);

    const before = { comments: await commentCount(), rows: (await chatRows()).length };
    expect((await generic({ ...msg, id: 'tool-msg-3' }, { secret: 'x'.repeat(64) })).status).toBe(401);
    expect((await generic({ ...msg, id: 'tool-msg-4' }, { signedAt: Math.floor(Date.now() / 1000) - 301 })).status).toBe(401);
    const unknown = await generic({ ...msg, id: 'tool-msg-5', thread: '00000000-0000-4000-8000-000000000000' });
    expect(unknown).toEqual({ status: 404, body: { error: { code: 'NOT_FOUND', message: 'unknown thread: no live Blend thread has that reference' } } });
    expect((await generic({ ...msg, id: 'tool-msg-6', thread: 'https://elsewhere.test/x' })).status).toBe(404);
    expect({ comments: await commentCount(), rows: (await chatRows()).length }).toEqual(before);

    const stranger = await generic({ ...msg, id: 'tool-msg-7', author: { email: 'nobody@elsewhere.test' } });
    expect(stranger).toEqual({ status: 202, body: { status: 'withheld', reason: 'unknown_author' } });
    expect(await commentCount()).toBe(before.comments);
  });

  it('counts what became of each message in blend_chat_replies_total', async () => {
    const metrics = (await s.app.inject({ method: 'GET', url: '/metrics' })).body;
    for (const [tool, outcome] of [['slack', 'commented'], ['slack', 'duplicate'], ['slack', 'withheld'], ['slack', 'ignored'], ['slack', 'refused'], ['mattermost', 'refused'], ['rocketchat', 'commented'], ['generic', 'commented'], ['generic', 'withheld']]) {
      expect(metrics).toMatch(new RegExp(`blend_chat_replies_total\\{tool="${tool}",outcome="${outcome}"\\} [1-9]`));
    }
  });
});

describe('an endpoint without its secret', () => {
  it('is off and says which setting turns it on', async () => {
    const bare = await startStack({}, { poller: false });
    try {
      const res = await bare.app.inject({ method: 'POST', url: '/api/v1/integrations/slack/events', payload: {} });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ error: { message: 'the Slack integration is off: set BLEND_SLACK_SIGNING_SECRET' } });
      expect((await bare.app.inject({ method: 'POST', url: '/api/v1/inbound/comments', payload: {} })).statusCode).toBe(404);
    } finally {
      await bare.stop();
    }
  }, 60_000);
});

