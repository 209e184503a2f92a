import { hasNullReturnPath, readBounceToken, readDeliveryReport, type Classification, type DeliveryReport, type MailInput } from '@blend/core';
import { outboundIdByMessageId, type Tx } from '@blend/db';

/** The outbox row a bounce is about, and what it says: a hard bounce (5.x.x) or a delay. */
export interface BounceTarget {
  outboundId: string;
  hard: boolean;
  /** `Status: 5.1.1 smtp; 550 …`, kept as the row's last error. */
  detail: string;
}

/**
 * The outbox row of a bounce sent to one of our VERP addresses (`bounce+<token>@`,
 * `M+bounce-<token>@` in plus mode): the token names the row and carries a MAC with
 * BLEND_SECRET (`readBounceToken`), so an address made up from a row id seen in a
 * Message-ID names nothing. Only a real DSN counts (see {@link realDsn}).
 * @param secrets - BLEND_SECRET first, then BLEND_SECRET_PREVIOUS while keys change.
 */
export function bounceByVerp(token: string, raw: Buffer, mail: MailInput, secrets: readonly string[]): BounceTarget | null {
  const [secret, ...previous] = secrets;
  const outboundId = secret === undefined ? null : readBounceToken(token, secret, previous);
  if (outboundId === null) return null;
  const report = realDsn(raw, mail);
  return report ? target(outboundId, report) : null;
}

/**
 * The outbox row of a bounce that came back without our VERP address, found by the Message-ID
 * of the message the DSN returns (RFC 3464, RFC 6522). That happens when the submission
 * server rewrites the envelope sender to the mailbox's own address (Gmail and Exchange Online
 * do for an authenticated client) or in one-mailbox mode behind a server without sub-addressing.
 *
 * Only for mail classified as a bounce, and never for a read receipt (RFC 8098), which returns
 * the message too but says nothing about its delivery. Only a real DSN counts (see
 * {@link realDsn}); a forged one could still name one of our Message-IDs, which every
 * recipient of the mail knows, so this path can mark one mail bounced but is the weaker one
 * (docs/SECURITY.md, B10).
 */
export async function bounceByReturnedMessage(tx: Tx, classification: Classification, raw: Buffer, mail: MailInput): Promise<BounceTarget | null> {
  if (classification.kind !== 'bounce' || classification.reason === 'disposition_notification') return null;
  const report = realDsn(raw, mail);
  if (!report?.originalMessageId) return null;
  const outboundId = await outboundIdByMessageId(tx, report.originalMessageId);
  return outboundId ? target(outboundId, report) : null;
}

/**
 * The report of a real delivery status notification, or null: a `multipart/report` with a
 * `message/delivery-status` part (RFC 6522, RFC 3464), sent with the null reverse-path that
 * RFC 5321 section 4.5.5 requires of every DSN (the delivery agent records it as
 * `Return-Path: <>`). Anything else, a plain-text "Status: 5.1.1" included, changes nothing.
 */
function realDsn(raw: Buffer, mail: MailInput): DeliveryReport | null {
  if (!hasNullReturnPath(mail)) return null;
  const report = readDeliveryReport(raw.toString('latin1'));
  return report.isDsn ? report : null;
}

function target(outboundId: string, report: DeliveryReport): BounceTarget {
  return { outboundId, hard: report.permanent, detail: `Status: ${report.status ?? 'unknown'} ${report.diagnostic ?? ''}`.trim() };
}
