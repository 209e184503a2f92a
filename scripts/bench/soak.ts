// `pnpm bench soak`: 50,000 mails (a 10 MB attachment every 1,000th) through the poller and
// worker, each its own process, while their RSS is sampled; then check that every mail ended
// in exactly one final state. See docs/BENCHMARKS.md.
import { rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { addressingFrom } from '@blend/config';
import { bridgeAddress } from '@blend/core';
import { createProducerRedis, createQueues, type Queues } from '@blend/queue';
import { waitFor } from '../../test/support/database';
import { withImap } from '../../test/support/mail-server';
import { serviceEnv, startStack, type Stack } from '../../test/support/stack';
import { benchPeople } from './corpus';
import { ingestAttempts, waitForImapMarks } from './end-to-end';
import { commandLine, DOCS_FILE, emptyMailbox, intEnv, root, runBench, runSteps, sayer, writesDocs } from './harness';
import { blendRevision, cpuSecondsOf, machineFacts } from './machine';
import { outcome, progress, recordExpected, type Progress } from './soak-outcome';
import { soakFigures, soakTables, writeSoakDocs, type SoakReport } from './soak-report';
import { composeNodeOptions, imageEnv, sampleRss, startServices, type Services } from './services';
import { buildDist } from '../build';
import { openSpool, writeSpool, type Spool } from './soak-spool';

const say = sayer('bench soak');

const N = intEnv('BENCH_SOAK_MAILS', 50_000);
const BIG_EVERY = intEnv('BENCH_SOAK_BIG_EVERY', 1000, 0);
const BIG_BYTES = intEnv('BENCH_SOAK_BIG_BYTES', 10_000_000);
const RATE = intEnv('BENCH_SOAK_RATE', 0, 0);
/**
 * `preload`: APPEND everything, then start the services on the full backlog. `stream`: APPEND
 * while they run. Streaming into a 50,000-message maildir while the poller flags it slows
 * Dovecot's APPEND more and more (see docs/BENCHMARKS.md), so preload is the default.
 */
const DELIVERY = deliveryMode(process.env.BENCH_SOAK_DELIVERY ?? 'preload');

function deliveryMode(v: string): 'preload' | 'stream' {
  if (v === 'preload' || v === 'stream') return v;
  throw new Error(`BENCH_SOAK_DELIVERY must be preload or stream, got ${JSON.stringify(v)}`);
}
const SEED = intEnv('BENCH_SEED', 2025, 0);
const TIMEOUT_MS = intEnv('BENCH_TIMEOUT_S', 3600) * 1000;
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'warn';
const BIG_FILE_PREFIX = 'quarterly-figures-';

/** As in the ingest benchmark: Blend judges a backlog by when it processes it (docs/BENCHMARKS.md). */
const RATE_LIMITS_OFF = {
  BLEND_RATE_SENDER_PER_MINUTE: '0',
  BLEND_RATE_SENDER_PER_HOUR: '0',
  BLEND_RATE_THREAD_PER_MINUTE: '0',
  BLEND_RATE_ORG_PER_MINUTE: '0',
};

interface Resources {
  stack?: Stack;
  redis?: Redis;
  queues?: Queues;
  services?: Services | null;
  spoolFile?: string;
}

interface Tick extends Progress {
  t: number;
  appended: number;
}

async function main(res: Resources): Promise<SoakReport> {
  const machine = await machineFacts();
  const revision = await blendRevision(root);
  say(`${machine.cpuModel}, ${machine.cores} cores; ${N} mails, a ${BIG_BYTES}-byte attachment every ${BIG_EVERY || 'never'}`);
  const tuning: Record<string, string> = {};
  for (const k of ['WORKER_CONCURRENCY', 'BLEND_IMAP_BATCH_SIZE', 'BLEND_ATTACHMENT_MAX_BYTES', 'BLEND_MAX_MESSAGE_BYTES']) {
    const v = process.env[k];
    if (v) tuning[k] = v;
  }
  // The stack gives the database, mail domain and queue prefix; its in-process worker is
  // stopped at once, the services run as processes of their own below.
  const stack = (res.stack = await startStack({ BLEND_POLL_INTERVAL_MS: '30000', LOG_LEVEL: 'silent', ...RATE_LIMITS_OFF, ...tuning }, { poller: false }));
  await stack.stopWorker();
  const { config, db, mail } = stack;
  say(`database ${db.name}, mail domain ${mail.domain}, queue prefix ${config.BLEND_QUEUE_PREFIX}`);
  const redis = (res.redis = createProducerRedis(config.REDIS_URL));
  redis.on('error', () => undefined);
  const queues = (res.queues = createQueues(redis, config.BLEND_QUEUE_PREFIX));

  // The people live at the stack's second mail domain (a catch-all mailbox), so the notices
  // Blend mails them are delivered, as they would be in production, instead of bouncing back
  // into the bridge mailbox as extra inbound mail (they do in the ingest benchmark).
  const people = benchPeople(SEED).map((p) => ({ ...p, email: p.email.replace(/@corp\.test$/, `@${stack.people.domain}`) }));
  for (const p of people) await stack.person(p.email, { name: p.name, optIn: true });
  const spoolFile = (res.spoolFile = path.join(os.tmpdir(), `blend-soak-${config.BLEND_QUEUE_PREFIX}.spool`));
  say(`generating ${N} mails into ${spoolFile}...`);
  const spool = await writeSpool({
    file: spoolFile, count: N, bigEvery: BIG_EVERY, bigBytes: BIG_BYTES, seed: SEED, people,
    bridgeAddress: bridgeAddress(addressingFrom(config), { kind: 'status' }), onProgress: (i) => say(`  ${i} generated`),
  });
  const largest = Math.max(...spool.mails.map((m) => m.length));
  if (largest > config.BLEND_MAX_MESSAGE_BYTES) say(`warning: the largest mail (${largest} bytes) exceeds BLEND_MAX_MESSAGE_BYTES; it will be rejected too_large`);
  await recordExpected(db.pool, spool.mails.map((m) => m.messageId));

  const env = serviceEnv(stack, {
    ...RATE_LIMITS_OFF, ...tuning, LOG_LEVEL,
    BLEND_POLL_INTERVAL_MS: String(config.BLEND_POLL_INTERVAL_MS),
    BLEND_ORG_DOMAINS: config.BLEND_ORG_DOMAINS.join(','),
    // E.g. `--max-old-space-size=192`, to see how far V8's heap sizing explains the RSS.
    ...(process.env.BENCH_SOAK_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SOAK_NODE_OPTIONS } : {}),
    // E.g. `MALLOC_ARENA_MAX=2`: other variables for the two services, `NAME=value` separated by spaces.
    ...Object.fromEntries((process.env.BENCH_SOAK_SERVICE_ENV ?? '').split(/\s+/).filter(Boolean).map((kv) => [kv.split('=')[0], kv.slice(kv.indexOf('=') + 1)])),
  });
  let preloadSeconds = Number.NaN;
  if (DELIVERY === 'preload') {
    say(`preloading ${N} mails by IMAP APPEND...`);
    const p0 = performance.now();
    await deliver(mail.imapUrl, spool, () => undefined);
    preloadSeconds = (performance.now() - p0) / 1000;
    say(`preloaded in ${preloadSeconds.toFixed(1)} s`);
  }

  say('building dist/ (pnpm build), which the services run as in production...');
  await buildDist();
  say('starting the worker and the poller processes...');
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const services = (res.services = await startServices(env, TIMEOUT_MS + 600_000, async () => {
    const lease = await db.pool.query('select 1 from mailbox_leases');
    return Boolean(lease.rowCount) && (await queues.ingest.getWorkersCount()) > 0;
  }));
  const { pids } = services;
  const rss = sampleRss(pids, elapsed);
  const ticks: Tick[] = [];
  let appended = DELIVERY === 'preload' ? N : 0;
  let deliverSeconds = preloadSeconds;
  let delivery: Promise<void> = Promise.resolve();
  if (DELIVERY === 'stream') {
    say(`delivering ${N} mails by IMAP APPEND${RATE ? ` at ${RATE}/s` : ''} while the services run...`);
    const d0 = performance.now();
    delivery = deliver(mail.imapUrl, spool, (i) => (appended = i)).then(() => {
      deliverSeconds = (performance.now() - d0) / 1000;
      say(`delivered in ${deliverSeconds.toFixed(1)} s`);
    });
    delivery.catch(() => undefined);
  }
  let lastSay = 0;
  const done = waitFor(async () => {
    const p = await progress(db.pool);
    const tick = { t: elapsed(), appended, ...p };
    ticks.push(tick);
    if (tick.t - lastSay >= 30) {
      lastSay = tick.t;
      say(`  ${tick.t.toFixed(0)} s: appended ${appended}, stored ${p.stored}, final ${p.final}`);
    }
    return appended >= N && p.final >= N && p.items === p.published;
  }, `all ${N} rows final`, TIMEOUT_MS, 1000);
  await Promise.race([services.exitedEarly, Promise.all([done, delivery])]);
  const seconds = elapsed();
  say(`all ${N} rows final after ${seconds.toFixed(1)} s; waiting for the IMAP flags...`);
  const marksSeconds = await waitForImapMarks(db.pool, 600_000);
  const cpuSeconds = { poller: cpuSecondsOf(pids.poller), worker: cpuSecondsOf(pids.worker) };
  const memory = rss.stop();
  if (process.env.BENCH_SOAK_RSS_FILE) await writeRssFile(process.env.BENCH_SOAK_RSS_FILE, memory.samples, ticks);
  const shutdown = await services.stop();
  res.services = null;

  const rssAt = (t: number) => memory.samples.find((x) => x.t >= t)?.rss ?? memory.samples.at(-1)!.rss;
  const milestones = [25, 50, 75, 100].map((pct) => {
    const t = ticks.find((x) => x.final >= (N * pct) / 100)?.t ?? seconds;
    return { pct, t, rss: rssAt(t) };
  });
  const result = await outcome(db.pool, N, spool.mails.filter((m) => m.big).map((m) => m.messageId), BIG_FILE_PREFIX);
  const attempts = await ingestAttempts(redis, config.BLEND_QUEUE_PREFIX);
  const v = (await db.pool.query<{ v: string; sc: string; sb: string }>(
    "select version() as v, current_setting('synchronous_commit') as sc, current_setting('shared_buffers') as sb",
  )).rows[0]!;
  const redisInfo = await redis.info('server');
  return {
    date: new Date().toISOString(),
    command: commandLine('pnpm bench soak', ['BENCH_SOAK_MAILS', 'BENCH_SOAK_BIG_EVERY', 'BENCH_SOAK_BIG_BYTES', 'BENCH_SOAK_DELIVERY', 'BENCH_SOAK_RATE', 'BENCH_SOAK_NODE_OPTIONS', 'BENCH_SOAK_SERVICE_ENV', 'BENCH_SEED', 'WORKER_CONCURRENCY', 'BLEND_IMAP_BATCH_SIZE', 'BLEND_ATTACHMENT_MAX_BYTES', 'BLEND_MAX_MESSAGE_BYTES']),
    revision,
    imageEnv: Object.entries(imageEnv()).map(([k, v]) => `\`${k}=${v}\``).join(' ') || 'none',
    nodeOptions: (['poller', 'worker'] as const).map((n) => `${n}: \`node ${[...composeNodeOptions(n), `dist/${n}.mjs`].join(' ')}\``).join(', '),
    machine,
    servers: {
      postgres: v.v.split(' on ')[0]!,
      pgSettings: `synchronous_commit=${v.sc}, shared_buffers=${v.sb}`,
      redis: /redis_version:(\S+)/.exec(redisInfo)?.[1] ?? 'unknown',
    },
    params: {
      mails: N, bigEvery: BIG_EVERY, bigBytes: BIG_BYTES, delivery: DELIVERY, rate: RATE, seed: SEED,
      workerConcurrency: config.WORKER_CONCURRENCY, batchSize: config.BLEND_IMAP_BATCH_SIZE,
      maxMessageBytes: config.BLEND_MAX_MESSAGE_BYTES, attachmentMaxBytes: config.BLEND_ATTACHMENT_MAX_BYTES, logLevel: LOG_LEVEL,
    },
    corpus: {
      replies: spool.mails.filter((m) => m.reply).length,
      totalBytes: spool.totalBytes,
      bigMails: spool.mails.filter((m) => m.big).length,
      bigMailBytes: spool.bigBytes,
      spoolSeconds: spool.seconds,
    },
    run: {
      seconds,
      deliverSeconds,
      allStoredSeconds: ticks.find((x) => x.stored >= N)?.t ?? Number.NaN,
      marksSeconds,
      maxMailboxBacklog: Math.max(...ticks.map((x) => x.appended - x.stored)),
      maxQueueBacklog: Math.max(...ticks.map((x) => x.stored - x.final)),
    },
    rss: {
      peak: memory.peak, peakAt: memory.peakAt, hwm: memory.hwm,
      startup: memory.samples[0]!.rss, end: memory.samples.at(-1)!.rss,
      milestones, samples: memory.samples.length,
    },
    cpuSeconds, shutdown, outcome: result, attempts,
  };
}

