// `pnpm bench ingest`: preload N realistic messages into a fresh IMAP mailbox, then measure in
// one run (a) raw imapflow fetch, (b) bare mailparser on one core, (c) Blend's end-to-end ingest
// by its worker and poller, each a process of its own as deployed (built by `pnpm build`), with
// CPU and Postgres commits by process, and the SMTP-to-API latency of single deliveries. See
// docs/BENCHMARKS.md.
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Profiler } from 'node:inspector';
import type { Redis } from 'ioredis';
import { addressingFrom } from '@blend/config';
import { bridgeAddress } from '@blend/core';
import { createProducerRedis, createQueues, type Queues } from '@blend/queue';
import { mailboxCount, withImap } from '../../test/support/mail-server';
import { countTransactions } from '../../test/support/count-transactions';
import { serviceEnv, startStack, type Stack } from '../../test/support/stack';
import { buildDist } from '../build';
import { benchPeople, CorpusGenerator, type BenchMessage } from './corpus';
import { formatSummary, summarise } from './cpu-profile';
import { ingestAttempts, pgCounters, pgDelta, runEndToEnd, waitForImapMarks } from './end-to-end';
import { formatPollerSteps, heardLog, pollerLogLevel } from './ingest-heard';
import { startSink, type Sink } from './digest-sink';
import { formatProbeStages, formatStages, measureLatency, measureLatencyUnderLoad, type LoadLatencyResult } from './latency';
import { commandLine, DOCS_FILE, emptyMailbox, intEnv, root, runBench, runSteps, sayer, writesDocs } from './harness';
import { blendRevision, machineFacts } from './machine';
import { buildPgCount, pgCountEnv, pgCountsNow, readPgCounts } from './pg-count';
import { startPgRelay, type PgRelay } from './pg-relay';
import { zeroCounts, type PgCounts } from './pg-tx';
import { sampleProcessCpu } from './process-cpu';
import { measureFetch, measureParse, medianOf } from './raw-stages';
import { figures, resultTables, TARGET_CB, TARGET_P95_MS, writeDocs, type BenchReport } from './report';
import { composeNodeOptions, startServices, type Services } from './services';
import { percentile } from './stats';

const say = sayer('bench');

const N = intEnv('BENCH_MESSAGES', 5000);
const PROBES = intEnv('BENCH_PROBES', 50);
const ROUNDS = intEnv('BENCH_ROUNDS', 3);
const SEED = intEnv('BENCH_SEED', 2025, 0);
/** The longest (c) may take, and a load probe may wait: 600 s, or 0.3 s a message for larger backlogs. */
const TIMEOUT_S = intEnv('BENCH_TIMEOUT_S', Math.max(600, Math.ceil(N * 0.3)));
/** Deliveries, one a second, timed while (c)'s backlog is ingested. */
const LOAD_PROBES = intEnv('BENCH_LOAD_PROBES', 20, 0);
/**
 * `BENCH_LIVE_WORKER=1`: live mail in a worker process of its own (`BLEND_WORKER_QUEUES=ingest`),
 * the rest in the other at nice `BENCH_BACKLOG_NICE` (10) (docs/ARCHITECTURE.md "Processes and the flow").
 */
const LIVE_WORKER = process.env.BENCH_LIVE_WORKER === '1';
const BACKLOG_NICE = intEnv('BENCH_BACKLOG_NICE', 10, 0);
/**
 * `BENCH_PG_RELAY=1`: each service reaches Postgres through a counting relay in this process
 * (pg-relay.ts), which sees the wire; by default each counts its own transactions in-process
 * (pg-count-preload.ts) and connects to Postgres directly, as deployed.
 */
const PG_RELAY = process.env.BENCH_PG_RELAY === '1';

/** Functions whose inclusive CPU time splits (c) into its parts in the profile summary. */
const PROFILE_ENTRY_POINTS = [
  'ingest', 'parseMail', 'checkSender', 'extractVisibleText', 'textToSafeHtml', 'classify', 'applyDecision',
  'syncOnce', 'storeFetched', 'enqueueIngest', 'markDone', 'moveToFinished', 'handleDataRow',
];

