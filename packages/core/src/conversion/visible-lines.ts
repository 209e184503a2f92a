import {
  HEADER_FROM,
  HEADER_SENT,
  MARKER_LINE_MAX,
  UNDERSCORES,
  isAttribution,
  isDatedLeadIn,
  isDividerLine,
  isReplyAboveMarker,
  isReplyBelowMarker,
  isFooter,
  isSeparator,
  isWeakAttribution,
  startsLikeAttribution,
  looksLikeUnknownMarker,
  statelessPatterns,
} from './quote-markers';
import { startsHeaderBlock } from './header-block';
import { dropNameAboveFootnotes, dropQuoteAboveSignoff, isBlank, isQuoted, paragraphEnd, paragraphText, trimTrailing } from './trailing-trim';

/** Options of the visible-text trimmer. */
export interface VisibleOptions {
  /**
   * Operator-configured legal-footer patterns, added to the built-in ones. Each is
   * tested against every paragraph (its lines joined by spaces) and cuts from the
   * first paragraph it matches to the end. Operator input: they are trusted and
   * must not be catastrophic-backtracking patterns.
   * @defaultValue `[]`
   */
  disclaimerPatterns?: readonly RegExp[];
  /**
   * Only remove quoted and forwarded history; keep signatures, footers and
   * disclaimers.
   * @defaultValue false
   */
  quotesOnly?: boolean;
  /**
   * Words of the sender's name and address (`authorNameWords` in typed-name.ts): a last line that is only
   * the sender's typed name ("Martin", "Alex.") is dropped with the signature.
   * @defaultValue `[]` (only "-Name" and "~Name" are recognised)
   */
  authorWords?: readonly string[];
  /**
   * Keep `>` lines above and between the author's lines (otherwise they are dropped as quoted
   * text). For text already trimmed with the whole mail in view: an HTML body whose quotes the
   * DOM walk removed, where a `>` line left over is an indented block of the author's.
   * @defaultValue false
   */
  keepQuotes?: boolean;
}

/** Which of the input lines are the author's. */
export interface VisibleLines {
  /** First kept line. */
  start: number;
  /** One past the last kept line. */
  end: number;
  /** Lines inside [start, end) that are dropped anyway: quoted lines and their attributions. */
  dropped: ReadonlySet<number>;
  /** The author answers quoted lines inline: `>` lines between their own lines were dropped. */
  inline: boolean;
  /** `low` when something that looks like unrecognised quoted history is kept. */
  confidence: 'high' | 'low';
}


/**
 * Finds the author's own lines in a plain-text body (split on `\n`, quoted
 * lines starting with `>`). Pure and linear in the input size.
 *
 * 1. Everything from the first quote-history marker is cut: an attribution
 *    (also wrapped over two lines), a separator, a ticket system's "reply above
 *    this line", or a header block (Outlook's labels, or any language by layout).
 *    An attribution whose quote the author answers inline (quote, then the
 *    author's text) is dropped on its own and the scan goes on; so is a dated
 *    lead-in of any wording above a quote ("Excerpts from …'s message of <date>:").
 *    A quoted separator or header block under the author's text starts history.
 * 2. Unless `quotesOnly`, the signature is cut at a `-- ` line (RFC 3676 section 4.3),
 *    and paragraphs matching an operator disclaimer pattern are cut.
 * 3. From the end ({@link trimTrailing}), repeatedly: blank lines, a trailing `>`
 *    block with the attribution above it, and unless `quotesOnly` mobile footers,
 *    dividers, legal disclaimers, a contact block, a typed name, and the
 *    name/title/phone block under a sign-off (the sign-off stays).
 * 4. Unless `keepQuotes`, every `>` line left between the author's lines is dropped: an
 *    interleaved or bottom-posted reply shows only the author's own lines, in order (the
 *    quotes stay in the trimmed text). A short attribution ("Jane wrote:") above the leading
 *    quote goes with it, and so does an unanswered quote just above the sign-off.
 */
export function findVisibleLines(lines: readonly string[], opts: VisibleOptions = {}): VisibleLines {
  const dropped = new Set<number>();
  const extra = statelessPatterns(opts.disclaimerPatterns);
  const history = firstMarker(lines, dropped);
  let end = history;
  if (!opts.quotesOnly) end = Math.min(end, signatureDelimiter(lines, end), operatorDisclaimer(lines, end, extra));
  end = trimTrailing(lines, end, opts.quotesOnly ? null : extra, opts.authorWords ?? []);
  if (!opts.quotesOnly) dropQuoteAboveSignoff(lines, end, dropped);
  if (!opts.quotesOnly) dropNameAboveFootnotes(lines, end, dropped, opts.authorWords ?? []);
  const inline = opts.keepQuotes ? false : dropQuotes(lines, end, dropped);
  let start = 0;
  while (start < end && (isBlank(lines[start]) || dropped.has(start))) start++;
  let confidence: 'high' | 'low' = 'high';
  for (let i = start; i < end; i++) {
    if (!dropped.has(i) && looksLikeUnknownMarker((lines[i] ?? '').trim())) confidence = 'low';
  }
  return { start, end, dropped, inline, confidence };
}

