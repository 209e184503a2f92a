import { convertMail } from './conversion/convert';
import type { ForwardedMessage } from './conversion/forwarded';
import { textToSafeHtml } from './html';
import { redact, type Redaction } from './redaction';
import { normaliseSubject } from './subject';
import { truncate } from './clean-text';
import { trimmedText } from './trimmed-text';
import type { MailInput } from './types';
import type { BodyDoubt } from './body-doubt';

export { describeDoubt, type BodyDoubt } from './body-doubt';

export interface RenderedContent {
  title: string;
  bodyText: string;
  bodyHtml: string;
  /** The first non-empty line of the new text (where mail commands live). */
  firstLine: string;
  /** Forwarded messages shared with the note, kept apart from the body. */
  forwarded: ForwardedMessage[];
  tags: string[];
  /** `@alice@corp.test` mentions and known people on To/Cc. */
  mentionedEmails: string[];
  /** `low`: unsure which text is the author's; the mail is held, not published (fail closed). */
  confidence: 'high' | 'low';
  /** Why confidence is low; null when it is high. */
  confidenceReason: BodyDoubt | null;
  /** Length of the text before trimming, and how much was trimmed as quotes/signatures. */
  sourceChars: number;
  trimmedChars: number;
  /**
   * What was cut (quoted history as `> ` lines, signature, footers, disclaimers), in the mail's
   * order, redacted like the body; null when nothing was. It holds other people's words: show
   * it no wider than the mail's own audience (README "API and web UI").
   */
  trimmedText: string | null;
}

const MAX_TITLE = 255;
const MAX_BODY = 100_000;

/**
 * What a mail shows when it is published: the subject without Re:/Fwd:/list tags and the
 * author's new text (no quoted history, signature or footer; forwards apart), redacted, as
 * text and as safe HTML. Pure, so IT can re-run it on stored mail after a rule change and
 * compare (`blend inbound reprocess --dry-run`).
 */
export function renderMailContent(
  mail: MailInput,
  opts: { redactions: readonly Redaction[]; disclaimerPatterns?: RegExp[]; knownAddresses?: ReadonlySet<string> },
): RenderedContent {
  const c = convertMail(mail, {
    ...(opts.disclaimerPatterns ? { disclaimerPatterns: opts.disclaimerPatterns } : {}),
    ...(opts.knownAddresses ? { knownAddresses: opts.knownAddresses } : {}),
  });
  const truncated = truncate(c.bodyText, MAX_BODY);
  const redacted = redact(truncated, opts.redactions);
  // Redaction and truncation work on text: when either changed it, the HTML is rebuilt
  // from the text so nothing redacted survives in the HTML rendering.
  const bodyHtml = redacted.count === 0 && truncated === c.bodyText ? c.bodyHtml : textToSafeHtml(redacted.text);
  return {
    title: redact(truncate(normaliseSubject(mail.subject), MAX_TITLE), opts.redactions).text,
    bodyText: redacted.text,
    bodyHtml,
    firstLine: c.bodyText.split('\n').find((l) => l.trim()) ?? '',
    forwarded: c.forwarded.map((f) => ({ ...f, text: redact(f.text, opts.redactions).text })),
    tags: c.tags,
    mentionedEmails: c.mentions.emails,
    confidence: c.confidence,
    confidenceReason: c.confidenceReason,
    sourceChars: c.bodyText.length + c.trimmedChars,
    trimmedChars: c.trimmedChars,
    trimmedText: renderTrimmed(c.fullText, c.bodyText, opts.redactions),
  };
}

function renderTrimmed(full: string, kept: string, redactions: readonly Redaction[]): string | null {
  const cut = trimmedText(full, kept);
  return cut === null ? null : redact(truncate(cut, MAX_BODY), redactions).text;
}
