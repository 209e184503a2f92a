import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Replies written in a chat tool coming back as comments (docs/ARCHITECTURE.md "Chat tools",
 * docs/SECURITY.md B36). Pure: signatures, tokens, thread references and message text. The API
 * routes load and store; these functions decide.
 */

/** How far a signed request's timestamp may be from now, either way, in seconds (Slack's own rule). */
export const SIGNATURE_WINDOW_SECONDS = 300;

export type SignatureCheck = 'ok' | 'missing' | 'bad_signature' | 'stale';

const hex64 = /^[0-9a-f]{64}$/;

function sameHex(expected: string, given: string): boolean {
  if (!hex64.test(given)) return false;
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(given, 'hex'));
}

/** Whether a timestamp header is a whole number of seconds within the window of `nowSeconds`. */
function fresh(timestamp: string, nowSeconds: number): boolean {
  if (!/^\d{1,12}$/.test(timestamp)) return false;
  return Math.abs(nowSeconds - Number(timestamp)) <= SIGNATURE_WINDOW_SECONDS;
}

/** Slack's `v0=` signature: hex HMAC-SHA256 of `v0:TIMESTAMP:BODY` under the app's signing secret. */
export function slackSignature(secret: string, timestamp: string, rawBody: string | Buffer): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(rawBody).digest('hex')}`;
}

/**
 * Check Slack's request signing (`X-Slack-Request-Timestamp`, `X-Slack-Signature`). The
 * signature is checked first, so a stale answer is only given to a request Slack really
 * signed; a timestamp outside the window is a replay and refused.
 */
export function verifySlackRequest(secret: string, timestamp: string | undefined, signature: string | undefined, rawBody: Buffer, nowSeconds: number): SignatureCheck {
  if (!timestamp || !signature) return 'missing';
  if (!/^\d{1,12}$/.test(timestamp) || !signature.startsWith('v0=')) return 'bad_signature';
  if (!sameHex(slackSignature(secret, timestamp, rawBody).slice(3), signature.slice(3))) return 'bad_signature';
  return fresh(timestamp, nowSeconds) ? 'ok' : 'stale';
}

/** The generic endpoint's signature: `sha256=` and the hex HMAC-SHA256 of `TIMESTAMP.BODY` under BLEND_INBOUND_SECRET. */
export function inboundSignature(secret: string, timestamp: string, rawBody: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex')}`;
}

/** Check `X-Blend-Timestamp` and `X-Blend-Signature` of a request to the generic endpoint. */
export function verifyInboundRequest(secret: string, timestamp: string | undefined, signature: string | undefined, rawBody: Buffer, nowSeconds: number): SignatureCheck {
  if (!timestamp || !signature) return 'missing';
  if (!/^\d{1,12}$/.test(timestamp) || !signature.startsWith('sha256=')) return 'bad_signature';
  if (!sameHex(inboundSignature(secret, timestamp, rawBody).slice(7), signature.slice(7))) return 'bad_signature';
  return fresh(timestamp, nowSeconds) ? 'ok' : 'stale';
}

/** Whether `given` is one of the shared tokens, compared in constant time (Mattermost, Rocket.Chat). */
export function tokenAllowed(allowed: readonly string[], given: unknown): boolean {
  if (typeof given !== 'string' || given === '') return false;
  const g = createHmac('sha256', 'token').update(given).digest();
  let ok = false;
  for (const t of allowed) ok = timingSafeEqual(createHmac('sha256', 'token').update(t).digest(), g) || ok;
  return ok;
}

