/**
 * The end of the author's text, read from the bottom up: blank lines, a trailing `>` block with
 * its attribution, mobile footers, dividers, legal disclaimers, contact blocks, a typed name, and
 * the name/title/phone block under a sign-off (the sign-off itself is the author's and stays).
 * Every scan is bounded, so the repeated trimming stays linear.
 */
import {
  isDashSignoff,
  isDeviceFooter,
  isImageFileLine,
  isLegalNotice,
  isMarkupDebris,
  isNotesSectionTitle,
  isScanNotice,
  isSubscriptionNotice,
} from './end-boilerplate';
import {
  isClosing,
  isContactLine,
  isDisclaimer,
  isDividerLine,
  isFooter,
  isImagePlaceholder,
  isWeakAttribution,
} from './quote-markers';
import { signatureBlockStart, startsWithAuthorColumn } from './signature-block';
import { authorNameWords, isAuthorName, isLoneName, isSenderNameLine, isSignOffShaped, isTypedName } from './typed-name';

/** A signature block after a closing formula has at most this many lines. */
const SIGNATURE_MAX_LINES = 14;
/** A closing formula is looked for this many lines above the end. */
const CLOSING_WINDOW = 16;
/** Characters of a paragraph that disclaimer patterns see. */
const PARAGRAPH_TEXT_MAX = 4_000;
/** A trailing disclaimer or contact paragraph has at most this many lines. */
const PARAGRAPH_MAX_LINES = 40;

/** Drops blank lines, footers, trailing quotes, disclaimers and signature blocks from the end. */
export function trimTrailing(lines: readonly string[], end: number, extra: readonly RegExp[] | null, senderWords: readonly string[]): number {
  const authorWords = [...senderWords, ...delimitedSignatureWords(lines, end)];
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
      if (isEndBoilerplate(last) || (isDividerLine(last) && isBlank(lines[e - 2]))) e--;
      else if (isTypedNameLine(lines, e - 1, authorWords)) e--;
      else e = trimSignatureOrDisclaimer(lines, e, extra, authorWords);
    }
    if (e === before) return e;
  }
}

function trimSignatureOrDisclaimer(lines: readonly string[], e: number, extra: readonly RegExp[], authorWords: readonly string[]): number {
  // -1 for a paragraph too long to be a disclaimer or contact block; bounding the scan
  // keeps the repeated trimming linear.
  const paraStart = paragraphStart(lines, e);
  if (paraStart > 0) {
    const text = paragraphText(lines, paraStart, e);
    if (isDisclaimer(text, extra) || isLegalNotice(text) || isScanNotice(text) || isSubscriptionNotice(text)) return paraStart;
  }
  const closing = closingStart(lines, e);
  // The sign-off is the author's ("Best regards,", "此致\n敬礼"); the name block under it is not.
  if (closing !== null) return closingEnd(lines, closing, e);
  const named = authorBlockStart(lines, e, authorWords);
  if (named !== null) return named;
  return signatureBlockStart(lines, e, authorWords) ?? e;
}

/** A last line that carries nothing of the author's: device footers, image placeholders and file names, markup debris, a Notes memo title. */
function isEndBoilerplate(line: string): boolean {
  return (
    isFooter(line) || isDeviceFooter(line) || isImagePlaceholder(line) || isImageFileLine(line) || isMarkupDebris(line) || isNotesSectionTitle(line)
  );
}

/**
 * The last line `lines[i]` is the author's typed name: a dashed or the sender's own name
 * ("-Martin", "Jane"), a "---handle" mark, the sender's name as the first column of a laid-out
 * line ("Jane Doe      Tel. …"), or a lone capitalised first name as its own paragraph. With no
 * text above, only the sender's own name counts: the mail has no new text.
 */
