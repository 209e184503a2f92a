import { readDeliveryReport, type Classification, type DeliveryReport } from '@blend/core';
import { outboundIdByMessageId, type Tx } from '@blend/db';

/** The outbox row a bounce is about, and what it says: a hard bounce (5.x.x) or a delay. */
export interface BounceTarget {
  outboundId: string;
  hard: boolean;
  /** `Status: 5.1.1 smtp; 550 …`, kept as the row's last error. */
  detail: string;
}

/**
 * The outbox row of a bounce sent to one of our VERP addresses (`bounce+<row id hex>@`,
 * `M+bounce-<row id hex>@` in plus mode): the token is the row's UUID without dashes.
 */
export function bounceByVerp(token: string, raw: Buffer): BounceTarget | null {
  if (!/^[0-9a-f]{32}$/.test(token)) return null;
  const outboundId = `${token.slice(0, 8)}-${token.slice(8, 12)}-${token.slice(12, 16)}-${token.slice(16, 20)}-${token.slice(20)}`;
  return target(outboundId, readDeliveryReport(raw.toString('latin1')));
}

/**
 * The outbox row of a bounce that came back without our VERP address, found by the Message-ID
 * of the message the DSN returns (RFC 3464, RFC 6522). That happens when the submission
 * server rewrites the envelope sender to the mailbox's own address (Gmail and Exchange Online
 * do for an authenticated client) or in one-mailbox mode behind a server without sub-addressing.
 *
 * Only for mail classified as a bounce, and never for a read receipt (RFC 8098), which returns
 * the message too but says nothing about its delivery. A forged DSN could name one of our
 * Message-IDs, but that exposes nothing new: whoever knows the Message-ID (its recipient)
 * can tell the VERP address from it, both being made of the row id.
 */
export async function bounceByReturnedMessage(tx: Tx, classification: Classification, raw: Buffer): Promise<BounceTarget | null> {
  if (classification.kind !== 'bounce' || classification.reason === 'disposition_notification') return null;
  const report = readDeliveryReport(raw.toString('latin1'));
  if (!report.originalMessageId) return null;
  const outboundId = await outboundIdByMessageId(tx, report.originalMessageId);
  return outboundId ? target(outboundId, report) : null;
}

function target(outboundId: string, report: DeliveryReport): BounceTarget {
  return { outboundId, hard: report.permanent, detail: `Status: ${report.status ?? 'unknown'} ${report.diagnostic ?? ''}`.trim() };
}
