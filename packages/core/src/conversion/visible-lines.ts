import {
  HEADER_FROM,
  HEADER_SENT,
  MARKER_LINE_MAX,
  UNDERSCORES,
  isAttribution,
  isClosing,
  isContactLine,
  isDisclaimer,
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
import { isAuthorName, isTypedName } from './typed-name';

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

/** A signature block after a closing formula has at most this many lines. */
const SIGNATURE_MAX_LINES = 8;
/** A closing formula is looked for this many lines above the end. */
const CLOSING_WINDOW = 12;
/** Characters of a paragraph that disclaimer patterns see. */
const PARAGRAPH_TEXT_MAX = 4_000;
/** A trailing disclaimer or contact paragraph has at most this many lines. */
const PARAGRAPH_MAX_LINES = 40;

/**
 * Finds the author's own lines in a plain-text body (split on `\n`, quoted
 * lines starting with `>`). Pure and linear in the input size.
 *
 * 1. Everything from the first quote-history marker is cut: an attribution
 *    (also wrapped over two lines), a separator, or an Outlook header block.
 *    An attribution whose quote the author answers inline (quote, then the
 *    author's text) is dropped on its own and the scan goes on.
 * 2. Unless `quotesOnly`, the signature is cut at a `-- ` line (RFC 3676 section 4.3),
 *    and paragraphs matching an operator disclaimer pattern are cut.
 * 3. From the end, repeatedly: blank lines, a trailing `>` block with the
 *    attribution above it, and unless `quotesOnly` mobile footers, legal
 *    disclaimers, a contact block, and a sign-off followed by a short
 *    name/title/phone block.
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
  if (!isQuoted(lines[start])) return;
  let q = start;
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
    if (!q || q.length > MARKER_LINE_MAX || !isAttribution(q)) continue;
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
    if (HEADER_FROM.test(line) && hasWithin(lines, i + 1, 4, HEADER_SENT)) return i;
    if (startsHeaderBlock(lines, i)) return i;
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

/** Drops blank lines, footers, trailing quotes, disclaimers and signature blocks from the end. */
function trimTrailing(lines: readonly string[], end: number, extra: readonly RegExp[] | null, authorWords: readonly string[]): number {
  let e = end;
  for (;;) {
    const before = e;
    while (e > 0 && isBlank(lines[e - 1])) e--;
    const last = (lines[e - 1] ?? '').trim();
    if (e === 0) return 0;
    if (last.startsWith('>')) {
      // The trailing quoted block, including blank lines between quoted lines.
      while (e > 0 && (isQuoted(lines[e - 1]) || isBlank(lines[e - 1]))) e--;
      while (e > 0 && isBlank(lines[e - 1])) e--;
      const above = (lines[e - 1] ?? '').trim();
      if (e > 0 && isWeakAttribution(above)) e--;
    } else if (extra) {
      // A divider under a blank line ends nothing of the author's; right under a line it may be
      // a form's "Sign here" rule, which stays.
      if (isFooter(last) || (isDividerLine(last) && isBlank(lines[e - 2]))) e--;
      else if (isTypedName(last, authorWords) && hasTextAbove(lines, e - 1)) e--;
      else e = trimSignatureOrDisclaimer(lines, e, extra, authorWords);
    }
    if (e === before) return e;
  }
}

function trimSignatureOrDisclaimer(lines: readonly string[], e: number, extra: readonly RegExp[], authorWords: readonly string[]): number {
  // -1 for a paragraph too long to be a disclaimer or contact block; bounding the scan
  // keeps the repeated trimming linear.
  const paraStart = paragraphStart(lines, e);
  if (paraStart > 0 && isDisclaimer(paragraphText(lines, paraStart, e), extra)) return paraStart;
  const closing = closingStart(lines, e);
  // The sign-off is the author's ("Best regards,", "此致\n敬礼"); the name block under it is not.
  if (closing !== null) return closingEnd(lines, closing, e);
  const named = authorBlockStart(lines, e, authorWords);
  if (named !== null) return named;
  if (paraStart > 0 && isContactBlock(lines, paraStart, e)) return paraStart;
  return e;
}

/**
 * "> unanswered rest of the quote", then the author's "Thanks,": the quote is history, the
 * sign-off is the author's. Drops the `>` block (and a weak attribution above it) between
 * the author's text and a sign-off that ends the kept text.
 */
function dropQuoteAboveSignoff(lines: readonly string[], end: number, dropped: Set<number>): void {
  let k = end;
  while (k > 0 && isBlank(lines[k - 1])) k--;
  let closing = k;
  while (closing > 0 && k - closing < 2 && isClosing((lines[closing - 1] ?? '').trim())) closing--;
  if (closing === k) return;
  let q = closing;
  while (q > 0 && isBlank(lines[q - 1])) q--;
  if (!isQuoted(lines[q - 1])) return;
  let from = q;
  while (from > 0 && (isQuoted(lines[from - 1]) || isBlank(lines[from - 1]))) from--;
  if (from > 0 && isWeakAttribution((lines[from - 1] ?? '').trim())) from--;
  // The blank line above the quote stays, to part the author's text from the sign-off.
  while (from < q && isBlank(lines[from])) from++;
  for (let i = from; i < closing; i++) dropped.add(i);
}

function hasTextAbove(lines: readonly string[], index: number): boolean {
  for (let i = index - 1; i >= 0; i--) if (!isBlank(lines[i])) return true;
  return false;
}

/** One past the sign-off starting at `k`: a closing may take two lines ("此致" / "敬礼"). */
function closingEnd(lines: readonly string[], k: number, e: number): number {
  let j = k + 1;
  while (j < e && isClosing((lines[j] ?? '').trim())) j++;
  return j;
}

/**
 * A signature block with no sign-off above it: the sender's name ("Jane Doe"), then title,
 * company and contact lines, at the end of the text.
 */
function authorBlockStart(lines: readonly string[], e: number, authorWords: readonly string[]): number | null {
  if (authorWords.length === 0) return null;
  for (let k = Math.max(0, e - SIGNATURE_MAX_LINES); k < e - 1; k++) {
    if (isAuthorName((lines[k] ?? '').trim(), authorWords) && isSignatureBlock(lines, k, e) && hasTextAbove(lines, k)) return k;
  }
  return null;
}

/** The earliest sign-off near the end that is followed only by a short name/title/phone block. */
function closingStart(lines: readonly string[], e: number): number | null {
  for (let k = Math.max(0, e - CLOSING_WINDOW); k < e - 1; k++) {
    if (isClosing((lines[k] ?? '').trim()) && isSignatureBlock(lines, k + 1, e)) return k;
  }
  return null;
}

/**
 * A name, title, company and contact lines: few short lines, none a question or a
 * sentence, the first one a name-like line. "Thanks,\nLet me know if anything is
 * unclear." is not a signature block.
 */
function isSignatureBlock(lines: readonly string[], from: number, to: number): boolean {
  const body = lines.slice(from, to).map((l) => l.trim()).filter((l) => l !== '');
  if (body.length === 0 || body.length > SIGNATURE_MAX_LINES) return false;
  // "此致" / "敬礼", "Thanks," / "Best,": sign-off words only, no name block to drop.
  if (body.every((l) => isClosing(l))) return false;
  const first = body[0] ?? '';
  if (!/^\p{L}/u.test(first) || first.split(/\s+/).length > 5 || /[.?!:;]$/.test(first) || /^P\.?S\b/i.test(first)) return false;
  return body.every((l) => {
    if (l.startsWith('>') || l.length > 80 || /\?$/.test(l)) return false;
    if (isContactLine(l)) return true;
    const words = l.split(/\s+/).length;
    return words <= 10 && !(/[.!]$/.test(l) && words > 4);
  });
}

/** A trailing paragraph of contact lines: at least two, or one under a name. */
function isContactBlock(lines: readonly string[], from: number, to: number): boolean {
  if (to - from > SIGNATURE_MAX_LINES) return false;
  const body = lines.slice(from, to).map((l) => l.trim());
  if (body.some((l) => l.length > 100 || l.startsWith('>'))) return false;
  const contacts = body.filter(isContactLine).length;
  return contacts >= 2 || (contacts === 1 && body.length >= 2 && /^\p{Lu}\S*(?:\s\p{Lu}\S*){1,3}$/u.test(body[0] ?? ''));
}

/** Start of the paragraph ending at `e`, or -1 when it is longer than {@link PARAGRAPH_MAX_LINES}. */
function paragraphStart(lines: readonly string[], e: number): number {
  let s = e;
  while (s > 0 && !isBlank(lines[s - 1])) {
    if (e - --s > PARAGRAPH_MAX_LINES) return -1;
  }
  return s;
}

function paragraphEnd(lines: readonly string[], s: number, limit: number): number {
  let e = s;
  while (e < limit && !isBlank(lines[e])) e++;
  return e;
}

/** The paragraph as one line, capped: disclaimer patterns never need more. */
function paragraphText(lines: readonly string[], from: number, to: number): string {
  let out = '';
  for (let i = from; i < to && out.length < PARAGRAPH_TEXT_MAX; i++) out += `${out ? ' ' : ''}${(lines[i] ?? '').trim()}`;
  return out;
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

function isBlank(line: string | undefined): boolean {
  return line === undefined || line.trim() === '';
}

function isQuoted(line: string | undefined): boolean {
  return line !== undefined && line.trimStart().startsWith('>');
}
