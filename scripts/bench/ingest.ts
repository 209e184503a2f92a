// `pnpm bench`: preload N realistic messages into a fresh IMAP mailbox, then measure in one
// run (a) raw imapflow fetch, (b) bare mailparser on one core, (c) Blend's end-to-end ingest,
// and the SMTP-to-API latency of single deliveries. See docs/BENCHMARKS.md.
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { addressingFrom } from '@blend/config';
import { bridgeAddress } from '@blend/core';
import { createProducerRedis } from '@blend/queue';
import { mailboxCount, withImap } from '../../test/support/mail-server';
import { startStack, type Stack } from '../../test/support/stack';
import { benchPeople, CorpusGenerator, type BenchMessage } from './corpus';
import { formatSummary, saveProfile, startCpuProfile, summarise } from './cpu-profile';
import { ingestAttempts, pgCounters, pgDelta, runEndToEnd, waitForImapMarks } from './end-to-end';
import { startSink, type Sink } from './digest-sink';
import { measureLatency, measureLatencyUnderLoad, type LoadLatencyResult } from './latency';
import { commandLine, DOCS_FILE, emptyMailbox, intEnv, root, runBench, runSteps, sayer, writesDocs } from './harness';
import { blendRevision, cpuSnapshot, cpuUse, machineFacts } from './machine';
import { measureFetch, measureParse, medianOf } from './raw-stages';
import { figures, resultTables, TARGET_CB, TARGET_P95_MS, writeDocs, type BenchReport } from './report';
import { percentile } from './stats';

const say = sayer('bench');

const N = intEnv('BENCH_MESSAGES', 5000);
const PROBES = intEnv('BENCH_PROBES', 50);
const ROUNDS = intEnv('BENCH_ROUNDS', 3);
const SEED = intEnv('BENCH_SEED', 2025, 0);
const TIMEOUT_S = intEnv('BENCH_TIMEOUT_S', 600);
/** Deliveries, one a second, timed while (c)'s backlog is ingested. */
const LOAD_PROBES = intEnv('BENCH_LOAD_PROBES', 20, 0);

/** Functions whose inclusive CPU time splits (c) into its parts in the profile summary. */
const PROFILE_ENTRY_POINTS = [
  'ingest', 'parseMail', 'checkSender', 'extractVisibleText', 'textToSafeHtml', 'classify', 'applyDecision',
  'syncOnce', 'storeFetched', 'enqueueIngest', 'markDone', 'moveToFinished', 'handleDataRow',
];

const RATE_LIMITS_OFF = {
  BLEND_RATE_SENDER_PER_MINUTE: '0',
  BLEND_RATE_SENDER_PER_HOUR: '0',
  BLEND_RATE_THREAD_PER_MINUTE: '0',
  BLEND_RATE_ORG_PER_MINUTE: '0',
};

interface Resources {
  stack?: Stack;
  redis?: Redis;
  sink?: Sink;
}

