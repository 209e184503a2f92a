import { stripControlChars } from './clean-text';
import { repairLines } from './conversion/line-repair';
import { findVisibleLines, type VisibleOptions } from './conversion/visible-lines';

export type { VisibleOptions } from './conversion/visible-lines';

/** The author's new text and how much of the input was dropped to get it. */
export interface VisibleText {
  text: string;
  /** Input length (UTF-16 units) minus kept length: quotes, signature, footers, blanks. */
  trimmedChars: number;
  /**
   * The author answered quoted lines inline. Those `>` lines are someone else's words
   * (docs/SECURITY.md B21): they were dropped, and only the author's lines are kept, in order.
   */
  inline: boolean;
  /**
   * `low` when the kept text still contains something that looks like quoted
   * history we did not recognise (an unknown separator, an address followed by
   * a colon). Callers that must fail closed reject on `low` (docs/SECURITY.md B12, B21).
   */
  confidence: 'high' | 'low';
}

/**
 * Extracts the text the author wrote from a plain-text mail body.
 *
 * Newlines are normalised and control characters removed, then the body is cut
 * at the first quote-history marker: an attribution ("On … wrote:", "Am … schrieb
 * …:", "Le … a écrit :", "El … escribió:", "Il … ha scritto:", "Op … schreef …:",
 * "Em … escreveu:", "Den … skrev …:", "… napisał(a):", "…さんは書きました:",
 * "…写道：", Gmail's verb-less Japanese/Russian form), a separator ("-----Original
 * Message-----" and its translations, Gmail/Apple/Thunderbird/Notes forward
 * headers), or an Outlook header block (From/Von/De/差出人… followed by
 * Sent/Gesendet/Envoyé/送信日時…). For an interleaved reply the attribution and
 * the `>` lines between the author's answers are dropped: the answers stay, in order,
 * a quote between two of them leaving a paragraph break.
 * Then the `-- ` signature, mobile footers, dividers, legal disclaimers (built-in
 * and `opts.disclaimerPatterns`), contact blocks, the author's typed name, the
 * name/title/phone block under a sign-off (the sign-off line itself is the
 * author's and stays), and a trailing quoted block are removed; a bottom-posted
 * reply loses the quote above it. Lines are repaired first (a marker run onto
 * the author's line, `C>` prefixes, a wrapped quote line that lost its `>`).
 * See {@link findVisibleLines}.
 */
export function extractVisibleText(text: string, opts: VisibleOptions = {}): VisibleText {
  const lines = repairLines(stripControlChars(text).split('\n'));
  const found = findVisibleLines(lines, opts);
  const kept: string[] = [];
  // Dropped lines (a quote between two answers) leave one paragraph break, not zero or three.
  let gap = false;
  for (let i = found.start; i < found.end; i++) {
    if (found.dropped.has(i)) {
      gap = kept.length > 0;
      continue;
    }
    const line = lines[i] ?? '';
    const blank = line.trim() === '';
    // A dropped attribution can leave blank lines at the top.
    if (kept.length === 0 && blank) continue;
    if (gap) {
      const afterBlank = (kept[kept.length - 1] ?? '').trim() === '';
      if (blank && afterBlank) continue;
      if (!blank && !afterBlank) kept.push('');
      gap = false;
    }
    kept.push(line);
  }
  const out = kept.join('\n').trimEnd();
  return { text: out, trimmedChars: text.length - out.length, inline: found.inline, confidence: found.confidence };
}
