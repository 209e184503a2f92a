// `pnpm tsx scripts/bench/conversion-cpu.ts <mode>`: the CPU of mail conversion
// (`renderMailContent`) alone, and a check that a change to it leaves every output as it was.
//
//   hashes FILE   writes a hash per mail and variant of everything conversion returns
//   check FILE    compares with such a file; names the mails and fields that differ
//   cpu           CPU per mail of conversion and of bare mailparser on the ingest benchmark's
//                 mails (`BENCH_MESSAGES`, 500, after `BENCH_WARMUP`, 50), alternated
//                 `BENCH_ROUNDS` (5) times; with `BLEND_CORE_BASE` (the `src/index.ts` of
//                 another revision's packages/core) that one is timed in the same rounds too
//                 (make one where its imports resolve: `mkdir -p packages/core/node_modules/.base &&
//                 git archive REV packages/core/src | tar -x -C packages/core/node_modules/.base
//                 --strip-components=2`, then `BLEND_CORE_BASE=packages/core/node_modules/.base/src/index.ts`)
//   profile FILE [others]  a V8 CPU profile of conversion over those mails (or over the other
//                 mails below), saved and summarised
//   pipeline      CPU per mail of what a worker's parse thread does for a mail (`parseAndConvert`:
//                 parsing, splitting attached mails, conversion, and the copy of its result the
//                 thread sends back, as `v8.serialize`), and of bare mailparser, on the ingest
//                 benchmark's mails, alternated `BENCH_ROUNDS` times; with `BLEND_PARSE_BASE` (the
//                 services/worker/src/parse-task.ts of another revision's checkout, e.g. a `git worktree`
//                 with its own `pnpm install`) that one is timed in the same rounds too; with
//                 `BENCH_CPU_PROFILE=FILE` a V8 CPU profile of it instead, saved and summarised
//
// The mails: the ingest benchmark's (scripts/bench/corpus.ts), the conversion corpus
// (test/fixtures/corpus), the real mail (all of it, where corpusRealDir finds it) and test/fixtures/mail.
// Each is converted as ingest does, and also as text only, as HTML only, and with a disclaimer
// pattern and known addresses; the HTML helpers of packages/core are checked on its parts too.
// See docs/BENCHMARKS.md "Conversion: CPU per mail".
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { serialize } from 'node:v8';
import * as current from '@blend/core';
import type { MailInput } from '@blend/core';
import { parseMail } from '@blend/mail';
import { loadCorpus } from '../../test/fixtures/corpus/manifest';
import { corpusRealDir } from '../../test/fixtures/corpus-real/manifest';
import { benchPeople, CorpusGenerator } from './corpus';
import { formatSummary, saveProfile, startCpuProfile, summarise } from './cpu-profile';
import { intEnv, sayer } from './harness';
import { parseAndConvert, type CompiledParseSettings } from '../../services/worker/src/parse-task';

// The copy of mailparser @blend/mail uses, as in scripts/bench/raw-stages.ts.
const { simpleParser } = createRequire(new URL('../../packages/mail/package.json', import.meta.url))('mailparser') as {
  simpleParser: (source: Buffer) => Promise<unknown>;
};

type Core = typeof current;
const say = sayer('conversion-cpu');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const N = intEnv('BENCH_MESSAGES', 500);
const WARMUP = intEnv('BENCH_WARMUP', 50, 0);
const ROUNDS = intEnv('BENCH_ROUNDS', 5);
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

interface Sample {
  id: string;
  raw: Buffer;
  mail: MailInput;
}

async function benchMails(): Promise<Buffer[]> {
  const corpus = new CorpusGenerator({ seed: 2025, people: benchPeople(2025), bridgeAddress: 'status@example.test' });
  const out: Buffer[] = [];
  for (let i = 0; i < WARMUP + N; i++) out.push((await corpus.next({ deliveredTo: true })).raw);
  return out;
}

function emlFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.eml'))
    .sort();
}

async function allSamples(): Promise<Sample[]> {
  const raws: [string, Buffer][] = [];
  (await benchMails()).forEach((raw, i) => raws.push([`bench/${i}`, raw]));
  for (const m of loadCorpus()) raws.push([`corpus/${m.file}`, m.raw]);
  const real = corpusRealDir(process.env);
  for (const f of emlFiles(real)) raws.push([`real/${f}`, readFileSync(path.join(real, f))]);
  const fixtures = path.join(root, 'test/fixtures/mail');
  for (const f of emlFiles(fixtures)) raws.push([`fixtures/${f}`, readFileSync(path.join(fixtures, f))]);
  const out: Sample[] = [];
  for (const [id, raw] of raws) out.push({ id, raw, mail: (await parseMail(raw)).mail });
  return out;
}

/** Every output of conversion for one mail, by variant. */
function outputs(core: Core, mail: MailInput): Record<string, unknown> {
  const redactions = core.compileRedactions('card,iban');
  const own = mail.from?.address;
  const known = new Set([...mail.to, ...mail.cc].map((a) => a.address).concat(own ? [own] : []));
  return {
    ingest: core.renderMailContent(mail, { redactions }),
    textOnly: core.renderMailContent({ ...mail, html: null }, { redactions }),
    htmlOnly: core.renderMailContent({ ...mail, text: null }, { redactions }),
    options: core.renderMailContent(mail, { redactions, disclaimerPatterns: [/^confidential\b.*$/im, /unsubscribe/i], knownAddresses: known }),
    sanitiseHtml: mail.html === null ? null : core.sanitiseHtml(mail.html),
    htmlToPlainText: mail.html === null ? null : core.htmlToPlainText(mail.html),
    textToSafeHtml: mail.text === null ? null : core.textToSafeHtml(mail.text),
    extractVisibleText: mail.text === null ? null : core.extractVisibleText(mail.text),
    stripHtmlQuotes: mail.html === null ? null : core.stripHtmlQuotes(mail.html),
    stripHtmlSignature: mail.html === null ? null : core.stripHtmlSignature(mail.html),
  };
}

const hash = (v: unknown) => createHash('sha256').update(JSON.stringify(v) ?? 'undefined').digest('hex').slice(0, 16);

/** Hashes by mail, variant and field, so a difference can be named. */
function hashesOf(core: Core, samples: Sample[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const s of samples) {
    const row: Record<string, string> = {};
    for (const [variant, value] of Object.entries(outputs(core, s.mail))) {
      if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) row[`${variant}.${k}`] = hash(v);
      else row[variant] = hash(value);
    }
    out[s.id] = row;
  }
  return out;
}

async function loadCore(file: string | undefined): Promise<Core | null> {
  return file ? ((await import(path.resolve(file))) as Core) : null;
}

function convertAll(core: Core, mails: MailInput[]): number {
  const redactions = core.compileRedactions('card,iban');
  const c0 = process.cpuUsage();
  for (const mail of mails) core.renderMailContent(mail, { redactions });
  return cpuMs(process.cpuUsage(c0)) / mails.length;
}

async function parseAll(raws: Buffer[]): Promise<number> {
  const c0 = process.cpuUsage();
  for (const raw of raws) await simpleParser(raw);
  return cpuMs(process.cpuUsage(c0)) / raws.length;
}

/** The parse thread's work on each mail, as `runParseTask` does it; CPU per mail, and bytes of the results as sent back. */
async function pipelineAll(run: typeof parseAndConvert, raws: Buffer[], settings: CompiledParseSettings): Promise<{ ms: number; bytes: number }> {
  let bytes = 0;
  const c0 = process.cpuUsage();
  for (const raw of raws) bytes += serialize(await run(raw, settings)).length;
  return { ms: cpuMs(process.cpuUsage(c0)) / raws.length, bytes: bytes / raws.length };
}

