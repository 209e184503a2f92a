import {
  HEADER_FROM,
  HEADER_SENT,
  MARKER_LINE_MAX,
  UNDERSCORES,
  isAttribution,
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
import { dropQuoteAboveSignoff, isBlank, isQuoted, paragraphEnd, paragraphText, trimTrailing } from './trailing-trim';

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
   * Keep a leading `>` block with only the author's text under it (otherwise a bottom-posted
   * reply's quote is dropped). For text already trimmed with the whole mail in view, where the
   * quoted history that made it an interleaved reply is gone.
   * @defaultValue false
   */
  keepLeadingQuote?: boolean;
}

/** Which of the input lines are the author's. */
export interface VisibleLines {
  /** First kept line. */
  start: number;
  /** One past the last kept line. */
  end: number;
  /** Lines inside [start, end) that are dropped anyway: attributions above inline quotes. */
  dropped: ReadonlySet<number>;
  /** The kept lines include `>`-quoted lines the author answers inline. */
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
 *    author's text) is dropped on its own and the scan goes on.
 * 2. Unless `quotesOnly`, the signature is cut at a `-- ` line (RFC 3676 section 4.3),
 *    and paragraphs matching an operator disclaimer pattern are cut.
 * 3. From the end ({@link trimTrailing}), repeatedly: blank lines, a trailing `>`
 *    block with the attribution above it, and unless `quotesOnly` mobile footers,
 *    dividers, legal disclaimers, a contact block, a typed name, and the
 *    name/title/phone block under a sign-off (the sign-off stays).
 * 4. A bottom-posted reply's one leading `>` block is dropped (unless
 *    `keepLeadingQuote`), and so is an unanswered quote just above the sign-off.
 */
export function findVisibleLines(lines: readonly string[], opts: VisibleOptions = {}): VisibleLines {
  const dropped = new Set<number>();
  const extra = statelessPatterns(opts.disclaimerPatterns);
  const history = firstMarker(lines, dropped);
  let end = history;
  if (!opts.quotesOnly) end = Math.min(end, signatureDelimiter(lines, end), operatorDisclaimer(lines, end, extra));
  end = trimTrailing(lines, end, opts.quotesOnly ? null : extra, opts.authorWords ?? []);
  if (!opts.quotesOnly) dropQuoteAboveSignoff(lines, end, dropped);
  if (!opts.keepLeadingQuote) dropLeadingQuote(lines, end, history, dropped);
  let start = 0;
  while (start < end && (isBlank(lines[start]) || dropped.has(start))) start++;
  let inline = false;
  let confidence: 'high' | 'low' = 'high';
  for (let i = start; i < end; i++) {
    if (dropped.has(i)) continue;
    const line = (lines[i] ?? '').trim();
    if (line.startsWith('>')) inline = true;
    else if (looksLikeUnknownMarker(line)) confidence = 'low';
  }
  if (inline) dropQuotedAttributions(lines, start, end, dropped);
  return { start, end, dropped, inline, confidence };
}

/**
 * A bottom-posted reply: one `>` block (its attribution already dropped), then only the
 * author's text. The quote is history; the author's text below it is the reply. With another
 * `>` line anywhere below (up to `history`, where the quoted history starts) the reply is
 * interleaved and the quotes stay with their answers.
 */
function dropLeadingQuote(lines: readonly string[], end: number, history: number, dropped: Set<number>): void {
  let start = 0;
  while (start < end && (isBlank(lines[start]) || dropped.has(start))) start++;
  // "Jane wrote:" alone: the quote under it is the evidence that it is an attribution.
  const weak = !isQuoted(lines[start]) && isWeakAttribution((lines[start] ?? '').trim()) && isQuoted(lines[start + 1]);
  if (!isQuoted(lines[start]) && !weak) return;
  let q = weak ? start + 1 : start;
  while (q < end && (isQuoted(lines[q]) || isBlank(lines[q]) || dropped.has(q))) q++;
  if (q >= end) return;
  for (let i = q; i < history; i++) if (isQuoted(lines[i])) return;
  for (let i = start; i < q; i++) dropped.add(i);
}

/** The text of a `>`-quoted line without its quote marks, or null for an unquoted line. */
function quotedText(line: string | undefined): string | null {
  const t = (line ?? '').trim();
  return t.startsWith('>') ? t.replace(/^(?:>\s?)+/, '').trim() : null;
}

/**
 * Apple Mail puts the attribution inside the quote ("> On 15 Jan, Katrin wrote:" and a
 * quoted blank line): in an inline reply it belongs to the history, not to the quote the
 * author answers, so it is dropped with the quoted blank lines under it.
 */
function dropQuotedAttributions(lines: readonly string[], start: number, end: number, dropped: Set<number>): void {
  for (let i = start; i < end; i++) {
    const q = quotedText(lines[i]);
    if (!q || q.length > MARKER_LINE_MAX) continue;
    if (isSeparator(q)) {
      // "> -----Original Message-----": the older history inside the quote, never answered.
      for (let j = i; j < end && quotedText(lines[j]) !== null; j++) dropped.add(j);
      continue;
    }
    if (!isAttribution(q)) continue;
    dropped.add(i);
    for (let j = i + 1; j < end && quotedText(lines[j]) === ''; j++) dropped.add(j);
  }
}

function firstMarker(lines: readonly string[], dropped: Set<number>): number {
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.length > MARKER_LINE_MAX || line.startsWith('>')) continue;
    if (isSeparator(line)) return i;
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
    }
  }
  return lines.length;
}

/** 1 or 2 when an attribution starts at `i` (clients wrap long ones), else 0. */
function attributionSpan(lines: readonly string[], i: number): number {
  const line = (lines[i] ?? '').trim();
  if (isAttribution(line)) return 1;
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
