import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  findPostLink,
  parseThreadRef,
  PermanentError,
  readSlackMessage,
  replyText,
  tokenAllowed,
  verifyInboundRequest,
  verifySlackRequest,
  type SignatureCheck,
} from '@blend/core';
import { findChatThread, findLinkedPerson, findPersonByEmail, recordChatThread, type ChatTool, type Database, type Person } from '@blend/db';
import type { Config } from '@blend/config';
import type { Logger, Metrics } from '@blend/runtime';
import type { ActionDeps } from '../use-cases/esn-actions';
import { publishChatReply, refusalReason, type ChatReplyOutcome } from './chat-reply';

/**
 * The way back in from chat tools (docs/ARCHITECTURE.md "Chat tools", docs/SECURITY.md B36):
 * Slack's Events API, Mattermost's and Rocket.Chat's outgoing webhooks, and a generic signed
 * endpoint. Each is off until its secret is set.
 */

/** BLEND_SLACK_SIGNING_SECRET, BLEND_MATTERMOST_TOKEN, BLEND_ROCKETCHAT_TOKEN, BLEND_INBOUND_SECRET. */
export interface ChatIntegrationSettings {
  slackSigningSecret?: string;
  mattermostTokens?: string[];
  rocketchatTokens?: string[];
  inboundSecret?: string;
}

/** The settings from the configuration; a service passes them to buildApp. */
export function chatIntegrationsFrom(c: Pick<Config, 'BLEND_SLACK_SIGNING_SECRET' | 'BLEND_MATTERMOST_TOKEN' | 'BLEND_ROCKETCHAT_TOKEN' | 'BLEND_INBOUND_SECRET'>): ChatIntegrationSettings {
  return {
    ...(c.BLEND_SLACK_SIGNING_SECRET ? { slackSigningSecret: c.BLEND_SLACK_SIGNING_SECRET } : {}),
    ...(c.BLEND_MATTERMOST_TOKEN ? { mattermostTokens: c.BLEND_MATTERMOST_TOKEN } : {}),
    ...(c.BLEND_ROCKETCHAT_TOKEN ? { rocketchatTokens: c.BLEND_ROCKETCHAT_TOKEN } : {}),
    ...(c.BLEND_INBOUND_SECRET ? { inboundSecret: c.BLEND_INBOUND_SECRET } : {}),
  };
}

export interface IntegrationDeps extends ActionDeps {
  db: Database;
  log: Logger;
  metrics?: Metrics;
  integrations?: ChatIntegrationSettings;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The request body as it arrived, for signatures over its exact bytes. */
    rawBody?: Buffer;
  }
}

/** Chat payloads are small; a larger body is not a chat message. */
const BODY_LIMIT = 256 * 1024;

/**
 * Parsers that keep the raw bytes, for these routes only (an encapsulated plugin): a signature
 * is computed over the body as sent, which re-serialised JSON would not reproduce.
 */
function keepRawBodies(r: FastifyInstance): void {
  r.removeContentTypeParser(['application/json', 'application/x-www-form-urlencoded']);
  const parse = (kind: 'json' | 'form') => (req: FastifyRequest, body: Buffer, done: (err: Error | null, value?: unknown) => void) => {
    req.rawBody = body;
    if (body.length === 0) return done(null, {});
    try {
      const text = body.toString('utf8');
      done(null, kind === 'json' ? JSON.parse(text) : Object.fromEntries(new URLSearchParams(text)));
    } catch {
      done(new PermanentError('VALIDATION', kind === 'json' ? 'the body is not JSON' : 'the body is not a form'));
    }
  };
  r.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, parse('json'));
  r.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, parse('form'));
}

const off = (what: string, setting: string) => new PermanentError('NOT_FOUND', `the ${what} integration is off: set ${setting}`);

/** Refuse a request whose signature does not hold, before anything is read or written. */
function assertSigned(check: SignatureCheck, who: string): void {
  switch (check) {
    case 'ok':
      return;
    case 'missing':
      throw new PermanentError('UNAUTHORIZED', `${who} signature headers are missing`);
    case 'bad_signature':
      throw new PermanentError('UNAUTHORIZED', `${who} signature does not match the body`);
    case 'stale':
      throw new PermanentError('UNAUTHORIZED', `${who} timestamp is more than 5 minutes from now: a replayed or delayed request is refused`);
  }
}

const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};
const nowSeconds = () => Math.floor(Date.now() / 1000);
const record = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);

