// `pnpm bench digest`: populate a feed for N people, then measure in one run (a) Blend building
// their daily digests and its send worker handing them to a local SMTP sink, and (b) bare
// nodemailer sending the same mails, pre-composed, to the same sink. See docs/BENCHMARKS.md.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { addressingFrom, loadConfig, publicUrl } from '@blend/config';
import { createLogger } from '@blend/runtime';
import { createDb, type DbHandle } from '@blend/db';
import { warmTemplates } from '@blend/mail';
import { createProducerRedis } from '@blend/queue';
import { createTestDatabase, type TestDatabase } from '../../test/support/database';
import { formatSummary, saveProfile, startCpuProfile, summarise } from './cpu-profile';
import { populateFeed } from './digest-feed';
import { composedDigests, runBaseline, runBlend, runBlendDeployed, smtpPool, type BaselineRun } from './digest-measure';
import { digestFigures, digestTables, TARGET_RATIO, TARGET_SECONDS, writeDigestDocs, type DigestReport, type Stat } from './digest-report';
import { startSink, type Sink } from './digest-sink';
import { pgCounters, pgDelta } from './end-to-end';
import { commandLine, DOCS_FILE, intEnv, optionalIntEnv, root, runBench, runSteps, sayer, writesDocs } from './harness';
import { blendRevision, machineFacts } from './machine';
import type pg from 'pg';
import { buildDist } from '../build';

const say = sayer('bench digest');

const PEOPLE = intEnv('BENCH_PEOPLE', 10_000);
const DUE = Math.min(PEOPLE, intEnv('BENCH_DUE', PEOPLE));
const GROUPS = intEnv('BENCH_GROUPS', 50);
const ROUNDS = intEnv('BENCH_ROUNDS', 3);
const SEED = intEnv('BENCH_SEED', 2025, 0);
const TIMEOUT_MS = intEnv('BENCH_TIMEOUT_S', 600) * 1000;
const BATCH = optionalIntEnv('BENCH_DIGEST_BATCH');
const PARALLEL = optionalIntEnv('BENCH_DIGEST_PARALLEL');
/**
 * `worker` (default): (a) runs Blend's worker service as deployed, `node dist/worker.mjs` in a
 * process of its own; `bench`: in the benchmark's process, as the runs before 2026-12-06 did.
 */
const MODE = process.env.BENCH_DIGEST_PROCESS === 'bench' ? 'bench' : 'worker';

/** Functions whose inclusive CPU time splits (a) into its parts in the profile summary. */
const PROFILE_ENTRY_POINTS = ['runDueDigests', 'digestActivity', 'digestActivityBatch', 'composeDigest', 'renderDigestMail', 'writeOutboundMails', 'send', 'composeOutbound', 'sendMail', 'handleDataRow'];

interface Resources {
  db?: TestDatabase;
  blendDb?: DbHandle;
  sink?: Sink;
  prefix?: string;
  /** Where the worker writes its CPU profile (BENCH_CPU_PROFILE). */
  profileDir?: string;
}

const mkdtempDir = () => mkdtemp(path.join(os.tmpdir(), 'blend-digest-prof-'));