async function main(res: Resources): Promise<BenchReport> {
  const machine = await machineFacts();
  // Read before the run: others may change the tree while it runs.
  const revision = await blendRevision(root);
  say(`${machine.cpuModel}, ${machine.cores} cores; ${N} messages, ${PROBES} probes`);
  // The same wiring as the end-to-end tests: own database, mail domain and queue prefix.
  // Blend's production defaults apply except where the environment tunes them.
  const tuning: Record<string, string> = {};
  for (const k of ['WORKER_CONCURRENCY', 'BLEND_IMAP_BATCH_SIZE', 'BLEND_POLL_INTERVAL_MS']) {
    const v = process.env[k];
    if (v) tuning[k] = v;
  }
  // The anti-abuse rate limits are off (0) unless BENCH_RATE_LIMITS=default: they judge a
  // backlog by when Blend processes it, not when the mail arrived (see docs/BENCHMARKS.md).
  const rateLimits = process.env.BENCH_RATE_LIMITS === 'default' ? {} : RATE_LIMITS_OFF;
  // Blend's own mail (receipts, notices, mirrored comments) goes to a sink that accepts and
  // discards it, as a real MTA would deliver it. Through Postfix it would bounce back
  // (the bench's senders have no mailboxes here) and be ingested again as bounces.
  const sink = (res.sink = await startSink());
  const stack = (res.stack = await startStack(
    { BLEND_POLL_INTERVAL_MS: '30000', LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent', BLEND_SMTP_URL: sink.url, ...rateLimits, ...tuning },
    { poller: false },
  ));
  // startStack starts the worker; (c) times the services from their start.
  await stack.stopWorker();
  const { config, db, mail } = stack;
  say(`database ${db.name}, mail domain ${mail.domain}, queue prefix ${config.BLEND_QUEUE_PREFIX}`);
  const redis = (res.redis = createProducerRedis(config.REDIS_URL));
  redis.on('error', () => undefined);

  const people = benchPeople(SEED);
  const tokens: string[] = [];
  for (const p of people) tokens.push(await stack.person(p.email, { name: p.name, optIn: true }));

  const bridge = bridgeAddress(addressingFrom(config), { kind: 'status' });
  const generator = new CorpusGenerator({ seed: SEED, people, bridgeAddress: bridge });
  say(`generating ${N} messages (seed ${SEED}) and appending them to ${mail.user}'s INBOX...`);
  const corpus: BenchMessage[] = [];
  for (let i = 0; i < N; i++) corpus.push(await generator.next({ deliveredTo: true }));
  const sizes = corpus.map((m) => m.raw.length).sort((x, y) => x - y);
  const t0 = performance.now();
  await withImap(mail.imapUrl, async (client, target) => {
    // One connection, in order: replies get higher UIDs than the messages they answer.
    for (const m of corpus) await client.append(target.mailbox, m.raw, [], m.date);
  });
  const preloadSeconds = (performance.now() - t0) / 1000;
  const inMailbox = await mailboxCount(mail.imapUrl);
  if (inMailbox !== N) throw new Error(`mailbox holds ${inMailbox} messages after the preload, expected ${N}`);
  const corpusFacts = {
    replies: corpus.filter((m) => m.kind === 'reply').length,
    attachments: corpus.filter((m) => m.attachment).length,
    minBytes: sizes[0]!,
    medianBytes: percentile(sizes, 50),
    maxBytes: sizes.at(-1)!,
    totalBytes: sizes.reduce((a, b) => a + b, 0),
  };
  // Keep only what the threading check needs: the sources would sit in this process's heap
  // while Blend's worker runs in it.
  const meta = corpus.map((m) => ({ ...m, raw: Buffer.alloc(0) }));
  corpus.length = 0;

  say(`(a) raw imapflow fetch, ${ROUNDS} rounds...`);
  let sources: Buffer[] = [];
  const fetchOnlyRuns: number[] = [];
  const fetch = await medianOf(ROUNDS, async () => {
    const r = await measureFetch(mail.imapUrl);
    if (r.sources.length !== N) throw new Error(`fetched ${r.sources.length} messages, expected ${N}`);
    sources = r.sources;
    fetchOnlyRuns.push(r.fetchSeconds);
    return r.seconds;
  });
  say(`(b) mailparser on one core, ${ROUNDS} rounds each of simpleParser and parseMail...`);
  const parseBare = await medianOf(ROUNDS, () => measureParse(sources, 'simpleParser (defaults)'));
  const parseBlend = await medianOf(ROUNDS, () => measureParse(sources, 'parseMail (Blend options)'));
  sources = [];

  say(`(c) Blend end to end (WORKER_CONCURRENCY=${config.WORKER_CONCURRENCY}, BLEND_IMAP_BATCH_SIZE=${config.BLEND_IMAP_BATCH_SIZE})...`);
  const pgBefore = await pgCounters(db.pool, config);
  const profileFile = process.env.BENCH_CPU_PROFILE;
  const stopProfile = profileFile ? await startCpuProfile() : null;
  const cpu0 = cpuSnapshot();
  let underLoad: Promise<LoadLatencyResult> | undefined;
  const start = async () => {
    await stack.startWorker();
    // Returns once the poller's first sync has stored the backlog: the worker is then behind.
    await stack.startPoller();
    if (LOAD_PROBES > 0) {
      say(`latency under load: ${LOAD_PROBES} deliveries, one a second, while the backlog is ingested...`);
      underLoad = measureLatencyUnderLoad({
        pool: db.pool, generator, smtpUrl: mail.smtpUrl, imapUrl: mail.imapUrl, bridgeAddress: bridge,
        count: LOAD_PROBES, tag: config.BLEND_QUEUE_PREFIX, everyMs: 1000, timeoutMs: TIMEOUT_S * 1000,
      });
    }
  };
  const e2e = await runEndToEnd(db.pool, start, meta, TIMEOUT_S * 1000);
  const loadLatency = underLoad ? await underLoad : undefined;
  const cpuIngest = cpuUse(cpu0, cpuSnapshot());
  if (stopProfile && profileFile) {
    const profile = await stopProfile();
    await saveProfile(profileFile, profile);
    say(`CPU profile of (c) written to ${profileFile}\n${formatSummary(summarise(profile, PROFILE_ENTRY_POINTS))}`);
  }
  const attempts = await ingestAttempts(redis, config.BLEND_QUEUE_PREFIX);
  const outbound = await outboundDuring(db.pool, sink);
  const marksSeconds = await waitForImapMarks(db.pool);
  const pgAll = pgDelta(pgBefore, await pgCounters(db.pool, config));
  // The load probes' polling is the benchmark's, not Blend's: its queries are not counted.
  const pg = { ...pgAll, commits: pgAll.commits - (loadLatency?.queries ?? 0) };

  say(`latency: ${PROBES} single deliveries over SMTP...`);
  const cpu1 = cpuSnapshot();
  const { samples: latency, stoppedBy: latencyStoppedBy } = await measureLatency({
    app: stack.app, token: tokens[0]!, pool: db.pool, generator, smtpUrl: mail.smtpUrl, imapUrl: mail.imapUrl, bridgeAddress: bridge,
    count: PROBES, tag: config.BLEND_QUEUE_PREFIX, seed: SEED,
  });
  const cpuLatency = cpuUse(cpu1, cpuSnapshot());

  const versions = await db.pool.query<{ v: string; sc: string; sb: string }>(
    "select version() as v, current_setting('synchronous_commit') as sc, current_setting('shared_buffers') as sb",
  );
  const redisInfo = await redis.info('server');
  const v = versions.rows[0]!;
  return {
    date: new Date().toISOString(),
    command: commandLine('pnpm bench', ['BENCH_MESSAGES', 'BENCH_PROBES', 'BENCH_LOAD_PROBES', 'BENCH_ROUNDS', 'BENCH_SEED', 'BENCH_RATE_LIMITS', 'WORKER_CONCURRENCY', 'BLEND_IMAP_BATCH_SIZE', 'BLEND_POLL_INTERVAL_MS']),
    revision,
    machine,
    servers: {
      postgres: v.v.split(' on ')[0]!,
      pgSettings: `synchronous_commit=${v.sc}, shared_buffers=${v.sb}`,
      redis: /redis_version:(\S+)/.exec(redisInfo)?.[1] ?? 'unknown',
    },
    params: {
      messages: N, probes: PROBES, rounds: ROUNDS, seed: SEED,
      workerConcurrency: config.WORKER_CONCURRENCY, batchSize: config.BLEND_IMAP_BATCH_SIZE,
      pollIntervalMs: config.BLEND_POLL_INTERVAL_MS, logLevel: config.LOG_LEVEL,
      rateLimits: process.env.BENCH_RATE_LIMITS === 'default' ? "Blend's defaults" : 'off',
    },
    corpus: corpusFacts,
    preloadSeconds,
    fetch: { seconds: fetch.median, runs: fetch.runs, fetchOnlyRuns },
    parseBare: { seconds: parseBare.median, runs: parseBare.runs },
    parseBlend: { seconds: parseBlend.median, runs: parseBlend.runs },
    e2e, attempts, outbound, marksSeconds, pg, cpuIngest, cpuLatency, latency, latencyStoppedBy,
    ...(loadLatency ? { loadLatency: { samples: loadLatency.samples, stoppedBy: loadLatency.stoppedBy } } : {}),
  };
}

/** Blend's outbox when (c) ended, by kind and state, and what the sink had received by then. */
async function outboundDuring(pool: Stack['db']['pool'], sink: Sink): Promise<BenchReport['outbound']> {
  const rows = await pool.query<{ kind: string; state: string; n: number }>('select kind, state, count(*)::int as n from outbound_messages group by 1, 2 order by 3 desc');
  const byKind: Record<string, number> = {};
  const byState: Record<string, number> = {};
  for (const r of rows.rows) {
    byKind[r.kind] = (byKind[r.kind] ?? 0) + r.n;
    byState[r.state] = (byState[r.state] ?? 0) + r.n;
  }
  return { byKind, byState, atSink: (await sink.stats()).messages };
}

/**
 * Stop the services and drop the database and queue keys (Stack.stop), and expunge the
 * mailbox. Each step runs even if one fails.
 */
async function cleanup(res: Resources): Promise<void> {
  const stack = res.stack;
  await runSteps('bench', [
    ['stop the services', async () => {
      await stack?.stopPoller();
      await stack?.stopWorker();
    }],
    ['empty the mailbox', async () => stack && emptyMailbox(stack.mail.imapUrl)],
    ['drop the database and queue keys', async () => stack?.stop()],
    // Stack.stop() deletes the keys before BullMQ has closed its queues, which write their
    // `meta` keys again; sweep once more.
    ['sweep the queue keys', async () => stack && res.redis && deleteKeys(res.redis, `${stack.config.BLEND_QUEUE_PREFIX}:*`)],
    ['close redis', async () => res.redis?.disconnect()],
    ['stop the SMTP sink', async () => res.sink?.stop()],
  ]);
}

async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  const keys = await redis.keys(pattern);
  if (keys.length > 0) await redis.del(...keys);
}

await runBench<Resources, BenchReport>({
  label: 'bench',
  resources: {},
  main,
  cleanup,
  finish: async (report) => {
    const f = figures(report);
    process.stdout.write(`\n${resultTables(report)}\n`);
    if (writesDocs()) {
      await writeDocs(DOCS_FILE, report);
      say('wrote docs/BENCHMARKS.md');
    }
    return [
      ...(f.passCb ? [] : [`c/b ${f.cb.toFixed(3)} < ${TARGET_CB}`]),
      ...(f.passP95 ? [] : [`p95 ${Math.round(f.p95)} ms > ${TARGET_P95_MS} ms`]),
    ];
  },
});
