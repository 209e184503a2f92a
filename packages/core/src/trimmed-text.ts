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
  const find = lineFinder(keys);
  const cut = new Array<boolean>(lines.length).fill(true);
  let at = 0;
  for (const line of stripControlChars(kept).split('\n')) {
    const key = squashWhitespace(line);
    if (key === '') continue;
    const found = find(key, at);
    if (found < 0) continue;
    cut[found] = false;
    at = found + 1;
  }
  const out: string[] = [];
  let gap = false;
  for (let i = 0; i < lines.length; i++) {
    if (!cut[i] || keys[i] === '') {
      gap = out.length > 0;
      continue;
    }
    if (gap) out.push('');
    gap = false;
    out.push(lines[i]!.trimEnd());
  }
  const text = out.join('\n').trim();
  return text === '' ? null : text;
}

/**
 * The first index at or after `from` whose key is `key`, or -1. Looked for by reading on from
 * `from`: the kept lines are usually the full text's next lines. Once that has read as many
 * keys as there are twice over (kept lines the full text spells differently each read to its
 * end), an index of where each key occurs answers instead, so a 2 MB body is not rescanned.
 */
export function lineFinder(keys: readonly string[]): (key: string, from: number) => number {
  let budget = 2 * keys.length;
  let where: Map<string, number[]> | null = null;
  return (key, from) => {
    if (where === null) {
      let i = from;
      for (; i < keys.length && budget > 0; i++, budget--) if (keys[i] === key) return i;
      if (i >= keys.length) return -1;
      where = new Map();
      for (let k = 0; k < keys.length; k++) {
        const list = where.get(keys[k]!);
        if (list) list.push(k);
        else where.set(keys[k]!, [k]);
      }
    }
    return firstAtOrAfter(where.get(key) ?? [], from);
  };
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