async function main(res: Resources): Promise<DigestReport> {
  const machine = await machineFacts();
  const revision = await blendRevision(root);
  say(`${machine.cpuModel}, ${machine.cores} cores; ${PEOPLE} people (${DUE} due), ${GROUPS} groups`);
  const db = (res.db = await createTestDatabase());
  say(`database ${db.name}: writing the feed...`);
  const feed = await populateFeed(db.pool, { people: PEOPLE, due: DUE, groups: GROUPS, authorsPerGroup: 5, seed: SEED });
  say(`feed written in ${feed.seconds.toFixed(1)} s: ${feed.newPosts} posts + ${feed.newComments} comments since the last digest, ${feed.itemsPerReader.mean.toFixed(1)} per reader`);

  const sink = (res.sink = await startSink());
  const prefix = (res.prefix = `bd${randomBytes(4).toString('hex')}`);
  const config = loadConfig({
    DATABASE_URL: db.url,
    REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    BLEND_IMAP_URL: 'imap://unused@127.0.0.1/INBOX',
    BLEND_SMTP_URL: sink.url,
    BLEND_MAIL_DOMAIN: `${prefix}.test`,
    BLEND_SECRET: randomBytes(32).toString('hex'),
    BLEND_QUEUE_PREFIX: prefix,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent',
    ...(process.env.BLEND_SEND_CONCURRENCY ? { BLEND_SEND_CONCURRENCY: process.env.BLEND_SEND_CONCURRENCY } : {}),
    ...(process.env.BLEND_SEND_BATCH ? { BLEND_SEND_BATCH: process.env.BLEND_SEND_BATCH } : {}),
    ...(process.env.BLEND_SMTP_MAX_CONNECTIONS ? { BLEND_SMTP_MAX_CONNECTIONS: process.env.BLEND_SMTP_MAX_CONNECTIONS } : {}),
    ...(process.env.BLEND_SMTP_MAX_MESSAGES ? { BLEND_SMTP_MAX_MESSAGES: process.env.BLEND_SMTP_MAX_MESSAGES } : {}),
  });
  const log = createLogger('bench', config.LOG_LEVEL);
  // The worker service's own pool (createDb's defaults), apart from the benchmark's.
  const blendDb = (res.blendDb = createDb(config.DATABASE_URL, { onError: (err) => log.warn({ err }, 'idle Postgres client error') }));
  const w0 = performance.now();
  await warmTemplates();
  const warmSeconds = (performance.now() - w0) / 1000;

  const profileFile = process.env.BENCH_CPU_PROFILE;
  const wiring = {
    config, db: blendDb.db, pool: db.pool, log, sink, timeoutMs: TIMEOUT_MS,
    site: { addressing: addressingFrom(config), publicUrl: publicUrl(config), secret: config.BLEND_SECRET },
    ...(BATCH ? { batchSize: BATCH } : {}),
    ...(PARALLEL ? { parallel: PARALLEL } : {}),
  };
  let blend;
  let pg;
  if (MODE === 'worker') {
    if (BATCH || PARALLEL) throw new Error('BENCH_DIGEST_BATCH and BENCH_DIGEST_PARALLEL apply to BENCH_DIGEST_PROCESS=bench only');
    say('building dist/ (pnpm build), which the worker runs as in production...');
    await buildDist();
    // The profile is written by the worker's Node when it exits (--cpu-prof).
    const profileDir = profileFile ? (res.profileDir = await mkdtempDir()) : undefined;
    const env = {
      DATABASE_URL: config.DATABASE_URL, REDIS_URL: config.REDIS_URL, BLEND_IMAP_URL: config.BLEND_IMAP_URL, BLEND_SMTP_URL: config.BLEND_SMTP_URL,
      BLEND_MAIL_DOMAIN: `${prefix}.test`, BLEND_SECRET: config.BLEND_SECRET, BLEND_QUEUE_PREFIX: prefix, LOG_LEVEL: config.LOG_LEVEL,
      BLEND_SENDER_AUTH: 'none', BLEND_ORG_DOMAINS: `${prefix}.test`, BLEND_WORKER_HEALTH_PORT: '0', BLEND_MIGRATE_ON_START: 'false',
      BLEND_DIGEST_TICK_MS: '3600000', BLEND_NOTIFY_SWEEP_MS: '600000',
      BLEND_SEND_CONCURRENCY: String(config.BLEND_SEND_CONCURRENCY), BLEND_SEND_BATCH: String(config.BLEND_SEND_BATCH),
      BLEND_SMTP_MAX_CONNECTIONS: String(config.BLEND_SMTP_MAX_CONNECTIONS), BLEND_SMTP_MAX_MESSAGES: String(config.BLEND_SMTP_MAX_MESSAGES),
      ...(profileDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir} --cpu-prof-interval=500` } : {}),
    };
    say(`(a) Blend's worker (dist/worker.mjs; BLEND_SEND_CONCURRENCY=${config.BLEND_SEND_CONCURRENCY}, BLEND_SEND_BATCH=${config.BLEND_SEND_BATCH}): one digest tick to ${sink.url}...`);
    const pgBefore = await pgCounters(db.pool, config);
    blend = await runBlendDeployed({ ...wiring, env });
    pg = pgDelta(pgBefore, await pgCounters(db.pool, config));
    if (profileDir && profileFile) {
      const files = (await readdir(profileDir)).filter((f) => f.endsWith('.cpuprofile'));
      if (files.length === 0) say('no CPU profile was written by the worker');
      else {
        const text = await readFile(path.join(profileDir, files[0]!), 'utf8');
        await writeFile(profileFile, text);
        say(`CPU profile of the worker (its whole life, start-up included) written to ${profileFile}\n${formatSummary(summarise(JSON.parse(text), PROFILE_ENTRY_POINTS))}`);
      }
    }
  } else {
    say(`(a) Blend: runDueDigests + send worker (BLEND_SEND_CONCURRENCY=${config.BLEND_SEND_CONCURRENCY}, BLEND_SEND_BATCH=${config.BLEND_SEND_BATCH}) in this process to ${sink.url}...`);
    const pgBefore = await pgCounters(db.pool, config);
    const stopProfile = profileFile ? await startCpuProfile() : null;
    blend = await runBlend(wiring);
    pg = pgDelta(pgBefore, await pgCounters(db.pool, config));
    if (stopProfile && profileFile) {
      const profile = await stopProfile();
      await saveProfile(profileFile, profile);
      say(`CPU profile of (a) written to ${profileFile}\n${formatSummary(summarise(profile, PROFILE_ENTRY_POINTS))}`);
    }
  }
  say(`(a) ${blend.sent} digests at the sink after ${blend.totalSeconds.toFixed(2)} s (built in ${blend.buildSeconds.toFixed(2)} s)`);
  if (blend.sent !== DUE) throw new Error(`runDueDigests sent ${blend.sent} digests, expected ${DUE} (empty ${blend.empty})`);
  const digests = await digestFacts(db.pool);

  say(`(b) bare nodemailer, ${ROUNDS} rounds of the same ${blend.sent} mails...`);
  let mails: Awaited<ReturnType<typeof composedDigests>> | null = await composedDigests(db.pool, { addressing: addressingFrom(config), secret: config.BLEND_SECRET });
  const runs: BaselineRun[] = [];
  for (let i = 0; i < ROUNDS; i++) runs.push(await runBaseline(mails, sink, TIMEOUT_MS, smtpPool(config)));
  mails = null;
  const median = [...runs].sort((x, y) => x.seconds - y.seconds)[Math.floor((runs.length - 1) / 2)]!;

  const v = (await db.pool.query<{ v: string; sc: string; sb: string }>(
    "select version() as v, current_setting('synchronous_commit') as sc, current_setting('shared_buffers') as sb",
  )).rows[0]!;
  const redis = createProducerRedis(config.REDIS_URL);
  const redisInfo = await redis.info('server');
  redis.disconnect();
  return {
    date: new Date().toISOString(),
    command: commandLine('pnpm bench digest', ['BENCH_PEOPLE', 'BENCH_DUE', 'BENCH_GROUPS', 'BENCH_ROUNDS', 'BENCH_SEED', 'BENCH_DIGEST_PROCESS', 'BENCH_DIGEST_BATCH', 'BENCH_DIGEST_PARALLEL', 'BLEND_SEND_CONCURRENCY', 'BLEND_SEND_BATCH', 'BLEND_SMTP_MAX_CONNECTIONS', 'BLEND_SMTP_MAX_MESSAGES']),
    revision,
    machine,
    servers: {
      postgres: v.v.split(' on ')[0]!,
      pgSettings: `synchronous_commit=${v.sc}, shared_buffers=${v.sb}`,
      redis: /redis_version:(\S+)/.exec(redisInfo)?.[1] ?? 'unknown',
    },
    params: {
      people: PEOPLE, due: DUE, groups: GROUPS, rounds: ROUNDS, seed: SEED,
      workerConcurrency: config.BLEND_SEND_CONCURRENCY,
      sendBatch: config.BLEND_SEND_BATCH,
      smtpPool: smtpPool(config),
      process: MODE,
      batchSize: BATCH ? String(BATCH) : 'default', parallel: PARALLEL ? String(PARALLEL) : 'default',
      logLevel: config.LOG_LEVEL,
    },
    feed, warmSeconds, blend, digests,
    baseline: { runs, median },
    pg,
    maxRss: process.resourceUsage().maxRSS * 1024,
  };
}

/** Updates and threads per digest (from the subject Blend writes) and body sizes. */
async function digestFacts(pool: pg.Pool): Promise<DigestReport['digests']> {
  const { rows } = await pool.query<{ subject: string; bytes: number }>(
    `select subject, octet_length(text_body) + coalesce(octet_length(html_body), 0) as bytes from outbound_messages where kind = 'digest'`,
  );
  const stat = (xs: number[]): Stat => ({ min: Math.min(...xs), mean: xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length), max: Math.max(...xs) });
  const num = (re: RegExp, s: string) => Number(re.exec(s)?.[1] ?? NaN);
  return {
    updates: stat(rows.map((r) => num(/(\d+) updates?/, r.subject))),
    threads: stat(rows.map((r) => num(/(\d+) threads?/, r.subject))),
    bodyBytes: stat(rows.map((r) => r.bytes)),
  };
}

