import type { Addressing } from './addressing';
import { newMessageId } from './message-id';

/** RFC 3834: `auto-replied` for an answer to a mail, `auto-generated` for everything else. */
export type AutoSubmitted = 'auto-generated' | 'auto-replied';

/**
 * A mail Blend sends, as its writer describes it: who it goes to, what it says, where it
 * belongs. {@link outboundRow} turns it into the outbox row.
 */
export interface OutboundMail {
  /** What the mail is for (`mirror`, `digest`, `receipt`, `thread_notice`, …). */
  kind: string;
  to: string;
  personId?: string | null;
  postId?: string | null;
  /** The comment it carries, so an edit or deletion can follow it. */
  commentId?: string | null;
  subject: string;
  text: string;
  html?: string | null;
  /** From's display name (`Alice via Blend`); none: `Blend`. */
  fromName?: string | null;
  replyTo?: string | null;
  inReplyTo?: string | null;
  references?: string[];
  /** Extra headers (List-Unsubscribe, Precedence, Thread-Index, Thread-Topic, …). */
  headers?: Record<string, string>;
  /** @defaultValue 'auto-generated' */
  autoSubmitted?: AutoSubmitted;
  /** At most one mail per key (one digest per window, one notice per week…). */
  dedupeKey?: string | null;
  /** The language the mail is written in: its `Content-Language` (RFC 3282). */
  language?: string | null;
  /**
   * A reply to this mail, to any address, comments on `postId`: its Message-ID is mapped to
   * the thread. Not for mail that spans threads (a digest) or only answers one (a notice).
   * @defaultValue false
   */
  threaded?: boolean;
}

/** An outbox row's values, as `outbound_messages` stores them. */
export interface OutboundRowValues {
  id: string;
  kind: string;
  toAddress: string;
  personId: string | null;
  postId: string | null;
  commentId: string | null;
  messageId: string;
  subject: string;
  textBody: string;
  htmlBody: string | null;
  fromName: string | null;
  replyTo: string | null;
  inReplyTo: string | null;
  references: string[];
  headers: Record<string, string>;
  autoSubmitted: AutoSubmitted;
  dedupeKey: string | null;
}

/**
 * The outbox row of a mail: its Message-ID made from the row id (docs/ARCHITECTURE.md
 * invariant 2), absent values as null, the language as `Content-Language`.
 */
export function outboundRow(mail: OutboundMail, id: string, addressing: Addressing): OutboundRowValues {
  return {
    id,
    kind: mail.kind,
    toAddress: mail.to,
    personId: mail.personId ?? null,
    postId: mail.postId ?? null,
    commentId: mail.commentId ?? null,
    messageId: newMessageId(id, addressing),
    subject: mail.subject,
    textBody: mail.text,
    htmlBody: mail.html ?? null,
    fromName: mail.fromName ?? null,
    replyTo: mail.replyTo ?? null,
    inReplyTo: mail.inReplyTo ?? null,
    references: mail.references ?? [],
    headers: { ...mail.headers, ...(mail.language ? { 'Content-Language': mail.language } : {}) },
    autoSubmitted: mail.autoSubmitted ?? 'auto-generated',
    dedupeKey: mail.dedupeKey ?? null,
  };
}

/**
 * The conversation fields of a mail that answers another (a notice or receipt about a mail
 * someone sent): threaded under it and marked `auto-replied` (RFC 3834). With no Message-ID
 * to answer, a mail of its own.
 */
export function answering(messageId: string | null | undefined): Pick<OutboundMail, 'inReplyTo' | 'references' | 'autoSubmitted'> {
  return messageId ? { inReplyTo: messageId, references: [messageId], autoSubmitted: 'auto-replied' } : { inReplyTo: null, references: [], autoSubmitted: 'auto-generated' };
}
