/**
 * What every benchmark shares (docs/BENCHMARKS.md): its settings from the environment, the
 * command line its report names, the run itself with its cleanup (also on Ctrl-C), and its
 * section of docs/BENCHMARKS.md. What the machine is and where the CPU went is machine.ts;
 * Blend's services as processes of their own are services.ts.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { withImap } from '../../test/support/mail-server';

/** The repository's root. */
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The docs file the benchmarks write their sections into. */
export const DOCS_FILE = path.join(root, 'docs/BENCHMARKS.md');

/** An integer setting from the environment, at least `min`; `fallback` when unset or empty. */
export function intEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return v;
}

/** A positive integer setting, or undefined when unset (the code's own default then applies). */
export const optionalIntEnv = (name: string): number | undefined => (process.env[name] ? intEnv(name, 1) : undefined);

/** The command as the report shows it: the settings of `vars` that are set, then `command`. */
export function commandLine(command: string, vars: readonly string[]): string {
  const set = vars.filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]}`);
  return [...set, command].join(' ');
}

/** A line of progress on stdout, prefixed with the benchmark's label. */
export const sayer = (label: string) => (msg: string) => {
  process.stdout.write(`${label}: ${msg}\n`);
};

/** One step of a cleanup: what it does (for the error message) and the step. */
export type CleanupStep = [what: string, run: () => Promise<unknown>];

/** Run every step in order; one that fails is reported on stderr and the next still runs. */
export async function runSteps(label: string, steps: CleanupStep[]): Promise<void> {
  for (const [what, fn] of steps) {
    try {
      await fn();
    } catch (err) {
      process.stderr.write(`${label}: cleanup "${what}" failed: ${(err as Error).message}\n`);
    }
  }
}

/**
 * Run a benchmark: `main` with its resources, then `cleanup` (also after a failure, and on
 * SIGINT, exit code 130), then `finish` with the report (print it, write the docs), which
 * returns the targets missed. The process then exits: 1 on failure, and on a missed target
 * when `BENCH_STRICT=1`; the clients are closed by then, so no stray timer keeps it waiting.
 */
export async function runBench<Res, Report>(o: {
  label: string;
  resources: Res;
  main: (res: Res) => Promise<Report>;
  cleanup: (res: Res) => Promise<void>;
  finish: (report: Report) => Promise<string[]>;
}): Promise<never> {
  const say = sayer(o.label);
  // Ctrl-C cleans up and exits 130; main, failing under it meanwhile, waits for that.
  let interrupted: Promise<void> | null = null;
  process.once('SIGINT', () => {
    say('interrupted; cleaning up...');
    interrupted = o.cleanup(o.resources).finally(() => process.exit(130));
  });
  try {
    const report = await o.main(o.resources);
    await o.cleanup(o.resources);
    const missed = await o.finish(report);
    if (missed.length > 0) say(`target missed: ${missed.join('; ')}`);
    process.exitCode = missed.length > 0 && process.env.BENCH_STRICT === '1' ? 1 : 0;
  } catch (err) {
    if (interrupted) await interrupted;
    process.stderr.write(`${o.label}: failed: ${(err as Error).stack ?? String(err)}\n`);
    await o.cleanup(o.resources);
    process.exitCode = 1;
  }
  process.exit(process.exitCode ?? 0);
}

/** Expunge a mailbox the run filled (thousands of messages), so runs do not fill the disk. */
export async function emptyMailbox(imapUrl: string): Promise<void> {
  await withImap(imapUrl, async (client, target) => {
    const mailbox = await client.mailboxOpen(target.mailbox);
    if (mailbox.exists > 0) await client.messageDelete('1:*');
  });
}

/** Whether the run writes its figures into docs/BENCHMARKS.md (`BENCH_DOCS=0`: it does not). */
export const writesDocs = (): boolean => process.env.BENCH_DOCS !== '0';

/** The benchmarks with a section of docs/BENCHMARKS.md, in the file's order. */
const SECTIONS = ['ingest', 'digest', 'api', 'search', 'soak', 'conversion'] as const;
export type DocsSection = (typeof SECTIONS)[number];
// The search section is written by `pnpm bench api`, which measures it with the feed.
const BEGIN = (name: DocsSection) => `<!-- bench:${name} begin: written by \`pnpm bench ${name === 'search' ? 'api' : name}\` -->`;
const END = (name: DocsSection) => `<!-- bench:${name} end -->`;

const HEADER =
  `# Benchmarks\n\n\`pnpm bench\` runs all benchmarks, ingest, digests, then the API; \`pnpm bench ingest\`, \`pnpm bench digest\` or \`pnpm bench api\` runs one.\n` +
  `\`pnpm bench soak\` (about 35 minutes) runs only when named; \`pnpm bench conversion\` (seconds, no services) compares text extraction.\n` +
  `Each writes only its own section below.\n`;

/**
 * The docs file with one benchmark's section (between its markers) replaced and everything
 * else kept: the other sections, and the hand-written prose after each section, which stays
 * with the section it follows. A section not in the file yet goes where SECTIONS puts it. A
 * file without markers is from before the sections: all of it is the ingest run's.
 */
export function replaceDocsSection(old: string, name: DocsSection, body: string): string {
  const found = SECTIONS.map((n) => ({ name: n, from: old.indexOf(BEGIN(n)), to: old.indexOf(END(n)) }))
    .filter((f) => f.from >= 0 && f.to > f.from)
    .sort((a, b) => a.from - b.from);
  const segments: { name: DocsSection; body: string; after: string }[] = found.map((f, i) => ({
    name: f.name,
    body: old.slice(f.from + BEGIN(f.name).length, f.to).trim(),
    after: old.slice(f.to + END(f.name).length, found[i + 1]?.from ?? old.length).trim(),
  }));
  if (found.length === 0 && old.trim()) segments.push({ name: 'ingest', body: old.replace(/^# Benchmarks\n+/, '').trim(), after: '' });
  const same = segments.find((s) => s.name === name);
  if (same) same.body = body.trim();
  else {
    const before = segments.findIndex((s) => SECTIONS.indexOf(s.name) > SECTIONS.indexOf(name));
    segments.splice(before < 0 ? segments.length : before, 0, { name, body: body.trim(), after: '' });
  }
  const text = segments.map((s) => `${BEGIN(s.name)}\n${s.body}\n${END(s.name)}\n${s.after ? `\n${s.after}\n` : ''}`);
  return `${HEADER}\n${text.join('\n')}`;
}

/** Write one benchmark's section into the docs file (see replaceDocsSection). */
export async function writeDocsSection(file: string, name: DocsSection, body: string): Promise<void> {
  let old = '';
  try {
    old = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await writeFile(file, replaceDocsSection(old, name, body));
}