/** A chat tool is told how its message ended in a 200, so it never retries or disables the hook for an answer. */
async function answerChatTool(deps: IntegrationDeps, reply: FastifyReply, run: () => Promise<ChatReplyOutcome>): Promise<unknown> {
  try {
    const out = await run();
    return reply.status(200).send(out.status === 'commented' ? { status: out.status, comment_id: out.commentId, post_id: out.postId } : out);
  } catch (err) {
    const reason = refusalReason(err);
    if (!reason) throw err;
    deps.log.info({ reason }, 'chat reply not published');
    return reply.status(200).send({ status: 'ignored', reason });
  }
}

function slackRoute(r: FastifyInstance, deps: IntegrationDeps): void {
  r.post('/api/v1/integrations/slack/events', { schema: { hide: true } }, async (req, reply) => {
    const secret = deps.integrations?.slackSigningSecret;
    if (!secret) throw off('Slack', 'BLEND_SLACK_SIGNING_SECRET');
    assertSigned(verifySlackRequest(secret, header(req, 'x-slack-request-timestamp'), header(req, 'x-slack-signature'), req.rawBody ?? Buffer.alloc(0), nowSeconds()), 'Slack');
    const body = record(req.body);
    if (body.type === 'url_verification') return { challenge: String(body.challenge ?? '') };
    if (body.type !== 'event_callback') return { status: 'ignored', reason: 'not_an_event' };
    const team = str(body.team_id) ?? '';
    const eventId = str(body.event_id);
    const retry = header(req, 'x-slack-retry-num');
    const log = req.log.child({ slackEvent: eventId, ...(retry ? { slackRetry: retry, slackRetryReason: header(req, 'x-slack-retry-reason') } : {}) });
    const meaning = readSlackMessage(team, record(body.event), deps.publicUrl);
    switch (meaning.kind) {
      case 'ignore':
        return { status: 'ignored', reason: meaning.reason };
      case 'thread_source':
        await recordChatThread(deps.db, { tool: 'slack', space: meaning.space, threadId: meaning.threadId, postId: meaning.postId });
        log.info({ postId: meaning.postId }, 'slack thread recorded');
        return { status: 'thread_recorded', post_id: meaning.postId };
      case 'reply': {
        const postId = await findChatThread(deps.db, 'slack', meaning.space, meaning.threadId);
        // Slack sends every message of the channel; threads Blend did not start are not errors.
        if (!postId) return { status: 'ignored', reason: 'unknown_thread' };
        const person = await findLinkedPerson(deps.db, 'slack', meaning.user);
        return answerChatTool(deps, reply, () =>
          publishChatReply(deps, { tool: 'slack', eventKey: eventId ?? `${meaning.space}/${meaning.messageTs}`, authorRef: meaning.user, person, postId, text: meaning.text }),
        );
      }
    }
  });
}

/**
 * Mattermost and Rocket.Chat outgoing webhooks share a shape: a shared token, the author's id,
 * the message id and its text. Mattermost does not say which thread a message answers, so a
 * reply names its thread with Blend's link; Rocket.Chat gives the thread (`tmid`), which Blend
 * knows once Rocket.Chat has sent it Blend's own message that starts it.
 */
function outgoingWebhookRoute(r: FastifyInstance, deps: IntegrationDeps, tool: Extract<ChatTool, 'mattermost' | 'rocketchat'>): void {
  const name = tool === 'mattermost' ? 'Mattermost' : 'Rocket.Chat';
  const setting = tool === 'mattermost' ? 'BLEND_MATTERMOST_TOKEN' : 'BLEND_ROCKETCHAT_TOKEN';
  r.post(`/api/v1/integrations/${tool}`, { schema: { hide: true } }, async (req, reply) => {
    const tokens = tool === 'mattermost' ? deps.integrations?.mattermostTokens : deps.integrations?.rocketchatTokens;
    if (!tokens?.length) throw off(name, setting);
    const body = record(req.body);
    if (!tokenAllowed(tokens, body.token)) throw new PermanentError('UNAUTHORIZED', `the ${name} outgoing webhook token is not one of ${setting}`);
    const messageId = str(tool === 'mattermost' ? body.post_id : body.message_id);
    const channel = str(body.channel_id);
    const user = str(body.user_id);
    const text = typeof body.text === 'string' ? body.text : '';
    if (!messageId || !channel || !user) throw new PermanentError('VALIDATION', `a ${name} outgoing webhook names the message, its channel and its author (${tool === 'mattermost' ? 'post_id' : 'message_id'}, channel_id, user_id)`);
    const link = findPostLink(text, deps.publicUrl);
    if (body.bot === true || body.bot === 'true') {
      // Blend's own message, posted by its incoming webhook: remember where its thread is.
      if (link && tool === 'rocketchat') await recordChatThread(deps.db, { tool, space: channel, threadId: messageId, postId: link });
      return { status: link ? 'thread_recorded' : 'ignored', ...(link ? { post_id: link } : { reason: 'bot_without_link' }) };
    }
    if (body.isEdited === true || body.isEdited === 'true') return { status: 'ignored', reason: 'edit_or_system' };
    const tmid = tool === 'rocketchat' ? str(body.tmid) : undefined;
    const postId = (tmid ? await findChatThread(deps.db, tool, channel, tmid) : undefined) ?? link;
    if (!postId) return { status: 'ignored', reason: tmid ? 'unknown_thread' : 'no_thread_reference' };
    const words = replyText(text, deps.publicUrl, str(body.trigger_word));
    const person = await findLinkedPerson(deps.db, tool, user);
    return answerChatTool(deps, reply, () => publishChatReply(deps, { tool, eventKey: messageId, authorRef: user, person, postId, text: words }));
  });
}