function isTypedNameLine(lines: readonly string[], i: number, authorWords: readonly string[]): boolean {
  const line = (lines[i] ?? '').trim();
  // Every shape below is short.
  if (line.length > 100) return false;
  // "Test." from Test User is a sentence; a bare name is a signature.
  if (!hasTextAbove(lines, i)) return !/\p{P}$/u.test(line) && isAuthorName(line, authorWords);
  if (afterListItem(lines, i)) return false;
  if (isTypedName(line, authorWords) || isDashSignoff(line) || startsWithAuthorColumn(line, authorWords) || isSenderNameLine(line, authorWords)) return true;
  // "Mahalo," / "Á": a name or an initial under a comma sign-off in any wording; "Cordialement," /
  // "[Logo]": the text part's placeholder for a signature picture.
  if ((isLoneName(line) || /^\p{Lu}\.?$/u.test(line) || /^\[[^[\]]{1,60}\]$/.test(line)) && underSignOff(lines, i)) return true;
  // "Please ask\n\nPeter" goes on a sentence; a name stands under finished text.
  return isBlank(lines[i - 1]) && isLoneName(line) && endsSentence(lines, i);
}

/** The last non-blank line above `index` is a sign-off (a known one, or a comma-ended short line) with text above it. */
function underSignOff(lines: readonly string[], index: number): boolean {
  for (let i = index - 1; i >= 0 && index - i <= 3; i--) {
    const line = (lines[i] ?? '').trim();
    if (line !== '') return (isSignOffShaped(line) || isClosing(line)) && hasTextAbove(lines, i);
  }
  return false;
}

/** The last non-blank line above `index` ends a sentence or is a sign-off. */
function endsSentence(lines: readonly string[], index: number): boolean {
  for (let i = index - 1; i >= 0; i--) {
    const line = (lines[i] ?? '').trim();
    if (line !== '') return /[.!?…。！？)]$/.test(line) || isClosing(line);
  }
  return false;
}

/**
 * Words of the `-- ` signature cut off at `end` (RFC 3676 section 4.3): a name typed above
 * the delimiter that also stands in the signature ("Christoph" over "-- \nChristoph  Tel. …")
 * is the author's.
 */
function delimitedSignatureWords(lines: readonly string[], end: number): string[] {
  const delimiter = lines[end];
  if (delimiter !== '-- ' && delimiter !== '--') return [];
  // Split at every non-letter: "<darthvader@otrs.org>" gives "darthvader".
  const text = lines.slice(end + 1, end + 4).join(' ').slice(0, 300);
  return authorNameWords(text.replace(/[^\p{L}\p{M}]+/gu, ' '), null);
}

/**
 * "> unanswered rest of the quote", then the author's "Thanks,": the quote is history, the
 * sign-off is the author's. Drops the `>` block (and a weak attribution above it) between
 * the author's text and a sign-off that ends the kept text.
 */
