/** The results of `pnpm bench conversion`: tables on stdout and its section of docs/BENCHMARKS.md. */
import type { MachineFacts } from './machine';
import { writeDocsSection } from './harness';
import { fmt } from './stats';

export interface Metrics {
  exact: boolean;
  /** Normalised Levenshtein similarity, 0–1. */
  similarity: number;
  /** Word-level F1, 0–1. */
  f1: number;
}

export interface ScoredRow extends Metrics {
  client: string;
  language: string;
}

/** One message of the real-mail corpus, scored for one tool. */
export interface RealRow extends Metrics {
  source: string;
  /** index.tsv's shape_guess: reply-top, reply-inline, forward, notification… */
  shape: string;
}

/** The real-mail corpus (../shared/corpus-real with test/fixtures/corpus-real), scored untimed. */
export interface RealCorpusReport {
  messages: number;
  skipped: number;
  knownFailures: number;
  sources: number;
  scored: { tool: string; rows: RealRow[] }[];
}

export interface Scored {
  tool: string;
  note: string;
  rows: ScoredRow[];
  /** Seconds per timed round over the whole corpus. */
  rounds: number[];
  medianSeconds: number;
}

export interface ConversionReport {
  date: string;
  command: string;
  revision: string;
  machine: MachineFacts;
  corpus: { messages: number; knownFailures: number; clients: number; languages: number; htmlParts: number; htmlOnly: number };
  rounds: number;
  /** 1-minute load average when the run ended: the machine is shared. */
  loadAverage: number;
  scored: Scored[];
  real: RealCorpusReport;
}

const pct = (v: number) => `${fmt(100 * v, 1)} %`;
const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);

function summary(rows: readonly Metrics[]): { n: number; exact: number; similarity: number; f1: number } {
  return { n: rows.length, exact: rows.filter((r) => r.exact).length / rows.length, similarity: mean(rows.map((r) => r.similarity)), f1: mean(rows.map((r) => r.f1)) };
}

function breakdown<R extends Metrics>(title: string, rows: readonly R[], key: (r: R) => string): string {
  const groups = new Map<string, R[]>();
  for (const r of rows) groups.set(key(r), [...(groups.get(key(r)) ?? []), r]);
  const lines = [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, rs]) => {
      const s = summary(rs);
      return `| ${k} | ${s.n} | ${pct(s.exact)} | ${fmt(s.similarity, 3)} | ${fmt(s.f1, 3)} |`;
    });
  return `| ${title} | Messages | Exact | Similarity | Word F1 |\n| --- | ---: | ---: | ---: | ---: |\n${lines.join('\n')}\n`;
}

/** The results as Markdown tables (used for both stdout and the docs). */
export function conversionTables(r: ConversionReport): string {
  const main = r.scored
    .map((s) => {
      const m = summary(s.rows);
      const rate = r.corpus.messages / s.medianSeconds;
      const ms = [...s.rounds].sort((a, b) => a - b).map((x) => x * 1000);
      return `| ${s.tool} | **${pct(m.exact)}** (${s.rows.filter((x) => x.exact).length}/${m.n}) | ${fmt(m.similarity, 3)} | ${fmt(m.f1, 3)} | ${fmt(rate)} | ${fmt(ms[0]!, 1)} / ${fmt(s.medianSeconds * 1000, 1)} / ${fmt(ms[ms.length - 1]!, 1)} ms |`;
    })
    .join('\n');
  const blend = r.scored[0]!;
  return `| Tool | Exact match | Similarity (Levenshtein) | Word F1 | Messages/s | One round over the corpus: min / median / max |
| --- | ---: | ---: | ---: | ---: | --- |
${main}

Blend (first row) by client:

${breakdown('Client', blend.rows, (x) => x.client)}
Blend by language:

${breakdown('Language', blend.rows, (x) => x.language)}`;
}

/** The real-mail corpus as Markdown tables: every tool, then Blend by source and by shape. */
export function realCorpusTables(r: RealCorpusReport): string {
  const main = r.scored
    .map((s) => {
      const m = summary(s.rows);
      return `| ${s.tool} | **${pct(m.exact)}** (${s.rows.filter((x) => x.exact).length}/${m.n}) | ${fmt(m.similarity, 3)} | ${fmt(m.f1, 3)} |`;
    })
    .join('\n');
  const blend = r.scored[0]!;
  return `| Tool | Exact match | Similarity (Levenshtein) | Word F1 |
| --- | ---: | ---: | ---: |
${main}

Blend (first row) by source:

${breakdown('Source', blend.rows, (x) => x.source)}
Blend by shape of the message (index.tsv's rough \`shape_guess\`):

${breakdown('Shape', blend.rows, (x) => x.shape)}`;
}

