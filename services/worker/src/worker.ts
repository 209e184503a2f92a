import { UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq';
import { PermanentError } from '@blend/core';
import { finishInbound, lockInbound, type Database } from '@blend/db';
import type { Logger } from '@blend/config';
import { IngestJob, QueueName } from '@blend/queue';
import { ingest, type IngestDeps } from './jobs/ingest';

export interface WorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  concurrency: number;
}

/**
 * The `ingest` processor. Retries are decided here and only here: a PermanentError fails
 * the job once (BullMQ UnrecoverableError); anything else is retried with backoff; when
 * the last attempt fails the row becomes `failed`, visible to IT and replayable.
 */
export function startIngestWorker(deps: IngestDeps, opts: WorkerOptions): Worker {
  const worker = new Worker(
    QueueName.ingest,
    async (job) => {
      const payload = IngestJob.parse(job.data);
      const log = deps.log.child({ jobId: job.id, inboundId: payload.inboundId, attempt: job.attemptsMade + 1 });
      try {
        const outcome = await ingest(payload, { ...deps, log });
        log.info({ outcome: outcome.state, reason: 'reason' in outcome ? outcome.reason : undefined }, 'ingested');
        return outcome;
      } catch (err) {
        if (err instanceof PermanentError) {
          log.error({ err, code: err.code }, 'ingest failed permanently');
          throw new UnrecoverableError(`${err.code}: ${err.message}`);
        }
        log.warn({ err }, 'ingest attempt failed; will retry');
        throw err;
      }
    },
    {
      connection: opts.connection,
      prefix: opts.prefix,
      concurrency: opts.concurrency,
      // Lock long enough for a big parse; a killed worker's job is retried after it expires.
      lockDuration: 30_000,
      maxStalledCount: 3,
    },
  );
  worker.on('failed', (job, err) => {
    if (!job) return;
    const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    if (!final) return;
    const { inboundId } = job.data as IngestJob;
    markFailed(deps.db, inboundId, err).catch((e: unknown) =>
      deps.log.error({ err: e, inboundId }, 'could not mark inbound failed; the reconciler will retry it'),
    );
  });
  worker.on('error', (err) => deps.log.error({ err }, 'ingest worker error'));
  return worker;
}

async function markFailed(db: Database, inboundId: string, err: Error): Promise<void> {
  const reason = `failed: ${err.message}`.slice(0, 500);
  await db.transaction(async (tx) => {
    const row = await lockInbound(tx, inboundId);
    if (row && row.state === 'received') await finishInbound(tx, inboundId, { state: 'failed', reason });
  });
}
