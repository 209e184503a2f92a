/**
 * The two timed parts of the digest benchmark: (a) Blend builds the due digests and its send
 * worker hands them to SMTP; (b) nodemailer alone sends the same mails, pre-composed.
 */
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import type { Config } from '@blend/config';
import type { Logger } from '@blend/runtime';
import type { Database } from '@blend/db';
import { composeOutbound, createSmtpTransport, type ComposeOptions } from '@blend/mail';
import { createQueues, createWorkerRedis, enqueueAll } from '@blend/queue';
import { runDueDigests, type MailSite } from '@blend/outbound';
import { startSendWorker } from '@blend/worker';
import type { Sink, SinkCounts } from './digest-sink';
import { cpuSecondsOf, cpuSnapshot, cpuUse, jiffiesByProcess, type CpuUse } from './machine';
import { memoryOf, startService, type ServiceProcess } from './services';
import { waitFor } from '../../test/support/database';

/** Peak resident set size of this process while `fn` runs (sampled every 25 ms), in bytes. */
export async function withPeakRss<T>(fn: () => Promise<T>): Promise<{ value: T; peakRss: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 25);
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { value, peakRss: peak };
  } finally {
    clearInterval(timer);
  }
}

export interface BlendRun {
  /** runDueDigests' result counts. */
  sent: number;
  empty: number;
  scheduled: number;
  /** Seconds from calling runDueDigests: digests built (outbox rows committed) … */
  buildSeconds: number;
  /** … all send jobs added to the queue (enqueueAll, as the digest processor does) … */
  queuedSeconds: number;
  /** … the sink has received every digest. */
  totalSeconds: number;
  /** … every outbox row is marked `sent` (the send job's last write). */
  recordedSeconds: number;
  sink: SinkCounts;
  cpu: CpuUse;
  peakRss: number;
  /** Outbox rows by state afterwards. */
  states: Record<string, number>;
  /** When Blend ran as deployed: the worker process's CPU seconds during (a) and its peak RSS (VmHWM). */
  worker?: { cpuSeconds: number; hwm: number };
  /**
   * Postgres server processes' CPU seconds, per process (a backend that exits meanwhile is
   * missed, so a lower bound); the summed group of `cpu` loses a closed backend's whole past.
   */
  postgresCpuSeconds?: number;
}

/** CPU seconds the processes called `name` used between two readings of {@link jiffiesByProcess}. */
export function cpuSince(before: Map<number, number>, name: string): number {
  let jiffies = 0;
  for (const [pid, j] of jiffiesByProcess(name)) jiffies += j - (before.get(pid) ?? 0);
  return jiffies / 100;
}

export type SmtpPool = { maxConnections: number; maxMessages: number };

/** The worker's SMTP pool settings (BLEND_SMTP_MAX_CONNECTIONS, BLEND_SMTP_MAX_MESSAGES). */
export const smtpPool = (config: Config): SmtpPool => ({ maxConnections: config.BLEND_SMTP_MAX_CONNECTIONS, maxMessages: config.BLEND_SMTP_MAX_MESSAGES });

export interface BlendWiring {
  config: Config;
  db: Database;
  pool: pg.Pool;
  log: Logger;
  site: MailSite;
  sink: Sink;
  /** DigestDeps.batchSize / .parallel; undefined = Blend's defaults. */
  batchSize?: number;
  parallel?: number;
  timeoutMs: number;
}

/**
 * (a) What Blend's digest processor (`startDigestWorker`) does on a tick, timed: runDueDigests,
 * queueing each batch's sends (enqueueAll, in bulk) as soon as the batch has committed;
 * meanwhile the real `send` processor (startSendWorker, BullMQ, `BLEND_SEND_CONCURRENCY` jobs
 * at once, the pooled transport of createSmtpTransport) sends them to the sink. The clock
 * stops when the sink has received all of them.
 */
