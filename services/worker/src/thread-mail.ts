import { randomBytes, randomUUID } from 'node:crypto';
import {
  bridgeAddress,
  childThreadIndex,
  DEFAULT_REPLY_TOKEN_MAX_USES,
  DEFAULT_REPLY_TOKEN_TTL_DAYS,
  generateReplyToken,
  hashReplyToken,
  newMessageId,
  newThreadIndex,
  normaliseSubject,
  signLink,
  type Addressing,
} from '@blend/core';
import { addOutbound, recordMessageRefs, saveReplyToken, type Tx } from '@blend/db';

/**
 * Writing mail that belongs to a thread: reply addresses, conversation headers, the
 * unsubscribe headers of RFC 8058 and the links every mail carries. Used by the
 * notification sweep, the digest and receipts; all of it inside the caller's transaction.
 */

export interface MailSite {
  /** The bridge's addresses and the domain of our Message-IDs (BLEND_ADDRESSING…). */
  addressing: Addressing;
  /** BLEND_PUBLIC_URL without a trailing slash. */
  publicUrl: string;
  secret: string;
}

/** A new reply-by-email address for one person and one thread (the token is stored hashed). */
export async function issueReplyAddress(tx: Tx, site: MailSite, personId: string, postId: string, outboundId: string, now: Date): Promise<string> {
  const token = generateReplyToken((n) => randomBytes(n));
  await saveReplyToken(tx, {
    tokenHash: hashReplyToken(token, site.secret),
    personId,
    postId,
    outboundId,
    expiresAt: new Date(now.getTime() + DEFAULT_REPLY_TOKEN_TTL_DAYS * 86_400_000),
    maxUses: DEFAULT_REPLY_TOKEN_MAX_USES,
  });
  return bridgeAddress(site.addressing, { kind: 'reply', token });
}

/** What an unsubscribe link stops: digests, or mail about one thread. */
export type UnsubscribeScope = 'digest' | `thread:${string}`;

/** Days an unsubscribe link in a mail keeps working. */
const UNSUBSCRIBE_DAYS = 180;

export function unsubscribeUrl(site: MailSite, personId: string, scope: UnsubscribeScope, now: Date): string {
  const iat = Math.floor(now.getTime() / 1000);
  const t = signLink({ purpose: 'list_unsubscribe', subject: personId, scope, exp: iat + UNSUBSCRIBE_DAYS * 86_400, iat }, site.secret);
  return `${site.publicUrl}/links/unsubscribe?t=${encodeURIComponent(t)}`;
}

/**
 * RFC 2369 / RFC 8058 headers: an HTTPS one-click URL (POST with `List-Unsubscribe=One-Click`)
 * and a mailto that works without a browser.
 */
export function unsubscribeHeaders(site: MailSite, url: string, mailtoSubject: string): Record<string, string> {
  return {
    'List-Unsubscribe': `<${url}>, <mailto:${bridgeAddress(site.addressing, { kind: 'status' })}?subject=${encodeURIComponent(mailtoSubject)}>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  };
}

export const preferencesUrl = (site: MailSite) => `${site.publicUrl}/web/preferences`;
export const postUrl = (site: MailSite, postId: string) => `${site.publicUrl}/web/posts/${postId}`;

/** Bytes of a UUID, for an Outlook thread index of a thread that has none. */
function uuidBytes(id: string): Uint8Array {
  return Buffer.from(id.replace(/-/g, ''), 'hex');
}

/**
 * Outlook's conversation headers for a reply in the thread: `Thread-Topic` is the subject
 * without prefixes, `Thread-Index` the thread's index (from its first mail, or made from the
 * post) with a child block for this reply.
 */
export function conversationHeaders(post: { id: string; title: string; threadIndex: string | null; createdAt: Date }, now: Date): Record<string, string> {
  const base = post.threadIndex ?? newThreadIndex(post.createdAt, uuidBytes(post.id));
  const child = childThreadIndex(base, now) ?? childThreadIndex(newThreadIndex(post.createdAt, uuidBytes(post.id)), now);
  return { 'Thread-Topic': normaliseSubject(post.title) || post.title, ...(child ? { 'Thread-Index': child } : {}) };
}

export function replySubject(title: string): string {
  const t = title.trim() || '(no subject)';
  return /^re:/i.test(t) ? t : `Re: ${t}`;
}

export interface ThreadMail {
  kind: string;
  to: string;
  personId: string;
  postId: string;
  commentId?: string | null;
  subject: string;
  text: string;
  html: string;
  fromName?: string | null;
  /** Our Message-ID; made from the row id when absent. */
  replyTo?: string | null;
  inReplyTo?: string | null;
  references?: string[];
  headers?: Record<string, string>;
  dedupeKey?: string | null;
  autoSubmitted?: 'auto-generated' | 'auto-replied';
  /** Map the Message-ID to the thread (not for a digest, which spans threads). @defaultValue true */
  recordRef?: boolean;
}

/**
 * Write a thread mail to the outbox and record its Message-ID against the thread, so a
 * reply to it (to any address) finds the thread again.
 * @returns the row id, or null when the dedupe key was used before.
 */
export async function writeThreadMail(tx: Tx, site: MailSite, m: ThreadMail, id: string = randomUUID()): Promise<string | null> {
  const messageId = newMessageId(id, site.addressing);
  const row = await addOutbound(tx, {
    id,
    kind: m.kind,
    toAddress: m.to,
    personId: m.personId,
    postId: m.postId,
    commentId: m.commentId ?? null,
    messageId,
    subject: m.subject,
    textBody: m.text,
    htmlBody: m.html,
    fromName: m.fromName ?? null,
    replyTo: m.replyTo ?? null,
    inReplyTo: m.inReplyTo ?? null,
    references: m.references ?? [],
    headers: m.headers ?? {},
    autoSubmitted: m.autoSubmitted ?? 'auto-generated',
    dedupeKey: m.dedupeKey ?? null,
  });
  if (row && m.recordRef !== false) await recordMessageRefs(tx, [{ messageId, postId: m.postId, commentId: m.commentId ?? null }]);
  return row;
}
