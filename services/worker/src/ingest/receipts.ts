import { postLink, preferencesLink, languageOf, signLink, type MailInput, type SenderVerdict } from '@blend/core';
import { postTitle, publishedCount, publishedCountKnown, writeOutboundMail, type ActivityEvent, type Person, type ThreadFacts, type Tx } from '@blend/db';
import { renderReceiptMail } from '@blend/mail';
import { queueMail } from '../outbox';
import type { InboundIds } from './copies';
import { activitySettings, type IngestDeps } from './deps';

/** What a receipt is written from: the mail, its sender and the ingest's moment. */
export interface ReceiptContext {
  deps: IngestDeps;
  row: { id: string };
  mail: MailInput;
  ids: InboundIds;
  person: Person | null;
  verdict: SenderVerdict;
  now: Date;
}

/**
 * The count {@link publishReceipt} will need of the sender's published mails, asked of the
 * statement that reads the activity's facts (`recordActivity`, after the mail's own post or
 * comment is written): none when no receipt depends on it, or the transaction knows it already.
 */
export function receiptCount(tx: Tx, c: ReceiptContext): ActivityEvent['countPublished'] {
  const p = c.person;
  if (!p || !c.ids.fromAddress || !p.receipts || p.receiptsExplicit) return undefined;
  const atMost = activitySettings(c.deps).receiptsFirst + 1;
  return publishedCountKnown(tx, p.id, atMost) === undefined ? { personId: p.id, atMost } : undefined;
}

/**
 * "Published: …": what was published, a link, and Undo / Fix links that work for a while.
 * Sent when the person wants receipts; by default only for their first few published mails.
 */
export async function publishReceipt(
  tx: Tx,
  c: ReceiptContext,
  /** `title` undefined: the post's, read only when a receipt is written. */
  what: { postId: string; commentId: string | null; title?: string; text: string },
  outbound: string[],
  /** What `recordActivity` read of the thread, the count {@link receiptCount} asked for among it. */
  thread?: ThreadFacts | null,
): Promise<void> {
  const p = c.person;
  const from = c.ids.fromAddress;
  if (!p || !from || !p.receipts) return;
  const s = activitySettings(c.deps);
  if (!p.receiptsExplicit && (thread?.published ?? (await publishedCount(tx, p.id, s.receiptsFirst + 1))) > s.receiptsFirst) return;
  const iat = Math.floor(c.now.getTime() / 1000);
  const exp = iat + s.undoMinutes * 60;
  const subject = what.commentId ? `comment:${what.commentId}` : `post:${what.postId}`;
  const link = (path: string, purpose: 'undo' | 'fix') =>
    `${c.deps.publicUrl}${path}?t=${encodeURIComponent(signLink({ purpose, subject, scope: p.id, exp, iat }, c.deps.secret))}`;
  const mail = renderReceiptMail({
    outcome: what.commentId ? 'commented' : 'posted',
    title: what.title ?? thread?.title ?? (await postTitle(tx, what.postId)) ?? '',
    text: what.text,
    postUrl: postLink(c.deps.publicUrl, what.postId),
    undoUrl: link('/links/undo', 'undo'),
    fixUrl: link('/links/fix', 'fix'),
    validMinutes: s.undoMinutes,
    language: languageOf(p, c.deps.defaultLanguage),
    preferencesUrl: preferencesLink(c.deps.publicUrl),
  });
  // About a thread, but not in it: a reply to a receipt is not a comment.
  const id = await writeOutboundMail(tx, c.deps.addressing, {
    kind: 'receipt',
    to: from,
    personId: p.id,
    language: mail.language,
    postId: what.postId,
    commentId: what.commentId,
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    inReplyTo: c.mail.messageId,
    references: c.mail.messageId ? [c.mail.messageId] : [],
    autoSubmitted: 'auto-replied',
    dedupeKey: `receipt:${c.row.id}`,
  });
  if (id) outbound.push(id);
}

/** Rejections worth telling an authenticated sender about (loops and spoofs never are). */
export const RECEIPT_REJECTS = new Set<string>(['unknown_group', 'not_group_member', 'group_archived', 'empty_body', 'bad_token', 'sender_mismatch', 'unknown_command']);

/**
 * "Not published: …" with the reason and what to do, to a known, authenticated sender.
 * At most one a day per sender and reason, so a loop or a burst cannot turn into a mail storm.
 */
export async function notPublishedReceipt(tx: Tx, c: ReceiptContext, outcome: 'rejected' | 'held', reason: string, outbound: string[]): Promise<void> {
  const from = c.ids.fromAddress;
  if (!from || !c.verdict.ok || !c.person || c.person.optIn === 'opted_out') return;
  // A valid token used by the wrong colleague is answered exactly as an invalid one, so the
  // answer never tells anyone that a reply address they hold is live (docs/SECURITY.md 3.1).
  const told = reason === 'sender_mismatch' ? 'bad_token' : reason;
  const mail = renderReceiptMail({ outcome, subject: c.ids.subject, reason: told, language: languageOf(c.person, c.deps.defaultLanguage), preferencesUrl: preferencesLink(c.deps.publicUrl) });
  const id = await queueMail(tx, c.deps.addressing, {
    kind: 'receipt',
    to: from,
    personId: c.person.id,
    notice: { subject: mail.subject, text: mail.text, language: mail.language },
    dedupeKey: `not-published:${from}:${told}:${c.now.toISOString().slice(0, 10)}`,
    inReplyTo: c.mail.messageId,
  });
  if (id) outbound.push(id);
}
