/**
 * C0 controls except TAB (U+0009) and LF (U+000A), DEL, and the C1 controls.
 * NUL and friends break Postgres text columns and terminal logs (docs/SECURITY.md B1, B24);
 * CR is handled separately so that CRLF and bare CR become LF first.
 */
const CONTROL_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;

/**
 * Characters that change how surrounding text is displayed without being visible:
 * bidi embeddings/overrides (U+202A–U+202E), bidi isolates (U+2066–U+2069),
 * LRM/RLM/ALM marks (U+200E, U+200F, U+061C), zero-width space/joiners
 * (U+200B–U+200D), word joiner (U+2060), BOM (U+FEFF), and the Unicode line and
 * paragraph separators (U+2028, U+2029) that some parsers treat as newlines
 * (docs/SECURITY.md B6, B16; the "Trojan Source" attacks, CVE-2021-42574).
 */
const INVISIBLE_FORMATTING = /[\u061C\u200B-\u200F\u2028-\u202E\u2060\u2066-\u2069\uFEFF]/g;

/**
 * Bidi controls only (embeddings, overrides, isolates, marks) and the BOM.
 * Unlike {@link INVISIBLE_FORMATTING} this keeps ZWJ/ZWNJ, which emoji sequences
 * and Indic scripts need in free text such as subjects.
 */
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g;

/** Longest display name we keep, in code points. */
const DISPLAY_NAME_MAX = 200;

/**
 * Removes NUL, C0 and C1 control characters (keeping `\n` and `\t`) and
 * normalises CRLF and bare CR to LF.
 */
export function stripControlChars(s: string): string {
  // Most text has no CR at all (mailparser gives LF lines): one scan fewer for it.
  return (s.includes('\r') ? s.replace(/\r\n?/g, '\n') : s).replace(CONTROL_CHARS, '');
}

/**
 * Removes bidi embedding, override, isolate and mark characters and the BOM.
 * Use on free text (subjects, titles) where a stray U+202E would reverse the
 * rest of the line in the feed; names need the stricter {@link cleanDisplayName}.
 */
export function stripBidiControls(s: string): string {
  return s.replace(BIDI_CONTROLS, '');
}

/** Runs of whitespace other than one plain space: all that {@link squashWhitespace} rewrites. */
const WHITESPACE_TO_SQUASH = /\s{2,}|[^\S ]/g;

/**
 * Every run of whitespace as one space, and none at either end: the key by which two
 * renderings of the same line are compared. The same as `s.replace(/\s+/g, ' ').trim()`, but
 * a single space between words is left in place rather than replaced by another.
 */
export function squashWhitespace(s: string): string {
  return s.replace(WHITESPACE_TO_SQUASH, ' ').trim();
}

/**
 * Makes a display name safe to show next to its real address: strips control,
 * bidi, zero-width and line-separator characters, collapses whitespace to single
 * spaces and caps the result at 200 code points. Never use the result for
 * matching; identity comes from the addr-spec only (docs/SECURITY.md B5, B6).
 */
export function cleanDisplayName(s: string): string {
  const cleaned = stripControlChars(s)
    .replace(INVISIBLE_FORMATTING, '')
    .replace(/\s+/g, ' ')
    .trim();
  return truncate(cleaned, DISPLAY_NAME_MAX).trimEnd();
}

/**
 * Cuts `s` to at most `max` Unicode code points, never splitting a surrogate
 * pair (a lone surrogate is invalid UTF-8 and Postgres rejects it).
 *
 * @param max - maximum number of code points; must be a non-negative integer.
 */
export function truncate(s: string, max: number): string {
  if (!Number.isInteger(max) || max < 0) {
    throw new RangeError(`truncate: max must be a non-negative integer, got ${max}`);
  }
  // Each code point is one or two UTF-16 units, so a short string needs no counting.
  if (s.length <= max) return s;
  let units = 0;
  let points = 0;
  while (units < s.length && points < max) {
    const cp = s.codePointAt(units) ?? 0;
    units += cp > 0xffff ? 2 : 1;
    points++;
  }
  return s.slice(0, units);
}