export async function runBlend(w: BlendWiring): Promise<BlendRun> {
  const { config } = w;
  const redis = createWorkerRedis(config.REDIS_URL);
  redis.on('error', (err) => w.log.warn({ err: { message: err.message } }, 'redis connection error'));
  const queues = createQueues(redis, config.BLEND_QUEUE_PREFIX);
  const transport = createSmtpTransport(config.BLEND_SMTP_URL, smtpPool(config));
  const worker = startSendWorker(
    { db: w.db, log: w.log, transport, addressing: w.site.addressing, secret: config.BLEND_SECRET },
    { connection: redis, prefix: config.BLEND_QUEUE_PREFIX, concurrency: config.BLEND_SEND_CONCURRENCY, lockDurationMs: config.BLEND_JOB_LOCK_MS },
  );
  try {
    await worker.waitUntilReady();
    await w.sink.reset();
    const cpu0 = cpuSnapshot();
    const { value, peakRss } = await withPeakRss(async () => {
      const startedAt = Date.now();
      const t0 = performance.now();
      const result = await runDueDigests({
        db: w.db, log: w.log, site: w.site,
        ...(w.batchSize ? { batchSize: w.batchSize } : {}),
        ...(w.parallel ? { parallel: w.parallel } : {}),
        onCommitted: (ids) => enqueueAll(queues, ids, w.log),
      });
      const buildSeconds = (performance.now() - t0) / 1000;
      const queuedSeconds = buildSeconds;
      const sink = await w.sink.waitFor(result.sent, w.timeoutMs);
      await waitFor(async () => (await pendingRows(w.pool)) === 0, 'every digest row marked sent', w.timeoutMs, 20);
      const recordedSeconds = (performance.now() - t0) / 1000;
      return { result, buildSeconds, queuedSeconds, recordedSeconds, sink, totalSeconds: (sink.lastAt - startedAt) / 1000 };
    });
    const cpu = cpuUse(cpu0, cpuSnapshot());
    const { rows } = await w.pool.query<{ state: string; n: number }>(`select state, count(*)::int as n from outbound_messages group by state`);
    return {
      sent: value.result.sent, empty: value.result.empty, scheduled: value.result.scheduled,
      buildSeconds: value.buildSeconds, queuedSeconds: value.queuedSeconds, totalSeconds: value.totalSeconds,
      recordedSeconds: value.recordedSeconds, sink: value.sink, cpu, peakRss,
      states: Object.fromEntries(rows.map((r) => [r.state, r.n])),
    };
  } finally {
    await worker.close();
    transport.close();
    await queues.close();
    redis.disconnect();
  }
}

/**
 * (a) as deployed: Blend's worker service in a process of its own (`node dist/worker.mjs`
 * from `pnpm build`, started by services.ts with the image's environment), sending to the
 * sink. The due people are held back until the worker is up (so its first scheduled tick
 * finds nobody), then made due again and one digest tick is queued, as the job scheduler
 * queues it: the clock runs from that tick to the sink's last message. CPU is read from /proc
 * for the worker, the Postgres and Redis servers, and reported by the sink for itself.
 */
