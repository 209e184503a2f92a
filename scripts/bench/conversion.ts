// `pnpm bench conversion`: Blend's extraction of the author's text against email-reply-parser
// and planer over the conversion corpus (test/fixtures/corpus): exact matches, similarity,
// and messages per second; then, reported apart and untimed, over the real-mail corpus
// (../shared/corpus-real or BLEND_CORPUS_REAL, expectations in test/fixtures/corpus-real).
// No services needed. See docs/BENCHMARKS.md.
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseMail } from '@blend/mail';
import { loadCorpus } from '../../test/fixtures/corpus/manifest';
import { corpusRealDir, loadRealCorpus, readSkipped } from '../../test/fixtures/corpus-real/manifest';
import { exact, levenshteinSimilarity, tokenF1 } from './conversion-metrics';
import { conversionMarkdown, conversionTables, realCorpusTables, writeConversionDocs, type ConversionReport, type RealCorpusReport, type Scored } from './conversion-report';
import { plainTextOf, TOOLS, type Prepared } from './conversion-tools';
import { blendRevision, machineFacts } from './machine';
import { percentile } from './stats';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const say = (msg: string) => process.stdout.write(`bench conversion: ${msg}\n`);

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be an integer ≥ 1, got ${JSON.stringify(raw)}`);
  return v;
}

const ROUNDS = intEnv('BENCH_ROUNDS', 20);

/** Every tool once over the real-mail corpus, scored against the hand-written expectations. */
async function scoreRealCorpus(): Promise<RealCorpusReport> {
  const corpus = loadRealCorpus(corpusRealDir(process.env));
  const prepared: Prepared[] = [];
  for (const m of corpus) {
    const { mail } = await parseMail(m.raw);
    prepared.push({ mail, text: plainTextOf(mail) });
  }
  const scored = TOOLS.map((tool) => {
    const rows = corpus.map((m, i) => {
      const got = tool.run(prepared[i]!);
      return { source: m.source, shape: m.shape, exact: exact(got, m.expected), similarity: levenshteinSimilarity(got, m.expected), f1: tokenF1(got, m.expected) };
    });
    say(`real mail, ${tool.name}: ${rows.filter((r) => r.exact).length}/${rows.length} exact`);
    return { tool: tool.name, rows };
  });
  return {
    messages: corpus.length,
    skipped: readSkipped().size,
    knownFailures: corpus.filter((m) => m.knownFailure).length,
    sources: new Set(corpus.map((m) => m.source)).size,
    scored,
  };
}

async function main(): Promise<ConversionReport> {
  const corpus = loadCorpus();
  // Parsing is the same for every tool and not part of the comparison: done once, untimed.
  const prepared: Prepared[] = [];
  for (const m of corpus) {
    const { mail } = await parseMail(m.raw);
    prepared.push({ mail, text: plainTextOf(mail) });
  }
  say(`${corpus.length} messages parsed; ${ROUNDS} timed rounds per tool`);

  const scored: Scored[] = [];
  for (const tool of TOOLS) {
    const outputs = prepared.map((p) => tool.run(p));
    // A warm-up round above (the outputs), then timed rounds over the whole corpus.
    const seconds: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = performance.now();
      for (const p of prepared) tool.run(p);
      seconds.push((performance.now() - t0) / 1000);
    }
    const rows = corpus.map((m, i) => {
      const got = outputs[i]!;
      return { client: m.client, language: m.language, exact: exact(got, m.body_text), similarity: levenshteinSimilarity(got, m.body_text), f1: tokenF1(got, m.body_text) };
    });
    scored.push({ tool: tool.name, note: tool.note, rows, rounds: seconds, medianSeconds: percentile(seconds, 50) });
    say(`${tool.name}: ${rows.filter((r) => r.exact).length}/${rows.length} exact`);
  }
  return {
    date: new Date().toISOString(),
    command: `pnpm bench conversion${process.env.BENCH_ROUNDS ? ` (BENCH_ROUNDS=${ROUNDS})` : ''}`,
    revision: await blendRevision(root),
    machine: await machineFacts(),
    corpus: {
      messages: corpus.length,
      knownFailures: corpus.filter((m) => m.known_failure).length,
      clients: new Set(corpus.map((m) => m.client)).size,
      languages: new Set(corpus.map((m) => m.language)).size,
      htmlParts: corpus.filter((m) => m.parts !== 'text').length,
      htmlOnly: corpus.filter((m) => m.parts === 'html').length,
    },
    rounds: ROUNDS,
    loadAverage: os.loadavg()[0] ?? Number.NaN,
    scored,
    real: await scoreRealCorpus(),
  };
}

const report = await main();
process.stdout.write(`\n${conversionTables(report)}\nReal mail:\n\n${realCorpusTables(report.real)}\n`);
if (process.env.BENCH_DOCS !== '0') {
  await writeConversionDocs(path.join(root, 'docs/BENCHMARKS.md'), report);
  say('wrote the conversion section of docs/BENCHMARKS.md');
} else {
  process.stdout.write(`${conversionMarkdown(report)}\n`);
}