/** The author of a generic request: a Blend person's address, or a linked chat account. */
async function genericAuthor(db: Database, author: Record<string, unknown>): Promise<{ ref: string; person: Person | undefined }> {
  const email = str(author.email);
  if (email) return { ref: email.toLowerCase(), person: await findPersonByEmail(db, email.trim().toLowerCase()) };
  for (const tool of ['slack', 'mattermost', 'rocketchat'] as const) {
    const id = str(author[tool]);
    if (id) return { ref: `${tool}:${id}`, person: await findLinkedPerson(db, tool, id) };
  }
  throw new PermanentError('VALIDATION', 'author needs "email", or one of "slack", "mattermost", "rocketchat" with a linked account id');
}

function genericRoute(r: FastifyInstance, deps: IntegrationDeps): void {
  r.post('/api/v1/inbound/comments', { schema: { hide: true } }, async (req, reply) => {
    const secret = deps.integrations?.inboundSecret;
    if (!secret) throw off('generic inbound', 'BLEND_INBOUND_SECRET');
    assertSigned(verifyInboundRequest(secret, header(req, 'x-blend-timestamp'), header(req, 'x-blend-signature'), req.rawBody ?? Buffer.alloc(0), nowSeconds()), 'X-Blend');
    const body = record(req.body);
    const id = str(body.id);
    const thread = str(body.thread);
    const text = typeof body.text === 'string' ? body.text : '';
    if (!id || id.length > 200) throw new PermanentError('VALIDATION', '"id" (the message\'s own id in your tool, at most 200 characters) is required: a retry with the same id is answered as a duplicate');
    if (!thread) throw new PermanentError('VALIDATION', '"thread" (a Blend post id or the thread\'s link) is required');
    if (text.trim() === '') throw new PermanentError('VALIDATION', '"text" must not be empty');
    const ref = parseThreadRef(thread, deps.publicUrl);
    if (!ref) throw new PermanentError('NOT_FOUND', 'unknown thread: "thread" is neither a Blend post id nor a link to a Blend thread');
    const author = await genericAuthor(deps.db, record(body.author));
    const out = await publishChatReply(deps, { tool: 'generic', eventKey: id, authorRef: author.ref, person: author.person, postId: ref, text });
    switch (out.status) {
      case 'commented':
        return reply.status(201).send({ status: out.status, comment_id: out.commentId, post_id: out.postId });
      case 'withheld':
        return reply.status(202).send(out);
      case 'duplicate':
        return reply.status(200).send(out);
    }
  });
}

/** The inbound integration routes, in a plugin of their own so that their body parsers keep raw bytes. */
export function integrationRoutes(app: FastifyInstance, deps: IntegrationDeps): void {
  void app.register(async (r) => {
    keepRawBodies(r);
    // blend_chat_replies_total: what became of each message, read from the answer's `status`
    // (every 2xx answer of these routes starts with it), or `refused` for a 401.
    const outcomes = new WeakMap<FastifyRequest, string>();
    r.addHook('onSend', async (req, reply, payload) => {
      const status = reply.statusCode < 300 && typeof payload === 'string' ? /^\{"status":"([a-z_]+)"/.exec(payload)?.[1] : undefined;
      if (status && status !== 'thread_recorded') outcomes.set(req, status);
      return payload;
    });
    r.addHook('onResponse', async (req, reply) => {
      const outcome = reply.statusCode === 401 ? 'refused' : outcomes.get(req);
      if (outcome) deps.metrics?.chatReplies.inc({ tool: /\/(slack|mattermost|rocketchat)\b/.exec(req.url)?.[1] ?? 'generic', outcome });
    });
    slackRoute(r, deps);
    outgoingWebhookRoute(r, deps, 'mattermost');
    outgoingWebhookRoute(r, deps, 'rocketchat');
    genericRoute(r, deps);
  });
}