/** Close Blend's pool, drop the database and the queue keys, stop the sink; each step runs even if one fails. */
async function cleanup(res: Resources): Promise<void> {
  await runSteps('bench digest', [
    ['close the pool', async () => res.blendDb?.close()],
    ['drop the database', async () => res.db?.drop()],
    ['delete the queue keys', async () => {
      if (!res.prefix) return;
      const redis = createProducerRedis(process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379');
      try {
        const keys = await redis.keys(`${res.prefix}:*`);
        if (keys.length > 0) await redis.del(...keys);
      } finally {
        redis.disconnect();
      }
    }],
    ['stop the SMTP sink', async () => res.sink?.stop()],
    ['remove the profile folder', async () => (res.profileDir ? rm(res.profileDir, { recursive: true, force: true }) : undefined)],
  ]);
}

await runBench<Resources, DigestReport>({
  label: 'bench digest',
  resources: {},
  main,
  cleanup,
  finish: async (report) => {
    const f = digestFigures(report);
    process.stdout.write(`\n${digestTables(report)}\n`);
    if (writesDocs()) {
      await writeDigestDocs(DOCS_FILE, report);
      say('wrote the digest section of docs/BENCHMARKS.md');
    }
    return [
      ...(f.passSeconds ? [] : [`${report.blend.totalSeconds.toFixed(1)} s for ${report.params.due} ≥ ${TARGET_SECONDS} s per 10,000`]),
      ...(f.passRatio ? [] : [`a/b ${f.ratio.toFixed(2)} < ${TARGET_RATIO}`]),
    ];
  },
});