/** How late Postgres may publish a backend's counts (PGSTAT_IDLE_INTERVAL, 10 s), and a margin. */
const PG_STATS_LAG_MS = 11_000;

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
  queues?: Queues;
  services?: Services | null;
  relays?: Record<'poller' | 'worker', PgRelay> | null;
  /** The run's own build of the services (see {@link buildDist}). */
  dist?: string;
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
  // The stack gives the database, mail domain, queue prefix and the API the single-delivery
  // probes read; its in-process worker is stopped at once: the services run as processes of
  // their own, built as production runs them, with the settings the stack was given.
  const stack = (res.stack = await startStack(
    { BLEND_POLL_INTERVAL_MS: '30000', LOG_LEVEL: 'silent', BLEND_SMTP_URL: sink.url, ...rateLimits, ...tuning },
    { poller: false },
  ));
  await stack.stopWorker();
  const { config, db, mail } = stack;
  say(`database ${db.name}, mail domain ${mail.domain}, queue prefix ${config.BLEND_QUEUE_PREFIX}`);
  const redis = (res.redis = createProducerRedis(config.REDIS_URL));
  redis.on('error', () => undefined);
  const queues = (res.queues = createQueues(redis, config.BLEND_QUEUE_PREFIX));
  const profileDir = process.env.BENCH_CPU_PROFILE;
  // BENCH_NODE_OPTIONS: more Node options for both services (and the worker's parse threads), e.g. a preload.
  const nodeOptions = [profileDir ? `--cpu-prof --cpu-prof-dir=${path.resolve(profileDir)}` : '', process.env.BENCH_NODE_OPTIONS ?? ''].filter(Boolean).join(' ');
  const env = serviceEnv(stack, {
    ...rateLimits, ...tuning,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent',
    BLEND_POLL_INTERVAL_MS: String(config.BLEND_POLL_INTERVAL_MS),
    BLEND_ORG_DOMAINS: config.BLEND_ORG_DOMAINS.join(','),
    ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
  });
  // A build of its own, so a `pnpm build` elsewhere in the checkout cannot replace the programs
  // while they run; inside the checkout, where the services find migrations/.
  const dist = (res.dist = path.join(root, '.blend', `bench-${config.BLEND_QUEUE_PREFIX}`));
  say(`building the services (pnpm build) into ${path.relative(root, dist)}/...`);
  await buildDist(dist);
  const pgCount = PG_RELAY ? null : await buildPgCount(dist);

  const people = benchPeople(SEED);
  const tokens: string[] = [];
  for (const p of people) tokens.push(await stack.person(p.email, { name: p.name, optIn: true }));
  const setupDone = performance.now();

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
  // Keep only what the threading check needs.
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

  say(`(c) Blend end to end: worker and poller processes (WORKER_CONCURRENCY=${config.WORKER_CONCURRENCY}, BLEND_IMAP_BATCH_SIZE=${config.BLEND_IMAP_BATCH_SIZE})${LIVE_WORKER ? `, live mail in a worker process of its own, the other at nice ${BACKLOG_NICE}` : ''}...`);
  // What this process sends to the run's database (progress sampling, probes, the API) is
  // counted here, so Blend's services' commits are the database's less these.
  const ownTx = countTransactions(db.pool);
  // A backend publishes its counts when idle, up to PGSTAT_IDLE_INTERVAL (10 s) late: let the
  // setup's commits arrive before the first reading (a large run's preload takes longer anyway).
  await new Promise((r) => setTimeout(r, Math.max(0, setupDone + PG_STATS_LAG_MS - performance.now())));
  const pgBefore = await pgCounters(db.pool, config);
  // Postgres counts per database only: each service counts its own transactions, in-process
  // (pgCount) or, with BENCH_PG_RELAY=1, in a relay of its own between it and Postgres.
  const pgUrl = new URL(config.DATABASE_URL);
  const pgPort = Number(pgUrl.port || 5432);
  const relays = !PG_RELAY ? null : (res.relays = {
    poller: await startPgRelay(pgUrl.hostname, pgPort),
    worker: await startPgRelay(pgUrl.hostname, pgPort),
  });
  const counting = (name: 'poller' | 'worker'): Record<string, string> => {
    if (pgCount) return pgCountEnv(pgCount, name, env.NODE_OPTIONS);
    const u = new URL(config.DATABASE_URL);
    u.hostname = '127.0.0.1';
    u.port = String(relays![name].port);
    return { DATABASE_URL: u.toString() };
  };
  const servicePids: Record<string, number> = {};
  // When the poller learned of each mail, from its debug log: Blend's share of a probe's latency
  // starts there (docs/BENCHMARKS.md, "Blend's share of the latency").
  const heard = heardLog();
  const cpuOpts = {
    services: servicePids, pool: db.pool, database: db.name, pgPort,
    relayedPorts: () => new Map(relays ? Object.entries(relays).flatMap(([name, r]) => [...r.upstreamPorts()].map((port) => [port, name] as [number, string])) : []),
  };
  const cpuIngestSampler = sampleProcessCpu(cpuOpts);
  let underLoad: Promise<LoadLatencyResult> | undefined;
  // Rejects when a service exits before the benchmark stops it: the run fails at once, with its log.
  let serviceDied: (err: unknown) => void = () => undefined;
  const died = new Promise<never>((_, reject) => (serviceDied = reject));
  died.catch(() => undefined);
  const start = async () => {
    // The services' own hard limit: (c), the probes and the flagging, with room to spare.
    // Checked every 0.2 s: each service's start-up CPU is read the first time it is seen ready
    // (the poller holding the mailbox lease, from which it logs in and syncs; a worker listening
    // on the ingest queue), so the CPU per mail can leave out loading the programs.
    const services = (res.services = await startServices(env, (TIMEOUT_S + 1800) * 1000, async (pids) => {
      Object.assign(servicePids, pids);
      const lease = Boolean((await db.pool.query('select 1 from mailbox_leases')).rowCount);
      if (lease) await cpuIngestSampler.ready('poller');
      const listening = (await queues.ingest.getWorkersCount()) > 0 && (await queues.ingestBacklog.getWorkersCount()) > 0;
      if (listening) await cpuIngestSampler.ready('worker');
      return lease && listening;
    }, {
      dist,
      perService: {
        poller: { ...counting('poller'), LOG_LEVEL: pollerLogLevel(env.LOG_LEVEL!) },
        worker: {
          ...counting('worker'),
          ...(LIVE_WORKER ? { BLEND_WORKER_QUEUES: 'ingest-backlog,send,webhook,digest,notify', BLEND_WORKER_NICE: String(BACKLOG_NICE) } : {}),
        },
      },
      // The worker's settings less its queues and nice value.
      ...(LIVE_WORKER ? { liveWorker: { BLEND_WORKER_QUEUES: 'ingest', BLEND_WORKER_NICE: '0' } } : {}),
      onOutput: (name, text) => name === 'poller' && heard.write(text),
    }));
    Object.assign(servicePids, services.pids, services.extraPids);
    services.exitedEarly.catch(serviceDied);
    // The poller holds the mailbox and works through the backlog: the worker is behind from here.
    if (LOAD_PROBES > 0) {
      say(`latency under load: ${LOAD_PROBES} deliveries, one a second, while the backlog is ingested...`);
      underLoad = measureLatencyUnderLoad({
        pool: db.pool, generator, smtpUrl: mail.smtpUrl, imapUrl: mail.imapUrl, bridgeAddress: bridge,
        count: LOAD_PROBES, tag: config.BLEND_QUEUE_PREFIX, everyMs: 1000, timeoutMs: TIMEOUT_S * 1000, liveJobs: queues.ingest, heardAt: heard.heardAt,
      });
      underLoad.catch(() => undefined);
    }
  };
  const e2e = await Promise.race([runEndToEnd(db.pool, start, meta, TIMEOUT_S * 1000), died]);
  const loadLatency = underLoad ? await Promise.race([underLoad, died]) : undefined;
  if (loadLatency) {
    say(formatProbeStages(loadLatency.samples));
    say(formatPollerSteps(loadLatency.samples, heard));
    say(formatStages(loadLatency.samples));
  }
  const cpuIngest = await cpuIngestSampler.stop();
  say(`(c) done in ${e2e.seconds.toFixed(1)} s; waiting for the IMAP flags...`);
  const attempts = await ingestAttempts(redis, config.BLEND_QUEUE_PREFIX);
  const outbound = await outboundDuring(db.pool, sink);
  const marksSeconds = await waitForImapMarks(db.pool);
  const relayed = relays
    ? { poller: { ...relays.poller.counts }, worker: { ...relays.worker.counts } }
    : byService(await pgCountsNow(pgCount!.dir, Object.values(servicePids)));
  const pgAll = pgDelta(pgBefore, await pgCounters(db.pool, config));
  // The benchmark's own queries (each outside a transaction, so each a commit) are not Blend's.
  const benchCommits = ownTx.commits;
  const pg = { ...pgAll, commits: pgAll.commits - benchCommits };
  const perMail = (v: number) => (v / N).toFixed(2);
  say(`Postgres by service during (c) and the IMAP flagging, per mail: ${(['poller', 'worker'] as const).map((n) => `${n} ${perMail(relayed[n].commits)} commits, ${perMail(relayed[n].statements)} statements`).join('; ')} (${PG_RELAY ? 'counted by the relays' : 'counted in-process'})`);

  say(`latency: ${PROBES} single deliveries over SMTP...`);
  const cpuLatencySampler = sampleProcessCpu(cpuOpts);
  const { samples: latency, stoppedBy: latencyStoppedBy } = await Promise.race([measureLatency({
    app: stack.app, token: tokens[0]!, pool: db.pool, generator, smtpUrl: mail.smtpUrl, imapUrl: mail.imapUrl, bridgeAddress: bridge,
    count: PROBES, tag: config.BLEND_QUEUE_PREFIX, seed: SEED, heardAt: heard.heardAt,
  }), died]);
  const cpuLatency = await cpuLatencySampler.stop();
  const shutdown = await res.services!.stop();
  res.services = null;
  await stopRelays(res);
  // The check of the counts, over (c) to the services' exit: their backends published their
  // counts as they exited; the benchmark's own publish theirs within PGSTAT_IDLE_INTERVAL.
  const atExit = relays ? { poller: relays.poller.counts, worker: relays.worker.counts } : byService((await readPgCounts(pgCount!.dir)).byName);
  await new Promise((r) => setTimeout(r, PG_STATS_LAG_MS));
  ownTx.stop();
  const whole = pgDelta(pgBefore, await pgCounters(db.pool, config));
  const commitsByProcess: BenchReport['commitsByProcess'] = {
    ...relayed, benchmark: benchCommits,
    check: {
      counted: atExit.poller.commits + atExit.worker.commits + ownTx.commits,
      database: whole.commits, sessions: whole.sessions, autovacuums: whole.autovacuums,
    },
  };
  if (profileDir) await summariseProfiles(profileDir, servicePids);

  const versions = await db.pool.query<{ v: string; sc: string; sb: string }>(
    "select version() as v, current_setting('synchronous_commit') as sc, current_setting('shared_buffers') as sb",
  );
  const redisInfo = await redis.info('server');
  const v = versions.rows[0]!;
  return {
    date: new Date().toISOString(),
    command: commandLine('pnpm bench ingest', ['BENCH_MESSAGES', 'BENCH_PROBES', 'BENCH_LOAD_PROBES', 'BENCH_ROUNDS', 'BENCH_SEED', 'BENCH_TIMEOUT_S', 'BENCH_RATE_LIMITS', 'BENCH_LIVE_WORKER', 'BENCH_BACKLOG_NICE', 'BENCH_PG_RELAY', 'BENCH_NODE_OPTIONS', 'WORKER_CONCURRENCY', 'BLEND_IMAP_BATCH_SIZE', 'BLEND_POLL_INTERVAL_MS']),
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
      pollIntervalMs: config.BLEND_POLL_INTERVAL_MS, logLevel: env.LOG_LEVEL!,
      rateLimits: process.env.BENCH_RATE_LIMITS === 'default' ? "Blend's defaults" : 'off',
    },
    corpus: corpusFacts,
    preloadSeconds,
    fetch: { seconds: fetch.median, runs: fetch.runs, fetchOnlyRuns },
    parseBare: { seconds: parseBare.median, runs: parseBare.runs },
    parseBlend: { seconds: parseBlend.median, runs: parseBlend.runs },
    processes: (['poller', 'worker'] as const).map((n) => `${n}: \`node ${[...composeNodeOptions(n), `dist/${n}.mjs`].join(' ')}\``).join(', ') +
      (relays ? ', each reaching Postgres through a counting relay' : ', each counting its Postgres transactions in-process (`--import` of scripts/bench/pg-count-preload.ts)'),
    shutdown,
    e2e, attempts, outbound, marksSeconds, pg, benchCommits, commitsByProcess, cpuIngest, cpuLatency, latency, latencyStoppedBy,
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
 * Stop the services and remove their build, expunge the mailbox, drop the database and queue
 * keys (Stack.stop). Each step runs even if one fails.
 */
