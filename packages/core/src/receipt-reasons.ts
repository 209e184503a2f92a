import { translator, type Language } from './i18n';
import type { HoldReason, RejectReason, WithholdReason } from './ingest-decision';

/**
 * Why an inbound mail was not published, as stored on the inbound row: the decision's
 * reasons (without those never answered: loops, bounces, auto-replies, list traffic) and
 * the reasons the worker finds before deciding.
 */
export type ReceiptReasonCode =
  | Exclude<RejectReason, 'own_mail' | 'bounce' | 'auto_generated' | 'mailing_list' | 'not_addressed_to_bridge' | 'reply_to_notice'>
  | WithholdReason
  | HoldReason
  | 'mime_limits'
  | 'malformed_mime'
  | 'too_large'
  | 'missing_source';

export interface OutcomeExplanation {
  /** What happened and why, in one or two sentences. */
  why: string;
  /** What the sender can do about it. */
  whatToDo: string;
}

/**
 * Each reason's text in the mail catalogue (`reason.<code>.why`, `.whatToDo`). Plain words
 * for an office worker: no protocol names where a plain word does, and every text says
 * whether anything was published. A receipt only goes to an authenticated sender
 * (docs/SECURITY.md I3), so naming the reason is safe.
 */
const TOLD_AS: Record<ReceiptReasonCode, ReceiptReasonCode> = {
  dmarc_fail: 'dmarc_fail',
  unauthenticated: 'unauthenticated',
  not_org_domain: 'not_org_domain',
  invalid_from: 'invalid_from',
  bad_token: 'bad_token',
  // Told as `bad_token`: saying "made for someone else" would confirm that a reply address the
  // sender holds is live (docs/SECURITY.md 3.1). IT still sees `sender_mismatch` on the row.
  sender_mismatch: 'bad_token',
  unknown_command: 'unknown_command',
  unknown_group: 'unknown_group',
  // Told exactly as `unknown_group`: an outsider is never told that a private group exists
  // (docs/SECURITY.md, private groups). IT still sees `not_group_member` on the row.
  not_group_member: 'unknown_group',
  group_archived: 'group_archived',
  empty_body: 'empty_body',
  mime_limits: 'mime_limits',
  malformed_mime: 'malformed_mime',
  too_large: 'too_large',
  missing_source: 'missing_source',
  sender_unknown: 'sender_unknown',
  not_opted_in: 'not_opted_in',
  opted_out: 'opted_out',
  participant_declined: 'participant_declined',
  encrypted: 'encrypted',
  sensitivity_label: 'sensitivity_label',
  confidential_marker: 'confidential_marker',
  external_participants: 'external_participants',
  sender_rate: 'sender_rate',
  thread_rate: 'thread_rate',
  org_rate: 'org_rate',
  unclear_quote: 'unclear_quote',
  conflicting_copy: 'conflicting_copy',
};

/**
 * Explains an inbound outcome code for a sender receipt, in `lang`. An unknown code (a new
 * reason added without a text) still gives a useful answer that names the code for IT.
 */
export function explainOutcome(code: string, lang: Language = 'en'): OutcomeExplanation {
  const t = translator(lang, 'mail');
  if (Object.hasOwn(TOLD_AS, code)) {
    const told = TOLD_AS[code as ReceiptReasonCode];
    return { why: t(`reason.${told}.why`), whatToDo: t(`reason.${told}.whatToDo`) };
  }
  // Codes are ours, but keep the text clean even if something odd is stored.
  const named = code.replace(/[^\w.-]/g, '').slice(0, 64) || 'unknown';
  return { why: t('reason.unknown.why', { code: named }), whatToDo: t('reason.unknown.whatToDo', { code: named }) };
}
