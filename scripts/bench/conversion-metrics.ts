/**
 * How close an extracted body is to the expected one: exact match (after the corpus test's
 * trailing-whitespace normalisation), normalised Levenshtein similarity and word-level F1.
 */
import { normaliseText } from '../../test/fixtures/corpus/manifest';

export const exact = (got: string, expected: string) => normaliseText(got) === normaliseText(expected);

/** 1 − edit distance / longer length, on code points; 1 for two empty strings. */
export function levenshteinSimilarity(a: string, b: string): number {
  const x = [...normaliseText(a)];
  const y = [...normaliseText(b)];
  if (x.length === 0 && y.length === 0) return 1;
  let prev = new Int32Array(y.length + 1).map((_, j) => j);
  let cur = new Int32Array(y.length + 1);
  for (let i = 1; i <= x.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return 1 - prev[y.length]! / Math.max(x.length, y.length);
}

// ICU word segmentation: splits Japanese and Chinese by dictionary, where spaces mean nothing.
const segmenter = new Intl.Segmenter('und', { granularity: 'word' });

function words(s: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const seg of segmenter.segment(s.toLowerCase())) {
    if (seg.isWordLike) out.set(seg.segment, (out.get(seg.segment) ?? 0) + 1);
  }
  return out;
}

/** Word-level F1 of the extracted text against the expected one (bag of words). */
export function tokenF1(got: string, expected: string): number {
  const g = words(got);
  const e = words(expected);
  const total = (m: Map<string, number>) => [...m.values()].reduce((s, v) => s + v, 0);
  const [ng, ne] = [total(g), total(e)];
  if (ng === 0 && ne === 0) return 1;
  if (ng === 0 || ne === 0) return 0;
  let common = 0;
  for (const [w, n] of g) common += Math.min(n, e.get(w) ?? 0);
  if (common === 0) return 0;
  const precision = common / ng;
  const recall = common / ne;
  return (2 * precision * recall) / (precision + recall);
}
