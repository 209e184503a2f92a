import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { PermanentError } from '@blend/core';
import { finishInbound, finishOutbound, getOutbound, lockInbound, type Database } from '@blend/db';
import type { Logger, Metrics } from '@blend/runtime';
import { IngestJob, QueueName, SEND_BATCH_NAME, SendBatchJob, SendJob, WebhookJob, enqueueAll, enqueueSendBatches, ingestBackoff, ingestRowIds, type Queues } from '@blend/queue';
import { ingest, ParentPendingError, type IngestDeps } from './jobs/ingest';
import { ingestBatchJob } from './jobs/ingest-batch';
import { send, sendBatch, type SendDeps } from './jobs/send';
import { deliverWebhook, type WebhookDeps } from './jobs/webhook';
import { LiveFirst } from './live-first';
import { sweepNotifications, type NotifyDeps } from './jobs/notify';
import { runDueDigests, type DigestDeps } from '@blend/outbound';

export interface WorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  concurrency: number;
  metrics?: Metrics;
  /** @defaultValue 30000 */
  lockDurationMs?: number;
  /** The live ingests that a catch-up's batches and the sends give way to. @defaultValue the process's ({@link processLiveFirst}) */
  liveFirst?: LiveFirst;
}

/**
 * BLEND_WORKER_NICE: give this process's threads the nice value `nice`, e.g. a worker process
 * that takes the backlog but not live mail (docs/ARCHITECTURE.md "Processes and the flow").
 * On Linux a nice value is a thread's: each thread running now is set (V8's and libuv's helpers
 * among them), and the threads started later (the parse threads) inherit it from the main
 * thread. 0 changes nothing; a refusal is logged and the worker goes on at its priority.
 */
export function lowerPriority(
  nice: number,
  log: Pick<Logger, 'info' | 'warn'>,
  set: (priority: number, thread: number) => void = (p, thread) => setPriority(thread, p),
  threads: () => number[] = ownThreads,
): void {
  if (nice <= 0) return;
  try {
    // The calling thread first (0), so what it starts from here on inherits the value.
    set(nice, 0);
    let others = 0;
    for (const tid of threads()) {
      try {
        set(nice, tid);
        others++;
      } catch {
        // The thread ended meanwhile.
      }
    }
    log.info({ nice, threads: others }, 'worker runs at a lower priority');
  } catch (err) {
    log.warn({ err, nice }, 'could not lower the worker\'s priority; it runs at its own');
  }
}

/** This process's threads by id (Linux's /proc/self/task); none elsewhere. */
function ownThreads(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number).filter((t) => Number.isInteger(t) && t > 0);
  } catch {
    return [];
  }
}

/** The live ingests of this process: every Worker started here gives way to the same ones by default. */
export const processLiveFirst = new LiveFirst();

/**
 * Run one BullMQ processor. Retries are decided here and only here: a PermanentError fails
 * the job once (BullMQ UnrecoverableError); anything else is retried with backoff; when
 * the last attempt fails, `onFinalFailure` records it on the row. With `givesWay`, each job
 * starts only when no live ingest runs in the process (or after LiveFirst.maxWaitMs).
 */
function startProcessor<T>(
  name: string,
  log: Logger,
  opts: WorkerOptions,
  handle: (job: Job, log: Logger, token: string | undefined) => Promise<unknown>,
  onFinalFailure: (job: Job, err: Error) => Promise<void>,
  givesWay = false,
): Worker {
  const worker = new Worker(
    name,
    async (job, token) => {
      if (givesWay) await (opts.liveFirst ?? processLiveFirst).turn();
      const jobLog = log.child({ queue: name, jobId: job.id, attempt: job.attemptsMade + 1 });
      const stop = opts.metrics?.jobDuration.startTimer({ queue: name });
      try {
        const result = await handle(job, jobLog, token);
        stop?.({ outcome: 'ok' });
        return result;
      } catch (err) {
        if (err instanceof DelayedError) {
          stop?.({ outcome: 'delayed' });
          throw err;
        }
        stop?.({ outcome: err instanceof PermanentError ? 'permanent' : 'retry' });
        if (err instanceof PermanentError) {
          jobLog.error({ err, code: err.code }, `${name} failed permanently`);
          throw new UnrecoverableError(`${err.code}: ${err.message}`);
        }
        jobLog.warn({ err }, `${name} attempt failed; will retry`);
        throw err;
      }
    },
    {
      connection: opts.connection,
      prefix: opts.prefix,
      concurrency: opts.concurrency,
      // A killed worker's job is retried by another one after the lock expires.
      lockDuration: opts.lockDurationMs ?? 30_000,
      stalledInterval: opts.lockDurationMs ?? 30_000,
      maxStalledCount: 3,
      settings: { backoffStrategy: (attemptsMade: number, type?: string) => (type === 'ingest' ? ingestBackoff(attemptsMade) : 1_000) },
    },
  );
  worker.on('failed', (job, err) => {
    if (!job) return;
    const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    if (final) {
      onFinalFailure(job, err).catch((e: unknown) =>
        log.error({ err: e, jobId: job.id }, 'could not record the failure; the reconciler will retry'),
      );
    }
  });
  worker.on('error', (err) => log.error({ err, queue: name }, 'worker error'));
  return worker;
}

