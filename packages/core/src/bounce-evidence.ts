import { readBounceToken } from './bounce-token';
import { hasNullReturnPath, type Classification } from './classify';
import { readDeliveryReport, type DeliveryReport } from './delivery-report';
import type { Route } from './route';
import type { MailInput } from './types';

/** What a bounce says about one of Blend's mails: a hard bounce (5.x.x) or a delay. */
interface BounceReport {
  hard: boolean;
  /** `Status: 5.1.1 smtp; 550 …`, kept as the outbox row's last error. */
  detail: string;
}

/**
 * A real DSN about one of Blend's mails, and how it names the mail:
 * - `verp`: sent to a VERP address (`bounce+<token>@`, `M+bounce-<token>@` in plus mode) whose
 *   token names the outbox row and carries a MAC with BLEND_SECRET, so an address made up from
 *   a row id seen in a Message-ID names nothing;
 * - `returned`: without our VERP address (a submission server rewrote the envelope sender, as
 *   Gmail and Exchange Online do for an authenticated client, or one-mailbox mode behind a
 *   server without sub-addressing), by the Message-ID of the message the DSN returns
 *   (RFC 3464, RFC 6522). Every recipient of the mail knows that Message-ID, so this path can
 *   mark one mail bounced but is the weaker one (docs/SECURITY.md B10).
 */
export type BounceEvidence =
  | ({ via: 'verp'; outboundId: string } & BounceReport)
  | ({ via: 'returned'; originalMessageId: string } & BounceReport);

export interface BounceInput {
  mail: MailInput;
  /** The raw source as `latin1` text, read only when the mail may be a bounce. */
  source: () => string;
  route: Route | null;
  classification: Classification;
  /** BLEND_SECRET first, then BLEND_SECRET_PREVIOUS while keys change. */
  secrets: readonly string[];
}

/**
 * Reads which of Blend's mails a bounce is about, or null. A mail to a VERP address is judged by
 * its token alone; otherwise only mail classified as a bounce counts, and never a read receipt
 * (RFC 8098), which returns the message too but says nothing about its delivery. Either way only
 * a real DSN counts (see {@link realDsn}).
 */
export function readBounce(b: BounceInput): BounceEvidence | null {
  if (b.route?.kind === 'bounce') {
    const [secret, ...previous] = b.secrets;
    const outboundId = secret === undefined ? null : readBounceToken(b.route.token, secret, previous);
    if (outboundId === null) return null;
    const report = realDsn(b.mail, b.source);
    return report ? { via: 'verp', outboundId, ...summary(report) } : null;
  }
  if (b.classification.kind !== 'bounce' || b.classification.reason === 'disposition_notification') return null;
  const report = realDsn(b.mail, b.source);
  if (!report?.originalMessageId) return null;
  return { via: 'returned', originalMessageId: report.originalMessageId, ...summary(report) };
}

/**
 * The report of a real delivery status notification, or null: a `multipart/report` with a
 * `message/delivery-status` part (RFC 6522, RFC 3464), sent with the null reverse-path that
 * RFC 5321 section 4.5.5 requires of every DSN (the delivery agent records it as
 * `Return-Path: <>`). Anything else, a plain-text "Status: 5.1.1" included, changes nothing.
 */
function realDsn(mail: MailInput, source: () => string): DeliveryReport | null {
  if (!hasNullReturnPath(mail)) return null;
  const report = readDeliveryReport(source());
  return report.isDsn ? report : null;
}

function summary(report: DeliveryReport): BounceReport {
  return { hard: report.permanent, detail: `Status: ${report.status ?? 'unknown'} ${report.diagnostic ?? ''}`.trim() };
}
