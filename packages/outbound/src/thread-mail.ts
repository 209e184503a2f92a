import { randomBytes } from 'node:crypto';
import {
  actionLink,
  bridgeAddress,
  childThreadIndex,
  newReplyAddress,
  newThreadIndex,
  normaliseSubject,
  signLink,
  type Addressing,
  type Language,
} from '@blend/core';

/**
 * What mail that belongs to a thread carries: reply addresses, conversation headers and the
 * unsubscribe headers of RFC 8058. Used by the notification sweep and the digest;
 * all of it inside the caller's transaction. The rows themselves are written by
 * `writeOutboundMail` (docs/ARCHITECTURE.md "Outbound mail").
 */

export interface MailSite {
  /** The bridge's addresses and the domain of our Message-IDs (BLEND_ADDRESSING…). */
  addressing: Addressing;
  /** BLEND_PUBLIC_URL without a trailing slash. */
  publicUrl: string;
  secret: string;
  /** Language of mail to people who have not chosen one (BLEND_DEFAULT_LANGUAGE). @defaultValue 'en' */
  defaultLanguage?: Language;
}

/**
 * A new reply-by-email address for one person and one thread, and the record of its token
 * (core `newReplyAddress`); the caller stores the records of many together (`saveReplyTokens`).
 */
export function replyAddress(site: MailSite, personId: string, postId: string, outboundId: string, now: Date): ReturnType<typeof newReplyAddress> {
  return newReplyAddress({ addressing: site.addressing, secret: site.secret, personId, postId, outboundId, now, random: (n) => randomBytes(n) });
}

/** What an unsubscribe link stops: digests, or mail about one thread. */
export type UnsubscribeScope = 'digest' | `thread:${string}`;

/** Days an unsubscribe link in a mail keeps working. */
const UNSUBSCRIBE_DAYS = 180;

export function unsubscribeUrl(site: MailSite, personId: string, scope: UnsubscribeScope, now: Date): string {
  const iat = Math.floor(now.getTime() / 1000);
  const t = signLink({ purpose: 'list_unsubscribe', subject: personId, scope, exp: iat + UNSUBSCRIBE_DAYS * 86_400, iat }, site.secret);
  return actionLink(site.publicUrl, '/links/unsubscribe', t);
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