/**
 * The `ingest` processor, on the live queue (`ingest`) or the catch-up's (`ingest-backlog`):
 * one processor, the same retries. After a committed ingest, the mails it wrote to the outbox
 * are queued.
 */
export function startIngestWorker(
  deps: IngestDeps,
  opts: WorkerOptions,
  queues?: Pick<Queues, 'send'> & Partial<Pick<Queues, 'ingest' | 'ingestBacklog'>>,
  queueName: typeof QueueName.ingest | typeof QueueName.ingestBacklog = QueueName.ingest,
): Worker {
  const backlog = queueName === QueueName.ingestBacklog;
  // A catch-up's mails wait behind live mail for a parse thread.
  if (backlog) deps = { ...deps, parseLane: 'backlog' };
  const liveFirst = opts.liveFirst ?? processLiveFirst;
  const handle = async (job: Job, log: Logger, token: string | undefined) => {
    const ids = ingestRowIds(IngestJob.parse(job.data));
    // A batch of the poller's: one transaction, its sends queued and its stragglers re-queued after the commit.
    // Its mails handed back go to the queue it came from, so a catch-up's stay behind live mail,
    // and a catch-up's batch gives live mail its turns.
    const back = backlog ? queues?.ingestBacklog : queues?.ingest;
    if (ids.length > 1) return ingestBatchJob(ids, { ...deps, log }, queues && { send: queues.send, ...(back ? { ingest: back } : {}) }, backlog ? liveFirst : undefined);
    const jobLog = log.child({ inboundId: ids[0] });
    let outcome;
    try {
      outcome = await ingest({ inboundId: ids[0]! }, { ...deps, log: jobLog });
    } catch (err) {
      if (err instanceof ParentPendingError && token) {
        // Back without using up an attempt: in a moment when the parent is being ingested
        // now, at the end of the grace when it has not come (BLEND_ORPHAN_REPLY_GRACE_MS).
        await job.moveToDelayed(Date.now() + err.retryInMs, token);
        throw new DelayedError();
      }
      throw err;
    }
    jobLog.info({ outcome: outcome.state, reason: 'reason' in outcome ? outcome.reason : undefined }, 'ingested');
    // The mails written with it (mirrors, notices, a receipt) as one batch, in one round trip,
    // as a poller batch's are: this live job holds back the backlog's turns until it ends.
    if (queues && 'outbound' in outcome && outcome.outbound) await enqueueAll(queues, outcome.outbound, jobLog);
    return outcome;
  };
  return startProcessor(
    queueName,
    deps.log,
    opts,
    // A live job is one of the live ingests that the backlog's batches and the sends give way to.
    (job, log, token) => (backlog ? handle(job, log, token) : liveFirst.run(() => handle(job, log, token))),
    async (job, err) => {
      const reason = `failed: ${err.message}`.slice(0, 500);
      await deps.db.transaction(async (tx) => {
        for (const inboundId of ingestRowIds(job.data as IngestJob)) {
          const row = await lockInbound(tx, inboundId);
          if (row && row.state === 'received') await finishInbound(tx, inboundId, { state: 'failed', reason });
        }
      });
    },
  );
}

