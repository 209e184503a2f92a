import { CloudEvent, HTTP } from 'cloudevents';
import { Webhook } from 'standardwebhooks';
import { cutText, summarizeEvent } from './event-summary';
import type { WebhookEvent } from './event-types';

/**
 * Blend's events in the shapes other tools take: a CloudEvents 1.0 envelope signed per
 * Standard Webhooks, a Microsoft Teams message with an Adaptive Card, a Discord webhook
 * message. Pure: the delivery job calls them with a stored event.
 */

/** The CloudEvents `type` of a Blend event: its name under a `blend.` prefix. */
export const cloudEventType = (e: WebhookEvent): string => `blend.${e.event}`;

/**
 * The event in a CloudEvents 1.0 structured-mode envelope (made by the `cloudevents` SDK, which
 * also checks it): `id` is the event's stable id, `data` is the event in Blend's JSON, and the
 * extension attributes `blendthread`, `blendsequence` and `blendorigin` carry its thread, its
 * place in the thread and its channel, and `blendvia` the chat tool a reply was written in.
 * @param source the envelope's `source` (BLEND_PUBLIC_URL) @defaultValue "/blend"
 */
export function cloudEventMessage(e: WebhookEvent, fallbackId: string, source = '/blend'): { contentType: string; body: string } {
  const subject =
    'comment' in e ? `comments/${e.comment.id}` : 'post' in e ? `posts/${e.post.id}` : `people/${e.person.id}`;
  const ce = new CloudEvent<WebhookEvent>({
    id: e.id ?? fallbackId,
    source,
    type: cloudEventType(e),
    subject,
    time: e.occurred_at,
    datacontenttype: 'application/json',
    data: e,
    ...(e.thread ? { blendthread: e.thread.id, blendsequence: e.thread.sequence } : {}),
    ...(e.origin ? { blendorigin: e.origin } : {}),
    ...(e.via ? { blendvia: e.via } : {}),
  });
  const m = HTTP.structured(ce);
  return { contentType: String(m.headers['content-type']), body: String(m.body) };
}

/**
 * Standard Webhooks headers for `body`: `webhook-signature` is `v1,` and the base64
 * HMAC-SHA256 of `id.timestamp.body` under the key in `secret` (`whsec_` + base64), signed by
 * the `standardwebhooks` package itself.
 */
export function standardWebhookHeaders(secret: string, id: string, now: Date, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, now, body),
  };
}

/** Limits of a Discord webhook message (discord.com/developers/docs/resources/message). */
export const DISCORD_LIMITS = { content: 2000, embeds: 10, title: 256, description: 4096, authorName: 256, footerText: 2048, embedTotal: 6000 } as const;

export interface DiscordEmbed {
  title?: string;
  description?: string;
  url?: string;
  timestamp?: string;
  author?: { name: string };
  footer?: { text: string };
}
export interface DiscordMessage {
  content: string;
  embeds: DiscordEmbed[];
  /** Nobody is pinged by anything in a post: `@everyone` or a role in a mail stays text. */
  allowed_mentions: { parse: never[] };
}

/**
 * The event as a Discord webhook message: the headline as `content`, the post or comment as an
 * embed. Edits and removals are a follow-up message of their own (a webhook message cannot be
 * found again to change it).
 */
export function discordPayload(e: WebhookEvent): DiscordMessage {
  const s = summarizeEvent(e, 1000);
  const embeds: DiscordEmbed[] = [];
  if (s.excerpt !== null) {
    embeds.push({
      ...(s.title ? { title: cutText(s.title, DISCORD_LIMITS.title) } : {}),
      description: cutText(s.excerpt, DISCORD_LIMITS.description),
      ...(s.url ? { url: s.url } : {}),
      timestamp: s.at,
      ...(s.author ? { author: { name: cutText(s.author, DISCORD_LIMITS.authorName) } } : {}),
      footer: { text: s.viaEmail ? 'Blend · via email' : 'Blend' },
    });
  }
  return { content: cutText(s.headline, DISCORD_LIMITS.content), embeds, allowed_mentions: { parse: [] } };
}

/** An Adaptive Card (adaptivecards.io, version 1.4: what Teams renders in a Workflows or incoming-webhook post). */
export interface AdaptiveCard {
  $schema: string;
  type: 'AdaptiveCard';
  version: '1.4';
  body: Record<string, unknown>[];
  actions?: Record<string, unknown>[];
}
export interface TeamsMessage {
  type: 'message';
  attachments: { contentType: 'application/vnd.microsoft.card.adaptive'; contentUrl: null; content: AdaptiveCard }[];
}

/**
 * The event as a Teams message carrying one Adaptive Card: the title, the headline (author
 * and action), the excerpt, a "via email" marker for mail, and a button to the thread. Edits
 * and removals are a new card starting "edited:" or saying who removed it.
 */
export function teamsPayload(e: WebhookEvent): TeamsMessage {
  const s = summarizeEvent(e);
  const body: Record<string, unknown>[] = [];
  if (s.title) body.push({ type: 'TextBlock', text: s.title, weight: 'Bolder', size: 'Medium', wrap: true });
  body.push({ type: 'TextBlock', text: s.headline, isSubtle: s.kind !== 'follow-up', wrap: true, spacing: s.title ? 'None' : 'Default' });
  if (s.excerpt) body.push({ type: 'TextBlock', text: s.excerpt, wrap: true });
  const facts = [...(s.author ? [{ title: 'Author', value: s.author }] : []), ...(s.viaEmail ? [{ title: 'Via', value: 'email' }] : [])];
  if (facts.length) body.push({ type: 'FactSet', facts });
  const card: AdaptiveCard = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body,
    ...(s.url ? { actions: [{ type: 'Action.OpenUrl', title: 'Open in Blend', url: s.url }] } : {}),
  };
  return { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }] };
}