export function dropQuoteAboveSignoff(lines: readonly string[], end: number, dropped: Set<number>): void {
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

/** A footnote under the text: "[1] http://…", "[*] The problem here is …". */
const FOOTNOTE = /^\[(?:\d{1,2}|\*{1,3}|[a-z])\]\s/;

/**
 * "… See also [1].", "- Jiang", "[1] http://…": the footnotes are the author's text, the typed
 * name between them and the text is the signature. Drops that name (at most one line) when
 * only footnote paragraphs follow it down to `end`.
 */
export function dropNameAboveFootnotes(lines: readonly string[], end: number, dropped: Set<number>, authorWords: readonly string[]): void {
  let k = end;
  let footnotes = 0;
  for (let paras = 0; paras < 8; paras++) {
    while (k > 0 && isBlank(lines[k - 1])) k--;
    const from = paragraphStart(lines, k);
    if (from < 0 || from === k || !FOOTNOTE.test((lines[from] ?? '').trim())) break;
    footnotes++;
    k = from;
  }
  if (footnotes === 0) return;
  while (k > 0 && isBlank(lines[k - 1])) k--;
  const name = k - 1;
  if (name > 0 && isBlank(lines[name - 1]) && isTypedNameLine(lines, name, authorWords)) dropped.add(name);
}

function hasTextAbove(lines: readonly string[], index: number): boolean {
  for (let i = index - 1; i >= 0; i--) if (!isBlank(lines[i])) return true;
  return false;
}

/** The line above `index` (blank lines skipped) is a bulleted item: "-Budget" there is a list, not a name. */
function afterListItem(lines: readonly string[], index: number): boolean {
  for (let i = index - 1; i >= 0; i--) {
    const line = (lines[i] ?? '').trim();
    if (line !== '') return /^[-–—~*•+]/.test(line);
  }
  return false;
}

/** One past the sign-off starting at `k`: a closing may take two lines ("此致" / "敬礼"). */
function closingEnd(lines: readonly string[], k: number, e: number): number {
  let j = k + 1;
  while (j < e && isClosing((lines[j] ?? '').trim())) j++;
  return j;
}

/**
 * A signature block with no sign-off above it: the sender's name ("Jane Doe") or a dashed name
 * ("--Geoff Maciolek"), then title, company and contact lines, at the end of the text.
 */
function authorBlockStart(lines: readonly string[], e: number, authorWords: readonly string[]): number | null {
  for (let k = Math.max(0, e - SIGNATURE_MAX_LINES); k < e - 1; k++) {
    const line = (lines[k] ?? '').trim();
    if (!hasTextAbove(lines, k)) continue;
    if ((isAuthorName(line, authorWords) || isSenderNameLine(line, authorWords)) && isSignatureBlock(lines, k, e)) return k;
    if (/^(?:-{1,2}|~)\S/.test(line) && isTypedName(line) && !afterListItem(lines, k) && isSignatureBlock(lines, k + 1, e)) return k;
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
  // A rule between the sign-off and the name block goes with the block.
  if (body.length > 1 && isDividerLine(body[0] ?? '')) body.shift();
  if (body.length === 0 || body.length > SIGNATURE_MAX_LINES) return false;
  // "此致" / "敬礼", "Thanks," / "Best,": sign-off words only, no name block to drop.
  if (body.every((l) => isClosing(l))) return false;
  const first = body[0] ?? '';
  // "Thank you!" over "Best regards," / "Jane": the block starts under the last sign-off.
  if (isClosing(first)) return false;
  if (!/^\p{L}/u.test(first) || first.split(/\s+/).length > 5 || /[.?!:;]$/.test(first) || /^P\.?S\b/i.test(first)) return false;
  return body.every((l) => {
    if (l.startsWith('>') || l.length > 80 || /\?$/.test(l)) return false;
    if (isContactLine(l)) return true;
    const words = l.split(/\s+/).length;
    return words <= 10 && !(/[.!]$/.test(l) && words > 4);
  });
}

/** Start of the paragraph ending at `e`, or -1 when it is longer than {@link PARAGRAPH_MAX_LINES}. */
function paragraphStart(lines: readonly string[], e: number): number {
  let s = e;
  while (s > 0 && !isBlank(lines[s - 1])) {
    if (e - --s > PARAGRAPH_MAX_LINES) return -1;
  }
  return s;
}

export function paragraphEnd(lines: readonly string[], s: number, limit: number): number {
  let e = s;
  while (e < limit && !isBlank(lines[e])) e++;
  return e;
}

/** The paragraph as one line, capped: disclaimer patterns never need more. */
export function paragraphText(lines: readonly string[], from: number, to: number): string {
  let out = '';
  for (let i = from; i < to && out.length < PARAGRAPH_TEXT_MAX; i++) out += `${out ? ' ' : ''}${(lines[i] ?? '').trim()}`;
  return out;
}

export function isBlank(line: string | undefined): boolean {
  return line === undefined || line.trim() === '';
}

export function isQuoted(line: string | undefined): boolean {
  return line !== undefined && line.trimStart().startsWith('>');
}