export function conversionMarkdown(r: ConversionReport): string {
  const m = r.machine;
  const c = r.corpus;
  return `## Conversion: latest run

- **Date:** ${r.date}
- **Command:** \`${r.command}\`
- **Blend revision:** ${r.revision}
- **Machine:** ${m.cpuModel}, ${m.cores} cores, ${fmt(m.ramGiB, 1)} GiB RAM; ${m.os} (Linux ${m.kernel}); Node ${m.node}
- **Corpus:** \`test/fixtures/corpus\`, ${c.messages} messages from ${c.clients} clients in ${c.languages} languages (${c.htmlParts} with an HTML part), each with its expected \`body_text\`; ${c.knownFailures} are known Blend failures (listed in \`known-failures.ts\`)
- **Parameters:** ${r.rounds} timed rounds over the whole corpus per tool after one untimed round; the median round gives messages/s; parsing (\`parseMail\`) is done once beforehand and not timed; one core; load average ${fmt(r.loadAverage, 2)} at the end (other work on the machine slows the rounds down)

${conversionTables(r)}
### Real mail

- **Corpus:** \`../shared/corpus-real\` (or \`BLEND_CORPUS_REAL\`): raw messages from public test fixtures of helpdesk and mail
  projects, outside the repository; ${r.real.messages} of them have an expected text written by hand in
  \`test/fixtures/corpus-real/<source>/<name>.txt\` (${r.real.sources} sources), ${r.real.skipped} are skipped with a reason in
  \`skipped.tsv\`; ${r.real.knownFailures} are known Blend failures (listed with what goes wrong in \`known-failures.ts\`)
- **Parameters:** one untimed run per tool; the same tools, inputs and metrics as above

${realCorpusTables(r.real)}
### How to run (conversion)

\`\`\`sh
pnpm bench conversion                  # no services needed; a few seconds
BENCH_ROUNDS=50 pnpm bench conversion  # more timed rounds (20 by default)
\`\`\`

\`BENCH_DOCS=0\` leaves this file alone. The corpus is regenerated with
\`pnpm tsx test/fixtures/corpus/generate.ts\` (see \`test/fixtures/corpus/README.md\`); \`test/corpus.test.ts\`
checks Blend against it, and \`test/corpus-real.test.ts\` against the real mail.

### What is measured

${r.scored.map((s) => `- **${s.tool}**: ${s.note}.`).join('\n')}

- The libraries read plain text only: the text/plain part, or for HTML-only mail (${c.htmlOnly} messages) the HTML
  rendered by Blend's \`htmlToPlainText\`. "Blend, text only" is Blend on that same input.
- **Exact match**: the output equals the expected \`body_text\` after removing trailing whitespace
  (the corpus test's rule). **Similarity**: 1 − Levenshtein distance / longer length, on code
  points, averaged. **Word F1**: bag-of-words F1 with ICU word segmentation (so Japanese and
  Chinese count as words, not as one token per line), averaged.

### How to read it

- The expected text is what Blend should publish: the author's words without quoted history,
  signature, sign-off block, mobile footer or legal disclaimer. email-reply-parser removes quotes,
  \`-- \` signatures and "Sent from my …" lines; planer removes quotes only. Their exact-match
  rates therefore mostly measure what they were not built to do; similarity and F1 show how close
  they come.
- The generated corpus was written for Blend (and its failures kept with their true expectation), so it is
  no neutral ground: it covers the clients and languages Blend claims to support. The real mail was
  not chosen for Blend; its expected texts follow the same rule, read from each raw message by a
  person, never copied from a tool's output. It is a development set, not an evaluation set: the
  extractor is tuned against it.
- Where a message has both parts, the expected text follows the text/plain part's line breaks (the
  client's own rendering of what was typed); Blend lets the HTML part decide what is cut and shows
  the text part's own lines for the same words, falling back to the HTML when the text part is a
  stub or says something else.
- Messages/s depend on this machine and on the corpus' message sizes; compare the tools with each
  other in the same run.
`;
}

export async function writeConversionDocs(file: string, r: ConversionReport): Promise<void> {
  await writeDocsSection(file, 'conversion', conversionMarkdown(r));
}
