/**
 * Repairs what clients and converters do to quoted lines before the trimmer reads them:
 * a splitter run onto the author's last line, supercite prefixes ("C>", "LK>") and a wrapped
 * quote line that lost its `>`. Pure; the lines come back as new strings, one or more per input.
 */
import { MARKER_LINE_MAX, isAttribution, isSeparator } from './quote-markers';

/** The author's sentence, then an attribution on the same line ("Sure. On Mon, … wrote:"). */
const ATTRIBUTION_AFTER_TEXT = /^(.*?\S[.!?)])\s+((?:On|Am|Le|El|Il|Op|Em|Den|W dniu|Dnia)\s.+)$/;
/** The author's text, then a caption between dashes ("Thanks!-----Original Message-----"). */
const SEPARATOR_AFTER_TEXT = /^(.*?\S)\s*(-{3,}[^-].*?-{3,})$/;
/** Text before a separator is the author's when it has a word and is not the separator's own dashes. */
const AUTHOR_TEXT = /^(?![-_=*\s]{2,})[^]*[\p{L}\d]/u;
/** Supercite and Outlook-Express-style prefixes: initials right before the `>`. */
const SUPERCITE = /^\s*([A-Za-z]{1,4})>(?:\s|$)/;
/** A wrapped quote line: long, not ending a sentence. */
const WRAPPED = /^>.{58,}[^.!?:;]$/;
/** The rest of a wrapped line: a word in lower case, a number, or code ("*ptr)", "(first use"). */
const CONTINUATION = /^(?:[\p{Ll}\d]|[*&(]\S)/u;

/** See the module comment. Lines over {@link MARKER_LINE_MAX} are left as they are. */
export function repairLines(lines: readonly string[]): string[] {
  const prefixes = superciteOf(lines);
  const out: string[] = [];
  for (const line of lines) {
    const supercite = prefixes.size > 0 ? SUPERCITE.exec(line) : null;
    if (supercite && prefixes.has(supercite[1] ?? '')) out.push(line.replace(SUPERCITE, '> '));
    else out.push(...splitMarker(line));
  }
  for (let i = 1; i < out.length - 1; i++) {
    const prev = (out[i - 1] ?? '').trim();
    const line = (out[i] ?? '').trim();
    const next = (out[i + 1] ?? '').trim();
    if (line && !line.startsWith('>') && line.length < 80 && next.startsWith('>') && WRAPPED.test(prev) && CONTINUATION.test(line)) {
      out[i] = `${/^(?:>\s?)+/.exec(prev)?.[0] ?? '> '}${line}`;
    }
  }
  return out;
}

/** Supercite prefixes that open at least two lines (one "A> B" in prose is not a quote). */
function superciteOf(lines: readonly string[]): Set<string> {
  const seen = new Map<string, number>();
  for (const line of lines) {
    const p = SUPERCITE.exec(line)?.[1];
    if (p) seen.set(p, (seen.get(p) ?? 0) + 1);
  }
  return new Set([...seen].filter(([, n]) => n >= 2).map(([p]) => p));
}

function splitMarker(line: string): string[] {
  if (line.length > MARKER_LINE_MAX) return [line];
  const a = ATTRIBUTION_AFTER_TEXT.exec(line);
  if (a?.[1] && a[2] && isAttribution(a[2].trim())) return [a[1], a[2]];
  const s = SEPARATOR_AFTER_TEXT.exec(line);
  if (s?.[1] && s[2] && AUTHOR_TEXT.test(s[1]) && isSeparator(s[2].trim())) return [s[1], s[2]];
  return [line];
}