/** The `send` processor: a `send` job delivers one outbox row, a `send-batch` job the rows written together. */
export function startSendWorker(deps: SendDeps, opts: WorkerOptions): Worker {
  return startProcessor(
    QueueName.send,
    deps.log,
    opts,
    async (job, log) => {
      if (job.name === SEND_BATCH_NAME) {
        const batch = SendBatchJob.parse(job.data);
        try {
          const outcome = await sendBatch(batch, { liveFirst: opts.liveFirst ?? processLiveFirst, ...deps, log });
          opts.metrics?.outbound.inc({ result: 'sent' }, outcome.sent);
          opts.metrics?.outbound.inc({ result: 'cancelled' }, outcome.cancelled);
          opts.metrics?.outbound.inc({ result: 'failed' }, outcome.failed);
          opts.metrics?.outbound.inc({ result: 'skipped' }, outcome.skipped);
          log.info({ rows: batch.outboundIds.length, ...outcome }, 'send batch');
          return outcome;
        } catch (err) {
          opts.metrics?.outbound.inc({ result: 'retry' });
          throw err;
        }
      }
      const payload = SendJob.parse(job.data);
      try {
        const outcome = await send(payload, { ...deps, log: log.child({ outboundId: payload.outboundId }) });
        opts.metrics?.outbound.inc({ result: outcome.state });
        log.info({ outboundId: payload.outboundId, outcome: outcome.state }, 'send');
        return outcome;
      } catch (err) {
        opts.metrics?.outbound.inc({ result: err instanceof PermanentError ? 'failed' : 'retry' });
        throw err;
      }
    },
    async (job, err) => {
      const ids = job.name === SEND_BATCH_NAME ? SendBatchJob.parse(job.data).outboundIds : [(job.data as SendJob).outboundId];
      for (const outboundId of ids) {
        const row = await getOutbound(deps.db, outboundId);
        if (row && row.state === 'pending') await finishOutbound(deps.db, outboundId, { state: 'failed', error: err.message.slice(0, 500) });
      }
    },
    // New mail's ingest first (docs/ARCHITECTURE.md "Processes and the flow").
    true,
  );
}

/**
 * The `digest` processor: one scheduled tick builds every digest that is due; each batch's
 * sends are queued as soon as it has committed, so sending overlaps the building, `sendBatch`
 * rows per send job (BLEND_SEND_BATCH).
 */
export function startDigestWorker(deps: DigestDeps, opts: WorkerOptions, queues: Pick<Queues, 'send'>, sendBatchSize = 1): Worker {
  return startProcessor(
    QueueName.digest,
    deps.log,
    { ...opts, concurrency: 1 },
    async (_job, log) => {
      const result = await runDueDigests({ ...deps, log, onCommitted: (ids) => enqueueSendBatches(queues, ids, sendBatchSize, log) });
      return { sent: result.sent, empty: result.empty, scheduled: result.scheduled };
    },
    async () => undefined,
    true,
  );
}

/**
 * The `notify` processor: one sweep per tick of the notification schedule. Due notifications,
 * mirrored comments and corrections become outbox rows in one transaction, then their sends
 * are queued.
 */
export function startNotifyWorker(deps: NotifyDeps, opts: WorkerOptions, queues: Pick<Queues, 'send'>, sendBatchSize = 1): Worker {
  return startProcessor(
    QueueName.notify,
    deps.log,
    { ...opts, concurrency: 1 },
    async (_job, log) => {
      const stop = deps.metrics?.notifySweep.startTimer();
      let ids: string[];
      try {
        ids = await sweepNotifications({ ...deps, log });
      } catch (err) {
        stop?.({ outcome: 'failed' });
        throw err;
      }
      stop?.({ outcome: 'ok' });
      deps.metrics?.notifyMails.inc(ids.length);
      await enqueueSendBatches(queues, ids, sendBatchSize, log);
      return { mails: ids.length };
    },
    async () => undefined,
    true,
  );
}

/** The `webhook` processor. */
export function startWebhookWorker(deps: WebhookDeps, opts: WorkerOptions): Worker {
  return startProcessor(
    QueueName.webhook,
    deps.log,
    opts,
    async (job, log) => deliverWebhook(WebhookJob.parse(job.data), { ...deps, log }),
    async () => undefined,
    true,
  );
}

export type { IngestDeps, SendDeps };