/**
 * Drops every `>` line before `end`: what the author quotes is someone else's text, whether
 * they answer it below (bottom-posted) or between their lines (interleaved). "Jane wrote:"
 * alone above the leading quote goes too: the quote under it is the evidence that it is an
 * attribution. True when a dropped quote sat between lines of the author's (interleaved).
 */
function dropQuotes(lines: readonly string[], end: number, dropped: Set<number>): boolean {
  let start = 0;
  while (start < end && (isBlank(lines[start]) || dropped.has(start))) start++;
  if (!isQuoted(lines[start]) && isWeakAttribution((lines[start] ?? '').trim()) && isQuoted(lines[start + 1])) dropped.add(start);
  let authorAbove = false;
  let quoteBetween = false;
  let inline = false;
  for (let i = 0; i < end; i++) {
    if (isQuoted(lines[i]) || isElisionInQuote(lines, i)) {
      dropped.add(i);
      quoteBetween = authorAbove;
    } else if (!dropped.has(i) && !isBlank(lines[i])) {
      inline ||= quoteBetween;
      authorAbove = true;
    }
  }
  return inline;
}

/** A mark where the author cut part of the quote: "[...]", "[…]", "<snip>", "[snipped]". */
const ELISION = /^[[<(]?\s*(?:\.{3,}|…|snip(?:ped)?|schnipp?)\s*[\]>)]?$/i;

/** An elision mark next to a `>` line: it stands for quoted text, so it goes with the quote. */
function isElisionInQuote(lines: readonly string[], i: number): boolean {
  if (!ELISION.test((lines[i] ?? '').trim())) return false;
  let above = i - 1;
  while (above >= 0 && isBlank(lines[above])) above--;
  let below = i + 1;
  while (below < lines.length && isBlank(lines[below])) below++;
  return isQuoted(lines[above]) || isQuoted(lines[below]);
}

/** The text of a `>`-quoted line without its quote marks, or null for an unquoted line. */
function quotedText(line: string | undefined): string | null {
  const t = (line ?? '').trim();
  return t.startsWith('>') ? t.replace(/^(?:>\s?)+/, '').trim() : null;
}

/**
 * A quote that opens older history rather than text the author answers: a separator
 * ("> -----Original Message-----", Outlook's re-quoting) or a From/Sent header block.
 */
function isQuotedHistoryStart(lines: readonly string[], i: number): boolean {
  const q = quotedText(lines[i]);
  if (!q || q.length > MARKER_LINE_MAX) return false;
  if (isSeparator(q)) return true;
  if (!HEADER_FROM.test(q)) return false;
  for (let j = i + 1; j < Math.min(lines.length, i + 5); j++) if (HEADER_SENT.test(quotedText(lines[j]) ?? '')) return true;
  return false;
}

function firstMarker(lines: readonly string[], dropped: Set<number>): number {
  let authorAbove = false;
  const footers: { at?: number[] } = {};
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '') continue;
    if (line.startsWith('>')) {
      // Under the author's text, quoted older history is where their reply ends: lines below
      // it are that history's own, re-wrapped by the client (Outlook), not answers.
      if (authorAbove && isQuotedHistoryStart(lines, i)) return i;
      continue;
    }
    if (line.length > MARKER_LINE_MAX) {
      authorAbove = true;
      continue;
    }
    if (isSeparator(line) || startsNotificationHistory(lines, i, footers)) return i;
    if (isReplyAboveMarker(line)) {
      const below = replyBelowMarker(lines, i + 1);
      if (below < 0) return i;
      // The notification between the two markers is the system's; the text under is the author's.
      for (let j = i; j <= below; j++) dropped.add(j);
      i = below;
      continue;
    }
    const span = attributionSpan(lines, i);
    if (span > 0) {
      // An attribution above a quote the author answers inline: keep the exchange.
      if (!answeredInline(lines, i + span)) return i;
      for (let j = i; j < i + span; j++) dropped.add(j);
      i += span - 1;
      continue;
    }
    if (UNDERSCORES.test(line) && HEADER_FROM.test(nextNonBlank(lines, i + 1) ?? '')) return i;
    if ((HEADER_FROM.test(line) && hasWithin(lines, i + 1, 4, HEADER_SENT)) || startsHeaderBlock(lines, i)) {
      // "From: …" / "Date: …" over a `>` quote the author answers: an attribution in header form.
      const below = headerBlockEnd(lines, i);
      if (!answeredInline(lines, below)) return i;
      for (let j = i; j < below; j++) dropped.add(j);
      i = below - 1;
      continue;
    }
    authorAbove = true;
  }
  return lines.length;
}

/** A heading in emphasis ("*Previous Replies*", "**Earlier posts**"): short, not a sentence. */
const EMPHASIS_CAPTION = /^(\*{1,2}|_{1,2})(?=[^\s*_])[^*_.!?:]{1,40}(?<=[^\s*_])\1$/u;
/** How far below the caption the notification's closing divider and link are looked for. */
const NOTIFICATION_SCAN_LINES = 200;

