import { squashWhitespace, stripControlChars } from './clean-text';

/**
 * What extraction cut from a mail, as plain text in the mail's order: the lines of the full
 * rendering (`full`, quotes as `> ` lines) that are not in the kept text (`kept`), with a blank
 * line between runs that were apart. Null when nothing but blank lines was cut.
 *
 * Worked out from the two texts alone, not from the extraction rules, so it stays right
 * whatever those rules decide: each kept line is looked for at or after the previous match
 * (whitespace-insensitive); the full lines skipped over, and those after the last match, were
 * cut. A kept line that the full rendering spells differently (HTML rendered twice) matches
 * nothing and is passed over.
 */
export function trimmedText(full: string, kept: string): string | null {
  const lines = stripControlChars(full).split('\n');
  const keys = lines.map(squashWhitespace);
  // Where each line occurs, so a kept line is found without rescanning a 2 MB body each time.
  const where = new Map<string, number[]>();
  keys.forEach((k, i) => (where.get(k) ?? where.set(k, []).get(k)!).push(i));
  const cut = new Array<boolean>(lines.length).fill(true);
  let at = 0;
  for (const line of stripControlChars(kept).split('\n')) {
    const key = squashWhitespace(line);
    if (key === '') continue;
    const found = firstAtOrAfter(where.get(key) ?? [], at);
    if (found < 0) continue;
    cut[found] = false;
    at = found + 1;
  }
  const out: string[] = [];
  let gap = false;
  lines.forEach((line, i) => {
    if (!cut[i] || keys[i] === '') {
      gap = out.length > 0;
      return;
    }
    if (gap) out.push('');
    gap = false;
    out.push(line.trimEnd());
  });
  const text = out.join('\n').trim();
  return text === '' ? null : text;
}

/** The first of the ascending `list` that is >= `min`, or -1. */
function firstAtOrAfter(list: readonly number[], min: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((list[mid] ?? 0) < min) lo = mid + 1;
    else hi = mid;
  }
  return list[lo] ?? -1;
}