/**
 * BENCH_SOAK_RSS_FILE: the RSS samples over time, one line each (seconds, poller and worker MiB,
 * rows final by then), to see when memory grows and what the run was doing.
 */
async function writeRssFile(file: string, samples: { t: number; rss: Record<'poller' | 'worker', number> }[], ticks: Tick[]): Promise<void> {
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  const lines = samples.map((s) => `${s.t.toFixed(1)}\t${mib(s.rss.poller)}\t${mib(s.rss.worker)}\t${ticks.findLast((x) => x.t <= s.t)?.final ?? 0}`);
  await writeFile(file, `t_s\tpoller_mib\tworker_mib\tfinal\n${lines.join('\n')}\n`);
}

/** APPEND the spooled mail in order on one connection (replies after their parents), optionally paced. */
async function deliver(imapUrl: string, spool: Spool, onAppended: (n: number) => void): Promise<void> {
  const reader = await openSpool(spool);
  const started = performance.now();
  try {
    await withImap(imapUrl, async (client, target) => {
      // Select the mailbox first: Dovecot opens a mailbox that is not selected afresh for every
      // APPEND (reading its whole index), which on maildir slowed the appends from ~330/s to
      // ~120/s by 15,000 messages; appending to the selected mailbox stays at ~300–400/s.
      await client.mailboxOpen(target.mailbox);
      for (let i = 0; i < spool.mails.length; i++) {
        if (RATE > 0) {
          const due = started + (i / RATE) * 1000;
          const wait = due - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        const m = spool.mails[i]!;
        await client.append(target.mailbox, await reader.read(m), [], m.date);
        onAppended(i + 1);
      }
    });
  } finally {
    await reader.close();
  }
}

/** Stop the services, remove the spool, expunge the mailbox, drop the database and queue keys; each step runs even if one fails. */
async function cleanup(res: Resources): Promise<void> {
  const stack = res.stack;
  await runSteps('bench soak', [
    ['stop the services', async () => res.services?.stop()],
    ['remove the spool', async () => res.spoolFile && rm(res.spoolFile, { force: true })],
    ['empty the mailboxes', async () => stack && Promise.all([emptyMailbox(stack.mail.imapUrl), emptyMailbox(stack.people.imapUrl)])],
    ['close the queues', async () => res.queues?.close()],
    ['drop the database and queue keys', async () => stack?.stop()],
    // BullMQ writes its `meta` keys again while closing; sweep once more.
    ['sweep the queue keys', async () => {
      if (!stack || !res.redis) return;
      const keys = await res.redis.keys(`${stack.config.BLEND_QUEUE_PREFIX}:*`);
      if (keys.length > 0) await res.redis.del(...keys);
    }],
    ['close redis', async () => res.redis?.disconnect()],
  ]);
}

await runBench<Resources, SoakReport>({
  label: 'bench soak',
  resources: {},
  main,
  cleanup,
  finish: async (report) => {
    const f = soakFigures(report);
    process.stdout.write(`\n${soakTables(report)}\n`);
    if (writesDocs()) {
      await writeSoakDocs(DOCS_FILE, report);
      say('wrote the soak section of docs/BENCHMARKS.md');
    }
    return [
      ...(f.passPoller ? [] : ['poller RSS ≥ 300 MiB']),
      ...(f.passWorker ? [] : ['worker RSS ≥ 300 MiB']),
      ...(f.passLost ? [] : ['mail lost or not final']),
    ];
  },
});