/**
 * A forum or tracker notification the author replied above, pasted unquoted (Discourse's
 * "---" / "*Previous Replies*" … "---" / "[Visit the Topic](…) to respond"): a divider, a
 * caption in emphasis under it, and further down another divider with a link right under it.
 * Recognised by that layout, whatever the language of the caption. `footers` caches the
 * dividers with a link under them, found once per text, so the check stays linear.
 */
function startsNotificationHistory(lines: readonly string[], i: number, footers: { at?: number[] }): boolean {
  if (!isDividerLine((lines[i] ?? '').trim())) return false;
  let c = i + 1;
  while (c < lines.length && c - i <= 2 && isBlank(lines[c])) c++;
  if (!EMPHASIS_CAPTION.test((lines[c] ?? '').trim())) return false;
  const at = (footers.at ??= linkedDividers(lines));
  // The first of them below the caption (binary search: `at` is ascending).
  let lo = 0;
  let hi = at.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((at[mid] ?? 0) <= c) lo = mid + 1;
    else hi = mid;
  }
  const next = at[lo];
  return next !== undefined && next - c <= NOTIFICATION_SCAN_LINES;
}

/** Divider lines with a link on one of the two lines under them, in order. */
function linkedDividers(lines: readonly string[]): number[] {
  const out: number[] = [];
  for (let j = 0; j < lines.length; j++) {
    if (!isDividerLine((lines[j] ?? '').trim())) continue;
    if (/https?:\/\//.test(lines[j + 1] ?? '') || /https?:\/\//.test(lines[j + 2] ?? '')) out.push(j);
  }
  return out;
}

/** 1 or 2 when an attribution starts at `i` (clients wrap long ones), else 0. */
function attributionSpan(lines: readonly string[], i: number): number {
  const line = (lines[i] ?? '').trim();
  if (isAttribution(line)) return 1;
  // A lead-in of any wording ("Twas brillig at <time> <date> when <address> did gyre and
  // gimble:") is an attribution by its shape: a date stamp, a closing colon, a quote under it.
  if (isDatedLeadIn(line) && isQuoted(nextNonBlank(lines, i + 1))) return 1;
  const next = (lines[i + 1] ?? '').trim();
  // A wrapped attribution's first half never ends a sentence; and when the next line is an
  // attribution on its own, that line is where the history starts.
  if (next === '' || next.startsWith('>') || /[.!?。！？]$/.test(line)) return 0;
  if (isAttribution(next) && !startsLikeAttribution(line)) return 0;
  const joined = `${line} ${next}`;
  return joined.length <= MARKER_LINE_MAX && isAttribution(joined) ? 2 : 0;
}

/**
 * True when the text below `from` starts with a `>` quote that is followed by
 * the author's own text before any other marker: an interleaved reply. It stops
 * at the first unquoted line, so the scans over all attributions stay linear.
 */
function answeredInline(lines: readonly string[], from: number): boolean {
  let seenQuote = false;
  for (let j = from; j < lines.length; j++) {
    const line = (lines[j] ?? '').trim();
    if (line === '') continue;
    if (line.startsWith('>')) {
      seenQuote = true;
      continue;
    }
    if (!seenQuote) return false; // history without `>`: Outlook, Notes, Yahoo
    return !(isSignatureDelimiter(lines[j] ?? '') || isFooter(line) || isSeparator(line) || isAttribution(line));
  }
  return false;
}

/** One past a block of "Label: value" lines starting at `i` (at most 8). */
function headerBlockEnd(lines: readonly string[], i: number): number {
  let j = i;
  while (j < lines.length && j - i < 8 && /^\*?\p{L}[^:：]{0,30}[:：]/u.test((lines[j] ?? '').trim())) j++;
  return j;
}

function replyBelowMarker(lines: readonly string[], from: number): number {
  for (let j = from; j < lines.length; j++) if (isReplyBelowMarker((lines[j] ?? '').trim())) return j;
  return -1;
}

function isSignatureDelimiter(line: string): boolean {
  return line === '-- ' || line === '--';
}

function signatureDelimiter(lines: readonly string[], end: number): number {
  for (let i = 0; i < end; i++) if (isSignatureDelimiter(lines[i] ?? '')) return i;
  return end;
}

/** The start of the first paragraph an operator pattern matches, else `end`. */
function operatorDisclaimer(lines: readonly string[], end: number, extra: readonly RegExp[]): number {
  if (extra.length === 0) return end;
  for (let i = 0; i < end; ) {
    if (isBlank(lines[i])) {
      i++;
      continue;
    }
    const paraEnd = paragraphEnd(lines, i, end);
    if (extra.some((re) => re.test(paragraphText(lines, i, paraEnd)))) return i;
    i = paraEnd;
  }
  return end;
}

function nextNonBlank(lines: readonly string[], from: number): string | undefined {
  for (let i = from; i < lines.length; i++) if (!isBlank(lines[i])) return (lines[i] ?? '').trim();
  return undefined;
}

function hasWithin(lines: readonly string[], from: number, count: number, re: RegExp): boolean {
  for (let i = from; i < Math.min(lines.length, from + count); i++) {
    if (re.test((lines[i] ?? '').trim())) return true;
  }
  return false;
}
