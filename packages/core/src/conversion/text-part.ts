/**
 * The text/plain part of a multipart/alternative mail as the rendering of what the HTML
 * extraction kept. The HTML part carries the structure (a signature container, a marked
 * quote, Outlook's reply header block); the text part is the client's own text rendering
 * of the same words (its line breaks, bullets, link texts), which is what a post shows.
 *
 * The two are compared by their letters and digits only ("skeletons"): spacing, punctuation,
 * bullets, line wrapping and the way each part writes a link's URL are all things the two
 * renderings may legitimately do differently, while the words are the content.
 */

/** URLs and the image placeholders clients put in text parts; left out of skeletons. */
const NOT_CONTENT = /\[(?:cid|image):[^\]\n]*\]|<(?:https?:|mailto:)[^>\s]*>|\b(?:https?:\/\/|mailto:|www\.)[^\s<>()[\]"]+/giu;
const NOT_WORD = /[^\p{L}\p{N}\p{M}]+/gu;
/**
 * The ASCII characters that are not letters or digits (in ASCII, letters, digits and marks are
 * just [A-Za-z0-9]): removed first with a pattern without Unicode classes, which scans text
 * several times faster. {@link NOT_WORD} then looks only at the runs of non-ASCII characters
 * left (a "ü", a "€", a no-break space), so a long text with one such character is not scanned
 * whole by it. Removing characters in two steps leaves what one step leaves.
 */
const NOT_ASCII_WORD = /[^A-Za-z0-9\u0080-\uFFFF]+/g;
/** Runs of UTF-16 units outside ASCII; a surrogate pair is never split between two runs. */
const NON_ASCII_RUN = /[^\x00-\x7F]+/g;
const NON_ASCII = /[^\x00-\x7F]/;
/** A cheap first look: only text with one of these can hold what {@link NOT_CONTENT} removes. */
const MAY_HOLD_LINK = /[[<]|https?:|mailto:|www\./i;
/** A line that is only an image placeholder: Outlook writes `[cid:image001.png@…]` where the image was. */
const PLACEHOLDER_LINE = /^\s*(?:\[(?:cid|image):[^\]\n]*\]\s*)+$/iu;

/** The letters and digits of `s`, lower-cased, without URLs and image placeholders. */
export function skeleton(s: string): string {
  const words = MAY_HOLD_LINK.test(s) ? s.replace(NOT_CONTENT, ' ') : s;
  const ascii = words.replace(NOT_ASCII_WORD, '');
  // Lower-cased once, whole: a letter's lower case may depend on the letters after it (Σ).
  return (NON_ASCII.test(ascii) ? ascii.replace(NON_ASCII_RUN, wordsOfRun) : ascii).toLowerCase();
}

function wordsOfRun(run: string): string {
  return run.replace(NOT_WORD, '');
}

/** How the text part relates to what the HTML extraction kept. */
export type TextPartFit =
  /** The text part holds the kept words, in order: `text` is its lines for them. */
  | { kind: 'aligned'; text: string }
  /** The kept words are not all in the text part, in order: the parts differ (an edited part, a link spelled out differently). */
  | { kind: 'differs' }
  /** The text part has a small share of the HTML's words or none: "view this mail in a browser", or empty. */
  | { kind: 'stub' };

/** Lines between kept lines looked up in the HTML's words at most (each is a substring search). */
const MAX_LOOKUPS = 50;

/** A text part with less than this share of the HTML part's letters is a stub. */
const STUB_SHARE = 0.25;

/**
 * The lines of the text part (`textPart`) that render the text the HTML extraction kept
 * (`kept`), given the HTML part's full rendering (`htmlFull`). Each text line is matched in
 * order against what is left of the kept skeleton, at the same quote depth; lines that do not
 * match were cut (quoted history, a signature the HTML marked). Blank and punctuation-only
 * lines between kept lines stay, as the client wrote them, and so do lines whose words the HTML
 * does not render at all (an image's alt text); a cut run between kept lines leaves one blank
 * line. Image placeholder lines (`[cid:…]`) go: the HTML shows no image either.
 */
export function fitTextPart(textPart: string, kept: string, htmlFull: string): TextPartFit {
  const lines = textPart.split('\n');
  // Each line's skeleton when first needed: the stub check stops once the text part has enough
  // words and the matching once the kept text is found, so the lines below those (usually the
  // quoted history) are never read.
  const skels: string[] = [];
  const skel = (i: number) => (skels[i] ??= skeleton(lines[i] ?? ''));
  const htmlWords = skeleton(htmlFull);
  if (isStub(lines.length, skel, htmlWords.length)) return { kind: 'stub' };
  // The kept skeleton, with each of its characters' quote depth alongside: a quoted line of the
  // text part only renders quoted kept text ("> Thanks," is not the author's "Thanks,").
  const wantLines = kept.split('\n');
  const wantSkels = wantLines.map(skeleton);
  const want = wantSkels.join('');
  if (want === '') return { kind: 'aligned', text: '' };
  const depths = new Int32Array(want.length);
  for (let k = 0, from = 0; k < wantLines.length; from += wantSkels[k]!.length, k++) {
    if (wantSkels[k] !== '') depths.fill(quoteDepth(wantLines[k]!), from, from + wantSkels[k]!.length);
  }
  const keep = new Array<boolean>(lines.length).fill(false);
  let at = 0;
  for (let i = 0; i < lines.length && at < want.length; i++) {
    const s = skel(i);
    if (s === '' || !want.startsWith(s, at)) continue;
    if (!allEqual(depths, at, at + s.length, quoteDepth(lines[i] ?? ''))) continue;
    keep[i] = true;
    at += s.length;
  }
  if (at !== want.length) return { kind: 'differs' };
  return { kind: 'aligned', text: keptLines(lines, skel, keep, htmlWords) };
}

/** The text part has no words, or fewer than {@link STUB_SHARE} of the HTML part's. */
function isStub(lineCount: number, skel: (i: number) => string, htmlLength: number): boolean {
  let whole = 0;
  for (let i = 0; i < lineCount; i++) {
    whole += skel(i).length;
    if (whole > 0 && whole >= htmlLength * STUB_SHARE) return false;
  }
  return true;
}

function allEqual(values: Int32Array, from: number, to: number, value: number): boolean {
  for (let k = from; k < to; k++) if (values[k] !== value) return false;
  return true;
}

/** The number of `>` marks that start the line. */
function quoteDepth(line: string): number {
  return /^[ \t]*(?:>[ \t]?)+/.exec(line)?.[0].replace(/[^>]/g, '').length ?? 0;
}

function keptLines(lines: readonly string[], skel: (i: number) => string, keep: readonly boolean[], htmlWords: string): string {
  const out: string[] = [];
  let gap: string[] = [];
  let cut = false;
  let lookups = 0;
  for (let i = keep.indexOf(true); i <= keep.lastIndexOf(true); i++) {
    const line = lines[i] ?? '';
    const s = skel(i);
    if (keep[i]) {
      // Between two kept lines: the client's own layout, or one paragraph break where text was cut.
      out.push(...(cut ? (out.length > 0 ? [''] : []) : gap), line);
      gap = [];
      cut = false;
    } else if (s === '') {
      if (!PLACEHOLDER_LINE.test(line)) gap.push(line);
    } else if (lookups++ < MAX_LOOKUPS && !htmlWords.includes(s)) {
      // Words the HTML does not render at all (an image's alt text written out by the client)
      // were not cut by the HTML: they are part of the text part's layout.
      gap.push(line);
    } else cut = true;
  }
  return out.join('\n');
}
