/** The longest search string, in characters: enough for a sentence, short enough to stem cheaply. */
export const SEARCH_QUERY_MAX = 200;

export type SearchQuery = { ok: true; q: string } | { ok: false; message: string };

/**
 * Check and tidy what a reader typed into the search box before it reaches Postgres: spaces,
 * tabs and line breaks collapsed, and a clear reason when there is nothing to search for.
 * Quotes, `or` and a leading `-` keep their web-search meaning (websearch_to_tsquery).
 */
export function parseSearchQuery(raw: string | undefined): SearchQuery {
  const q = (raw ?? '').replace(/[\t\n\r\f\v\u00a0\u2028\u2029 ]+/g, ' ').trim();
  if (q === '') return { ok: false, message: 'q is empty: give the words to search for' };
  if ([...q].length > SEARCH_QUERY_MAX) return { ok: false, message: `q is longer than ${SEARCH_QUERY_MAX} characters` };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\ue000\ue001]/.test(q)) return { ok: false, message: 'q contains control characters' };
  if (!/[\p{L}\p{N}]/u.test(q)) return { ok: false, message: 'q has no letters or digits to search for' };
  return { ok: true, q };
}