const UUID_IN = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The pattern of a link to a Blend thread: `PUBLIC_URL/web/posts/ID` (the link Blend's own messages carry). */
function postLinkPattern(publicUrl: string, flags: string): RegExp {
  const base = escapeRe(publicUrl.replace(/\/+$/, ''));
  return new RegExp(`${base}/(?:web|api/v1)/posts/(${UUID_IN})(?![0-9a-z-])`, flags);
}

/** The first Blend thread a text links to, or undefined. Only links under `publicUrl` count. */
export function findPostLink(text: string, publicUrl: string | undefined): string | undefined {
  if (!publicUrl) return undefined;
  return postLinkPattern(publicUrl, 'i').exec(text)?.[1]?.toLowerCase();
}

/**
 * An explicit thread reference (the generic endpoint's `thread`): a Blend post id, or a link to
 * the thread under `publicUrl`. @returns the post id, or undefined when it is neither.
 */
export function parseThreadRef(thread: string, publicUrl: string | undefined): string | undefined {
  const t = thread.trim();
  if (new RegExp(`^${UUID_IN}$`, 'i').test(t)) return t.toLowerCase();
  if (!publicUrl) return undefined;
  const m = new RegExp(`^${postLinkPattern(publicUrl, '').source}(?:[?#].*)?$`, 'i').exec(t);
  return m?.[1]?.toLowerCase();
}

/**
 * Slack's message text as plain text: its `<…>` links, mentions and channel names written out,
 * and its three escapes undone (Slack's formatting reference: only `&`, `<` and `>` are escaped).
 */
export function slackToPlainText(text: string): string {
  return text
    .replace(/<([^<>]*)>/g, (_m, inner: string) => {
      const [target = '', label] = inner.split('|', 2);
      if (target.startsWith('@')) return label ? `@${label}` : target;
      if (target.startsWith('#')) return label ? `#${label}` : target;
      if (target.startsWith('!')) return `@${(label ?? target.slice(1)).replace(/\^.*$/, '')}`;
      return label && label !== target ? `${label} (${target})` : target;
    })
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/**
 * The words of a reply without the Blend link that named its thread (Mattermost and Rocket.Chat
 * replies carry it) and without the outgoing webhook's trigger word at the start.
 */
export function replyText(text: string, publicUrl: string | undefined, triggerWord?: string): string {
  let t = text;
  if (triggerWord && t.trimStart().startsWith(triggerWord)) t = t.trimStart().slice(triggerWord.length);
  if (publicUrl) t = t.replace(new RegExp(`<?${postLinkPattern(publicUrl, '').source}(?:\\|[^>]*)?>?`, 'gi'), ' ');
  return t.replace(/[ \t]+\n/g, '\n').replace(/[ \t]{2,}/g, ' ').trim();
}

/** A Slack `message` event, as much of it as Blend reads. */
export interface SlackMessageEvent {
  type?: unknown;
  subtype?: unknown;
  channel?: unknown;
  user?: unknown;
  bot_id?: unknown;
  text?: unknown;
  ts?: unknown;
  thread_ts?: unknown;
  attachments?: unknown;
}

/** What a Slack event means for Blend. */
export type SlackEventMeaning =
  /** A bot's message linking a Blend thread (Blend's webhook posted it): replies to it go there. */
  | { kind: 'thread_source'; space: string; threadId: string; postId: string }
  /** A person's reply in a thread. */
  | { kind: 'reply'; space: string; threadId: string; messageTs: string; user: string; text: string }
  | { kind: 'ignore'; reason: 'not_a_message' | 'not_in_thread' | 'edit_or_system' | 'bot_without_link' | 'empty' };

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The text of a bot message and its attachments, where Slack-format webhooks put the link. */
function botTexts(e: SlackMessageEvent): string {
  const parts = [str(e.text) ?? ''];
  if (Array.isArray(e.attachments)) {
    for (const a of e.attachments as Record<string, unknown>[]) {
      for (const k of ['title_link', 'text', 'fallback', 'pretext']) if (typeof a?.[k] === 'string') parts.push(a[k] as string);
    }
  }
  return parts.join('\n');
}

/**
 * Decide what a Slack `message` event is. `space` is `TEAM/CHANNEL`, since a channel id is
 * unique only in its workspace. Edits, deletions and system messages (joins, topic changes)
 * are ignored; a bot's message never becomes a comment, so Blend's own messages cannot loop.
 */
export function readSlackMessage(teamId: string, e: SlackMessageEvent, publicUrl: string | undefined): SlackEventMeaning {
  const channel = str(e.channel);
  const ts = str(e.ts);
  if (e.type !== 'message' || !channel || !ts) return { kind: 'ignore', reason: 'not_a_message' };
  const space = `${teamId}/${channel}`;
  if (e.subtype === 'bot_message' || str(e.bot_id)) {
    const postId = findPostLink(botTexts(e), publicUrl);
    return postId ? { kind: 'thread_source', space, threadId: ts, postId } : { kind: 'ignore', reason: 'bot_without_link' };
  }
  // A reply "also sent to the channel" is still a reply; every other subtype is not a person writing.
  if (e.subtype !== undefined && e.subtype !== 'thread_broadcast') return { kind: 'ignore', reason: 'edit_or_system' };
  const threadTs = str(e.thread_ts);
  const user = str(e.user);
  if (!threadTs || threadTs === ts || !user) return { kind: 'ignore', reason: 'not_in_thread' };
  const text = slackToPlainText(str(e.text) ?? '').trim();
  if (text === '') return { kind: 'ignore', reason: 'empty' };
  return { kind: 'reply', space, threadId: threadTs, messageTs: ts, user, text };
}

/** Why a chat reply is not published, as for mail from people who have not opted in. */
export type ChatWithheldReason = 'unknown_author' | 'not_opted_in' | 'opted_out';

/** Whether a reply's author may publish: linked to a person, and that person opted in (docs/ARCHITECTURE.md invariant 5). */
export function judgeChatAuthor(person: { optIn: string } | undefined): { publish: true } | { publish: false; reason: ChatWithheldReason } {
  if (!person) return { publish: false, reason: 'unknown_author' };
  if (person.optIn === 'opted_in') return { publish: true };
  return { publish: false, reason: person.optIn === 'opted_out' ? 'opted_out' : 'not_opted_in' };
}
