/**
 * The search part of `pnpm bench api`: `GET /api/v1/search` at a fixed rate (open loop) and
 * flat out on the benchmark's data, and its section of docs/BENCHMARKS.md.
 */
import type pg from 'pg';
import { runAutocannon, runPaced, type LoadResult } from './api-load';
import type { ApiReport } from './api-report';
import { SEARCH_CANDIDATES } from '@blend/db';
import { fmt } from './stats';

/** Target from the issue: search p99 under 100 ms at 50 requests/s on the 100,000-post data. */
export const SEARCH_TARGET_P99_MS = 100;
export const SEARCH_RATE = 50;

export interface SearchKind {
  name: string;
  what: string;
  paths: string[];
}

export interface SearchResult {
  kind: SearchKind;
  paced: LoadResult & { maxInFlight: number };
  max: LoadResult;
  /** Results on the first page and whether there was a next one, for the table. */
  items: number;
}

/**
 * Queries of each kind, from the data: words every few posts use (the benchmark's prose repeats
 * a few hundred phrases, so a common word matches tens of thousands of posts and comments), the
 * same with a group, people's names (trigrams), a rare word and a phrase, and the second page.
 */
export async function searchKinds(pool: pg.Pool): Promise<SearchKind[]> {
  const q = encodeURIComponent;
  const names = (await pool.query<{ name: string }>(`select name from people order by md5(email) limit 20`)).rows.map((r) => r.name.split(' ')[1]!);
  const groups = (await pool.query<{ slug: string }>(`select slug from groups where slug like 'bench-g%' order by slug limit 20`)).rows;
  const common = ['roadmap', 'billing migration', 'customer', 'security audit', 'offsite', 'hiring Berlin', 'pricing', 'release', 'vendor renewal', 'onboarding'];
  const s = (words: string, more = '') => `/api/v1/search?q=${q(words)}${more}`;
  return [
    { name: 'common words', what: `${common.length} queries of words in thousands of posts (\`roadmap\`, \`billing migration\`…)`, paths: common.map((w) => s(w)) },
    { name: 'common words in a group', what: 'the same with `&group=` one of 20 groups', paths: common.flatMap((w, i) => [s(w, `&group=${groups[i % groups.length]!.slug}`), s(w, `&group=${groups[(i + 10) % groups.length]!.slug}`)]) },
    { name: 'people\'s names', what: `${names.length} surnames (trigram match on names)`, paths: names.map((n) => s(n)) },
    { name: 'rare words and phrases', what: '`"leadership offsite"`, `objections`, `Maya details`, `cut-over`, a word in no post', paths: ['"leadership offsite"', 'objections', 'Maya details', 'cut-over', 'zeppelin'].map((w) => s(w)) },
  ];
}

/** Each kind at {@link SEARCH_RATE} req/s for `seconds`, then flat out for `maxSeconds`. */
export async function measureSearch(url: string, token: string, kinds: SearchKind[], o: { seconds: number; maxSeconds: number; connections: number }): Promise<SearchResult[]> {
  const out: SearchResult[] = [];
  for (const kind of kinds) {
    const first = await fetch(`${url}${kind.paths[0]}`, { headers: { authorization: `Bearer ${token}` } });
    if (first.status !== 200) throw new Error(`${kind.paths[0]} answered ${first.status}: ${await first.text()}`);
    const items = ((await first.json()) as { items: unknown[] }).items.length;
    const target = { url, token, paths: kind.paths };
    const paced = await runPaced(target, { seconds: o.seconds, rate: SEARCH_RATE });
    const max = await runAutocannon(target, { seconds: o.maxSeconds, connections: o.connections });
    out.push({ kind, paced, max, items });
  }
  return out;
}

export const searchMeets = (r: SearchResult) => r.paced.errors === 0 && r.paced.non2xx === 0 && r.paced.rps >= SEARCH_RATE * 0.97 && r.paced.p99 < SEARCH_TARGET_P99_MS;

/** The search section of docs/BENCHMARKS.md. */
export function searchMarkdown(r: ApiReport, results: SearchResult[]): string {
  const worst = results.reduce((a, b) => (b.paced.p99 > a.paced.p99 ? b : a));
  const rows = results.map((x) =>
    `| ${x.kind.name} | ${x.kind.what} | ${x.items} | ${fmt(x.paced.rps)} | **${fmt(x.paced.p50, 1)} ms** | **${fmt(x.paced.p99)} ms** | ${fmt(x.paced.max)} ms | ${x.paced.errors + x.paced.non2xx} | **${fmt(x.max.rps)}** | ${searchMeets(x) ? 'met' : '**missed**'} |`);
  return `## Search: latest run

- **Date:** ${r.date}
- **Command:** \`${r.command}\` (the search part runs after the feed's)
- **Blend revision:** ${r.revision}
- **Machine:** ${r.machine.cpuModel}, ${r.machine.cores} cores, ${fmt(r.machine.ramGiB, 1)} GiB RAM; ${r.machine.os} (Linux ${r.machine.kernel}); Node ${r.machine.node}
- **Postgres:** ${r.postgres}
- **Data:** the API benchmark's: ${fmt(r.data.posts)} posts, ${fmt(r.data.comments)} comments, ${fmt(r.data.people)} people (English prose from a few hundred phrases, so a common word is in tens of thousands of posts and comments)
- **Load:** \`limit=20\`, one person's bearer token; ${SEARCH_RATE} req/s open loop for ${r.params.seconds} s per kind, then autocannon flat out on ${r.params.connections} connections for ${r.params.maxSeconds} s

| Kind | Queries | results on page 1 (first query) | req/s | p50 | p99 | max | failed | flat out, req/s | p99 < ${SEARCH_TARGET_P99_MS} ms at ${SEARCH_RATE} req/s |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
${rows.join('\n')}

Worst p99 at ${SEARCH_RATE} req/s: **${fmt(worst.paced.p99)} ms** (${worst.kind.name}): target < ${SEARCH_TARGET_P99_MS} ms ${results.every(searchMeets) ? 'met' : '**missed**'}.

How to run: \`pnpm bench api\` (see "How to run (API)"); \`BENCH_SEARCH=0\` leaves search out, \`BENCH_FEED=0\` runs it alone. What a request does: one statement (two when a walk of
the newest rows finds too few matches), the newest ${SEARCH_CANDIDATES} matching posts and as many comments among what the reader may see
(a common word by walking the newest rows, others from the GIN index on the stored \`search_vector\`; pg_trgm GIN indexes on titles
and names), each ranked with \`ts_rank_cd\` and its age, and \`ts_headline\` for the 20 shown.`;
}
