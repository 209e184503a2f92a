import { htmlToPlainText, textToSafeHtml } from './html';
import { redact, type Redaction } from './redaction';
import { normaliseSubject } from './subject';
import { truncate } from './clean-text';
import type { MailInput } from './types';
import { extractVisibleText } from './visible-text';

export interface RenderedContent {
  title: string;
  bodyText: string;
  bodyHtml: string;
  /** The first non-empty line of the new text (where mail commands live). */
  firstLine: string;
  /** Length of the text before trimming, and how much was trimmed as quotes/signatures. */
  sourceChars: number;
  trimmedChars: number;
}

const MAX_TITLE = 255;
const MAX_BODY = 100_000;

/**
 * What a mail shows when it is published: the subject without Re:/Fwd:/list tags and the
 * new visible text, redacted, as text and as safe HTML. Pure, so IT can re-run it on stored
 * mail after a rule change and compare (`blend inbound reprocess --dry-run`).
 */
export function renderMailContent(mail: MailInput, opts: { redactions: readonly Redaction[] }): RenderedContent {
  // HTML-only mail (no text/plain part) is converted to text here, not by the parser.
  const raw = mail.text?.trim() ? mail.text : mail.html ? htmlToPlainText(mail.html) : '';
  const visible = extractVisibleText(raw);
  const body = redact(truncate(visible.text, MAX_BODY), opts.redactions).text;
  return {
    title: redact(truncate(normaliseSubject(mail.subject), MAX_TITLE), opts.redactions).text,
    bodyText: body,
    bodyHtml: textToSafeHtml(body),
    firstLine: visible.text.split('\n').find((l) => l.trim()) ?? '',
    sourceChars: raw.length,
    trimmedChars: visible.trimmedChars,
  };
}
