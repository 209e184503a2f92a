/** A run of text in a highlight: a match of the query or not. */
export interface HighlightSegment {
  text: string;
  match: boolean;
}

/**
 * Markers ts_headline puts around matches: private-use characters, removed from the text first,
 * so that no text can forge one. The segments are plain text; a page escapes them and wraps the
 * matches (docs/SECURITY.md B38).
 */
export const HIGHLIGHT_START = '\uE000';
export const HIGHLIGHT_STOP = '\uE001';

/** Split ts_headline's output at its markers. */
export function highlightSegments(marked: string): HighlightSegment[] {
  const out: HighlightSegment[] = [];
  let rest = marked;
  while (rest.length > 0) {
    const a = rest.indexOf(HIGHLIGHT_START);
    if (a < 0) {
      out.push({ text: rest, match: false });
      break;
    }
    if (a > 0) out.push({ text: rest.slice(0, a), match: false });
    const b = rest.indexOf(HIGHLIGHT_STOP, a + 1);
    const end = b < 0 ? rest.length : b;
    if (end > a + 1) out.push({ text: rest.slice(a + 1, end), match: true });
    rest = b < 0 ? '' : rest.slice(b + 1);
  }
  return out.map((s) => ({ text: s.text.replaceAll(HIGHLIGHT_START, '').replaceAll(HIGHLIGHT_STOP, ''), match: s.match }));
}

