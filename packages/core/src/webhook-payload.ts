import { createHmac, timingSafeEqual } from 'node:crypto';
import { PermanentError } from './errors';
import { summarizeEvent } from './event-summary';
import { escapeHtmlText } from './html-escape';
import type { WebhookEvent, WebhookPerson, WebhookPostRef } from './event-types';
import { cloudEventMessage, discordPayload, standardWebhookHeaders, teamsPayload } from './webhook-formats';

/**
 * Outbound webhook payloads and signatures. Pure functions: every change writes its event to the
 * events outbox (docs/ARCHITECTURE.md "Events"); the worker's delivery job turns each stored
 * event into an HTTP request in the hook's format with {@link webhookRequest}.
 */

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Check a stored payload's shape before it is sent (it was written by this module, but the
 * row may predate a change). Throws VALIDATION, which a job should treat as permanent.
 */
export function asWebhookEvent(payload: unknown): WebhookEvent {
  if (!isObject(payload) || typeof payload.occurred_at !== 'string') throw new PermanentError('VALIDATION', 'webhook payload is not an event');
  const p = payload;
  const post = isObject(p.post);
  const ok = (() => {
    switch (p.event) {
      case 'post.created':
      case 'post.updated':
        return post && isObject((p.post as Record<string, unknown>).author);
      case 'post.deleted':
        return post && typeof p.reason === 'string';
      case 'comment.created':
      case 'comment.updated':
      case 'comment.deleted':
        return post && isObject(p.comment);
      case 'reaction.created':
      case 'reaction.deleted':
        return post && isObject(p.reaction);
      case 'post.merged':
        return post && isObject(p.merged);
      case 'person.erased':
        return isObject(p.person);
      default:
        return false;
    }
  })();
  if (!ok) throw new PermanentError('VALIDATION', `unknown webhook event ${String(p.event)}`);
  return payload as unknown as WebhookEvent;
}

/** Hex HMAC-SHA256 of `${timestamp}.${body}` with the hook's secret. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** The `X-Blend-Signature` value: `t=<unix seconds>,v1=<hex>`. */
export function signatureHeader(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${signWebhook(secret, timestamp, body)}`;
}

/**
 * What a receiver does: parse the header, recompute, compare in constant time, and refuse
 * timestamps older than `toleranceSeconds` (replays).
 * @param toleranceSeconds @defaultValue 300
 */
export function verifyWebhookSignature(secret: string, header: string, body: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const m = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header);
  if (!m) return false;
  const ts = Number(m[1]);
  if (Math.abs(nowSeconds - ts) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, ts, body), 'hex');
  return timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'));
}

/** Slack mrkdwn needs only these three escaped (api.slack.com/reference/surfaces/formatting). */
const slackEscape = escapeHtmlText;
const who = (p: WebhookPerson): string => slackEscape(p.name || p.email);
const link = (post: WebhookPostRef): string => {
  const title = slackEscape(post.title || 'a post');
  // `|` would end the link label early.
  return post.url ? `<${post.url}|${title.replace(/\|/g, '¦')}>` : `“${title}”`;
};
const excerpt = (s: string, max = 500): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

export interface SlackAttachment {
  fallback: string;
  text: string;
  title?: string;
  title_link?: string;
  footer?: string;
  ts?: number;
}
export interface SlackMessage {
  text: string;
  attachments?: SlackAttachment[];
}

/** The event as a Slack incoming-webhook message (also accepted by Mattermost and Rocket.Chat). */
export function slackPayload(e: WebhookEvent): SlackMessage {
  const ts = Math.floor(Date.parse(e.occurred_at) / 1000);
  switch (e.event) {
    case 'post.created': {
      const text = `${who(e.post.author)} posted ${link(e.post)} in #${slackEscape(e.post.group.slug)}${e.post.source === 'email' ? ' (by email)' : ''}`;
      const body = slackEscape(excerpt(e.post.body_text));
      return { text, attachments: [{ fallback: body, text: body, footer: 'Blend', ts, ...(e.post.url ? { title: slackEscape(e.post.title), title_link: e.post.url } : {}) }] };
    }
    case 'comment.created': {
      const body = slackEscape(excerpt(e.comment.body_text));
      return { text: `${who(e.comment.author)} commented on ${link(e.post)}`, attachments: [{ fallback: body, text: body, footer: 'Blend', ts }] };
    }
    case 'reaction.created':
      return { text: `${who(e.reaction.person)} liked ${link(e.post)}` };
    case 'post.merged':
      return { text: `“${slackEscape(e.merged.title || 'A post')}” is now part of the thread ${link(e.post)}` };
    case 'post.updated':
    case 'comment.updated': {
      // Slack's incoming webhooks cannot change a message they posted: the edit follows it.
      const sum = summarizeEvent(e);
      const body = slackEscape(sum.excerpt ?? '');
      return { text: slackEscape(sum.headline), attachments: [{ fallback: body, text: body, footer: 'Blend', ts }] };
    }
    default:
      return { text: slackEscape(summarizeEvent(e).headline) };
  }
}

/** The HTTP request that delivers one stored event to one hook. */
export interface WebhookRequest {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
}

/** Formats a hook may have (`POST /api/v1/admin/webhooks` `format`). */
export const WEBHOOK_FORMATS = ['blend', 'cloudevents', 'slack', 'teams', 'discord'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/**
 * Build the signed request for a delivery. The body is `blend` JSON (the event itself), a
 * CloudEvents envelope, or a Slack, Teams or Discord message; the signature covers the exact
 * bytes sent: `X-Blend-Signature` for every format but `cloudevents`, which is signed per
 * Standard Webhooks (`webhook-id` is the event's id, so a redelivery or replay has the same).
 * `X-Blend-Delivery` stays the same across retries, so receivers can drop duplicates.
 * @param opts.source the CloudEvents `source` (BLEND_PUBLIC_URL)
 */
export function webhookRequest(
  hook: { url: string; format: string; secret: string },
  delivery: { id: string; payload: unknown },
  now: Date,
  opts: { source?: string } = {},
): WebhookRequest {
  const event = asWebhookEvent(delivery.payload);
  const common = { 'user-agent': 'Blend-Webhook/1', 'x-blend-event': event.event, 'x-blend-delivery': delivery.id };
  if (hook.format === 'cloudevents') {
    const m = cloudEventMessage(event, delivery.id, opts.source);
    const id = event.id ?? delivery.id;
    return { url: hook.url, method: 'POST', headers: { 'content-type': m.contentType, ...common, ...standardWebhookHeaders(hook.secret, id, now, m.body) }, body: m.body };
  }
  const shaped =
    hook.format === 'slack' ? slackPayload(event) : hook.format === 'teams' ? teamsPayload(event) : hook.format === 'discord' ? discordPayload(event) : event;
  const body = JSON.stringify(shaped);
  const ts = Math.floor(now.getTime() / 1000);
  return {
    url: hook.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...common, 'x-blend-signature': signatureHeader(hook.secret, ts, body) },
    body,
  };
}
