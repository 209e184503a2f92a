/**
 * A reply header block in a language Blend has no labels for: Outlook and most clients write the
 * quoted message's sender, date, recipients and subject as "Label: value" lines, the sender's
 * line holding an address. Recognised by that layout, not by the words.
 */

/** "Label: value": one to three words (any script) before a colon, optionally bold ("*Od:*"). */
const LABEL_LINE = /^\*?\p{L}[\p{L}\p{M}.'-]{0,19}(?: [\p{L}\p{M}.'-]{1,20}){0,2}\s?[:：]\*?(?:\s|$)/u;
/** An address in the sender's line: "Name <a@b>", "a@b", "Name [mailto:a@b]". */
const ADDRESS = /[^\s<>[\]()@]+@[^\s<>[\]()@]+\.[^\s<>[\]()@]+/;
/** A time or a year: the date line of the block. */
const DATE_LIKE = /\b\d{1,2}[:.]\d{2}\b|\b(?:19|20)\d{2}\b/;
/** The block's lines follow one another closely (Outlook puts none, some a blank). */
const LOOKAHEAD = 5;

/**
 * True when a header block starts at `lines[i]`: a label line with an address, then within the
 * next {@link LOOKAHEAD} lines at least two more label lines, one of them with a date or time.
 */
export function startsHeaderBlock(lines: readonly string[], i: number): boolean {
  const first = (lines[i] ?? '').trim();
  if (first.length > 200 || !LABEL_LINE.test(first) || !ADDRESS.test(first)) return false;
  let labels = 0;
  let dated = false;
  for (let j = i + 1; j < Math.min(lines.length, i + 1 + LOOKAHEAD); j++) {
    const line = (lines[j] ?? '').trim();
    if (line === '') continue;
    if (!LABEL_LINE.test(line)) break;
    labels++;
    if (DATE_LIKE.test(line)) dated = true;
  }
  return labels >= 2 && dated;
}