async function cleanup(res: Resources): Promise<void> {
  const stack = res.stack;
  await runSteps('bench', [
    ['stop the services', async () => res.services?.stop()],
    ['stop the Postgres relays', async () => stopRelays(res)],
    ['remove the build', async () => res.dist && rm(res.dist, { recursive: true, force: true })],
    ['empty the mailbox', async () => stack && emptyMailbox(stack.mail.imapUrl)],
    ['close the queues', async () => res.queues?.close()],
    ['drop the database and queue keys', async () => stack?.stop()],
    // Stack.stop() deletes the keys before BullMQ has closed its queues, which write their
    // `meta` keys again; sweep once more.
    ['sweep the queue keys', async () => stack && res.redis && deleteKeys(res.redis, `${stack.config.BLEND_QUEUE_PREFIX}:*`)],
    ['close redis', async () => res.redis?.disconnect()],
    ['stop the SMTP sink', async () => res.sink?.stop()],
  ]);
}

/**
 * With `BENCH_CPU_PROFILE=DIR` the services ran with `--cpu-prof`, each thread writing a V8
 * profile into DIR when it stopped (`CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile`): summarise
 * each of the services' on stdout.
 */
async function summariseProfiles(dir: string, services: Record<string, number>): Promise<void> {
  const files = await readdir(dir);
  for (const [name, pid] of Object.entries(services)) {
    for (const file of files.filter((f) => f.includes(`.${pid}.`) && f.endsWith('.cpuprofile')).sort()) {
      const profile = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as Profiler.Profile;
      say(`${path.join(dir, file)}:\n${formatSummary(summarise(profile, PROFILE_ENTRY_POINTS), `the ${name} (thread ${file.split('.')[4]}; its whole life)`)}`);
    }
  }
}

/** Each service's counts from {@link readPgCounts}; a service that counted no connection did not load the preload. */
function byService(counts: Map<string, PgCounts>): Record<'poller' | 'worker', PgCounts> {
  const of = (name: 'poller' | 'worker') => {
    const c = counts.get(name) ?? zeroCounts();
    if (c.connections === 0) throw new Error(`the ${name} counted no Postgres connection: its pg was not the preload's (scripts/bench/pg-count-preload.ts)`);
    return c;
  };
  return { poller: of('poller'), worker: of('worker') };
}

async function stopRelays(res: Resources): Promise<void> {
  const relays = res.relays;
  res.relays = null;
  if (relays) await Promise.all(Object.values(relays).map((r) => r.stop()));
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