type ParseAndConvert = typeof parseAndConvert;

async function pipeline(raws: Buffer[]): Promise<void> {
  const settings: CompiledParseSettings = current.compileConversion({ redact: 'card,iban' });
  const baseFile = process.env.BLEND_PARSE_BASE;
  const base = baseFile ? ((await import(path.resolve(baseFile))) as { parseAndConvert: ParseAndConvert }).parseAndConvert : null;
  await pipelineAll(parseAndConvert, raws, settings);
  if (base) await pipelineAll(base, raws, settings);
  await parseAll(raws.slice(0, 100));
  const profileFile = process.env.BENCH_CPU_PROFILE;
  if (profileFile) {
    const stop = await startCpuProfile(200);
    for (let r = 0; r < ROUNDS; r++) await pipelineAll(parseAndConvert, raws, settings);
    const profile = await stop();
    await saveProfile(profileFile, profile);
    console.log(formatSummary(summarise(profile, ['parseAndConvert', 'parseMail', 'simpleParser', 'prepareBodyParts', 'splitAttachedMessages', 'renderMailContent', 'convertMail', 'extractVisibleHtml', 'sanitiseHtml', 'sanitisedToPlainText', 'htmlToPlainText', 'textToSafeHtml', 'extractVisibleText', 'fitTextPart', 'forwardedMessages', 'redact', 'trimmedText', 'extractMentions', 'serialize'], 50)));
    return;
  }
  const parse: number[] = [];
  const blend: number[] = [];
  const was: number[] = [];
  let bytes = 0;
  for (let r = 0; r < ROUNDS; r++) {
    if (base) was.push((await pipelineAll(base, raws, settings)).ms);
    const p = await pipelineAll(parseAndConvert, raws, settings);
    blend.push(p.ms);
    bytes = p.bytes;
    parse.push(await parseAll(raws));
    say(`round ${r + 1}: bare mailparser ${parse.at(-1)!.toFixed(3)} ms, parseAndConvert ${blend.at(-1)!.toFixed(3)} ms per mail (${(blend.at(-1)! / parse.at(-1)!).toFixed(2)}x)` +
      (base ? `, base ${was.at(-1)!.toFixed(3)} ms (${(was.at(-1)! / parse.at(-1)!).toFixed(2)}x; this / base ${(blend.at(-1)! / was.at(-1)!).toFixed(3)})` : ''));
  }
  const ratios = blend.map((b, i) => b / parse[i]!);
  const spread = (xs: number[]) => `median ${median(xs).toFixed(2)}x (min ${Math.min(...xs).toFixed(2)}, max ${Math.max(...xs).toFixed(2)})`;
  say(`${N} benchmark mails: median of ${ROUNDS} rounds: bare mailparser ${median(parse).toFixed(3)} ms, parseAndConvert ${median(blend).toFixed(3)} ms per mail; ` +
    `ratio within rounds ${spread(ratios)}; result as sent back ${Math.round(bytes)} bytes a mail`);
  if (base) {
    say(`base: parseAndConvert ${median(was).toFixed(3)} ms per mail, ratio within rounds ${spread(was.map((w, i) => w / parse[i]!))}; ` +
      `this / base within rounds ${spread(blend.map((b, i) => b / was[i]!))}`);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

async function main(): Promise<void> {
  const [mode, file] = process.argv.slice(2);
  if (mode === 'hashes' || mode === 'check') {
    if (!file) throw new Error(`${mode} needs a file`);
    const samples = await allSamples();
    const got = hashesOf(current, samples);
    if (mode === 'hashes') {
      writeFileSync(file, JSON.stringify(got, null, 1));
      say(`${samples.length} mails, ${Object.values(got).reduce((n, r) => n + Object.keys(r).length, 0)} outputs hashed into ${file}`);
      return;
    }
    const want = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string>>;
    const diffs: string[] = [];
    for (const id of new Set([...Object.keys(want), ...Object.keys(got)])) {
      const a = want[id] ?? {};
      const b = got[id] ?? {};
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) if (a[k] !== b[k]) diffs.push(`${id} ${k}`);
    }
    say(`${samples.length} mails: ${diffs.length === 0 ? 'every output as before' : `${diffs.length} outputs differ`}`);
    for (const d of diffs.slice(0, 50)) say(`  differs: ${d}`);
    if (diffs.length > 0) process.exitCode = 1;
    return;
  }
  const raws = (await benchMails()).slice(WARMUP);
  if (mode === 'pipeline') return pipeline(raws);
  const mails: MailInput[] = [];
  for (const raw of raws) mails.push((await parseMail(raw)).mail);
  if (mode === 'profile') {
    if (!file) throw new Error('profile needs a file');
    // `profile FILE others`: the corpus, real and fixture mails instead of the benchmark's.
    const profiled = process.argv[4] === 'others' ? (await allSamples()).filter((s) => !s.id.startsWith('bench/')).map((s) => s.mail) : mails;
    convertAll(current, profiled);
    const stop = await startCpuProfile(200);
    for (let r = 0; r < ROUNDS; r++) convertAll(current, profiled);
    const profile = await stop();
    await saveProfile(file, profile);
    console.log(formatSummary(summarise(profile, ['renderMailContent', 'convertMail', 'extractVisibleHtml', 'htmlToPlainText', 'sanitiseHtml', 'textToSafeHtml', 'extractVisibleText', 'fitTextPart', 'splitForwarded', 'findVisibleLines', 'lineariseHtml', 'parseHtml', 'redact', 'trimmedText', 'extractMentions'], 40)));
    return;
  }
  if (mode !== 'cpu') throw new Error(`unknown mode ${JSON.stringify(mode)}: hashes, check, cpu, profile or pipeline`);
  const base = await loadCore(process.env.BLEND_CORE_BASE);
  // One untimed round of each, so every code path is compiled before it is timed.
  convertAll(current, mails);
  if (base) convertAll(base, mails);
  await parseAll(raws.slice(0, 50));
  // The other mails (conversion corpus, real mail, fixtures), timed apart: other sizes and shapes.
  const others = (await allSamples()).filter((s) => !s.id.startsWith('bench/'));
  const otherRaws = others.map((s) => s.raw);
  const otherMails = others.map((s) => s.mail);
  const runs: Record<string, number[]> = { parse: [], current: [], base: [], otherParse: [], otherCurrent: [], otherBase: [] };
  for (let r = 0; r < ROUNDS; r++) {
    if (base) runs.base!.push(convertAll(base, mails));
    runs.current!.push(convertAll(current, mails));
    runs.parse!.push(await parseAll(raws));
    if (base) runs.otherBase!.push(convertAll(base, otherMails));
    runs.otherCurrent!.push(convertAll(current, otherMails));
    runs.otherParse!.push(await parseAll(otherRaws));
    say(`round ${r + 1}: bare mailparser ${runs.parse!.at(-1)!.toFixed(2)} ms, conversion ${runs.current!.at(-1)!.toFixed(2)} ms${base ? `, base ${runs.base!.at(-1)!.toFixed(2)} ms` : ''} per mail`);
  }
  const line = (what: string, parse: number[], cur: number[], was: number[]) => {
    const p = median(parse);
    const c = median(cur);
    say(`${what}: median of ${ROUNDS} rounds: bare mailparser ${p.toFixed(2)} ms, conversion ${c.toFixed(2)} ms (${(c / p).toFixed(2)}x parse)` +
      (was.length ? `, base ${median(was).toFixed(2)} ms (${(median(was) / p).toFixed(2)}x parse)` : ''));
  };
  line(`${N} benchmark mails`, runs.parse!, runs.current!, runs.base!);
  line(`${others.length} corpus, real and fixture mails`, runs.otherParse!, runs.otherCurrent!, runs.otherBase!);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