export async function runBlendDeployed(w: BlendWiring & { env: Record<string, string> }): Promise<BlendRun> {
  const { config } = w;
  // Nobody is due while the worker starts (its scheduler queues a first tick at once).
  const { rows: held } = await w.pool.query<{ id: string }>(
    `update people set next_digest_at = next_digest_at + interval '1000 years' where next_digest_at <= now() returning id`,
  );
  const redis = createWorkerRedis(config.REDIS_URL);
  redis.on('error', (err) => w.log.warn({ err: { message: err.message } }, 'redis connection error'));
  const queues = createQueues(redis, config.BLEND_QUEUE_PREFIX);
  let worker: ServiceProcess | undefined;
  try {
    worker = startService('worker', w.env, w.timeoutMs + 120_000);
    const started = worker;
    await Promise.race([
      started.exited.then((r) => {
        throw new Error(`the worker exited (code ${r.code}, signal ${r.signal}):\n${started.output().slice(-4000)}`);
      }),
      waitFor(async () => (await queues.send.getWorkersCount()) > 0 && (await queues.digest.getWorkersCount()) > 0, 'the worker to start', 120_000, 200),
    ]);
    // Its first scheduled tick has run (or finds nobody when it does).
    await waitFor(async () => (await queues.digest.getJobCounts('active', 'waiting')).active === 0, 'the start-up digest tick', 60_000, 200);
    await w.pool.query(`update people set next_digest_at = next_digest_at - interval '1000 years' where id = any($1::uuid[])`, [held.map((r) => r.id)]);
    await w.sink.reset();
    const cpu0 = cpuSnapshot();
    const pg0 = jiffiesByProcess('postgres');
    const worker0 = cpuSecondsOf(started.pid);
    const startedAt = Date.now();
    const tick = await queues.digest.add('digest-tick', {});
    const done = await waitFor(async () => {
      const j = await queues.digest.getJob(tick.id!);
      if (j?.failedReason) throw new Error(`the digest tick failed: ${j.failedReason}`);
      return j?.finishedOn ? j : undefined;
    }, 'the digest tick to finish', w.timeoutMs, 50);
    const result = done.returnvalue as { sent: number; empty: number; scheduled: number };
    const sink = await w.sink.waitFor(result.sent, w.timeoutMs);
    await waitFor(async () => (await pendingRows(w.pool)) === 0, 'every digest row marked sent', w.timeoutMs, 20);
    const recordedSeconds = (Date.now() - startedAt) / 1000;
    const cpu = cpuUse(cpu0, cpuSnapshot());
    const postgresCpuSeconds = cpuSince(pg0, 'postgres');
    const workerCpu = cpuSecondsOf(started.pid) - worker0;
    const hwm = memoryOf(started.pid)?.hwm ?? Number.NaN;
    const { rows } = await w.pool.query<{ state: string; n: number }>(`select state, count(*)::int as n from outbound_messages group by state`);
    const buildSeconds = (done.finishedOn! - startedAt) / 1000;
    return {
      sent: result.sent, empty: result.empty, scheduled: result.scheduled,
      buildSeconds, queuedSeconds: buildSeconds, totalSeconds: (sink.lastAt - startedAt) / 1000, recordedSeconds,
      sink, cpu, peakRss: hwm,
      states: Object.fromEntries(rows.map((r) => [r.state, r.n])),
      worker: { cpuSeconds: workerCpu, hwm },
      postgresCpuSeconds,
    };
  } finally {
    await worker?.stop();
    await queues.close();
    redis.disconnect();
  }
}

async function pendingRows(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`select count(*)::int as n from outbound_messages where state = 'pending'`);
  return rows[0]!.n;
}

export interface BaselineRun {
  seconds: number;
  sink: SinkCounts;
  cpu: CpuUse;
  peakRss: number;
}

/**
 * (b) nodemailer alone: the digests Blend wrote, composed beforehand (composeOutbound, the
 * same headers and bodies), handed all at once to a fresh pooled transport with the same
 * settings (createSmtpTransport); the clock runs from the first sendMail to the sink's last
 * message.
 */
export async function runBaseline(mails: ReturnType<typeof composeOutbound>[], sink: Sink, timeoutMs: number, pool: SmtpPool): Promise<BaselineRun> {
  await sink.reset();
  const transport = createSmtpTransport(sink.url, pool);
  try {
    const cpu0 = cpuSnapshot();
    const { value, peakRss } = await withPeakRss(async () => {
      const startedAt = Date.now();
      await Promise.all(mails.map((m) => transport.sendMail(m)));
      const counts = await sink.waitFor(mails.length, timeoutMs);
      return { counts, seconds: (counts.lastAt - startedAt) / 1000 };
    });
    return { seconds: value.seconds, sink: value.counts, cpu: cpuUse(cpu0, cpuSnapshot()), peakRss };
  } finally {
    transport.close();
  }
}

/** The digests in the outbox, composed for nodemailer as the send job composes them. */
export async function composedDigests(pool: pg.Pool, opts: ComposeOptions): Promise<ReturnType<typeof composeOutbound>[]> {
  const { rows } = await pool.query(
    `select id, to_address as "toAddress", message_id as "messageId", subject, text_body as "textBody", html_body as "htmlBody",
            in_reply_to as "inReplyTo", "references", auto_submitted as "autoSubmitted", reply_to as "replyTo", from_name as "fromName", headers
       from outbound_messages where kind = 'digest' order by created_at`,
  );
  return rows.map((r) => composeOutbound(r, opts));
}
