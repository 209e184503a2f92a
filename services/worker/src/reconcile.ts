import type { Queue } from 'bullmq';
import { pendingOutbound, releaseRateHolds, unfinishedInbound, type Database } from '@blend/db';
import type { Logger } from '@blend/runtime';
import { ingestRowsInLiveBatches, requeueIngest, requeueSend, rowsInLiveBatches, type BatchRows, type IngestJob, type SendJob } from '@blend/queue';

/**
 * The rows of the live batch jobs read so far, kept from one reconcile to the next: a batch
 * job's rows never change, so each is read from Redis once, not at every reconcile while a
 * backlog waits (at most the live batch jobs' rows are held).
 */
const ingestBatchRows: BatchRows = new Map();
const sendBatchRows: BatchRows = new Map();

/**
 * Postgres is the source of truth (docs/ARCHITECTURE.md invariant 1): every inbound row still
 * `received` after `graceMs` gets its ingest job again unless one is waiting, delayed or
 * running, in `queue` or in one of `elsewhere`. Ingest ignores rows that are already final,
 * so a spurious re-enqueue costs one no-op job. The worker passes the backlog queue and looks
 * into the live one too: what the reconciler finds is recovery work, like a catch-up, and
 * must not queue ahead of new mail (docs/ARCHITECTURE.md "Processes and the flow").
 * @returns how many rows were (re-)enqueued.
 */
export async function reconcileInbound(db: Database, queue: Queue<IngestJob>, log: Logger, graceMs = 15_000, elsewhere: Queue<IngestJob>[] = []): Promise<number> {
  let count = 0;
  // A row of a live job (a batch's or its own) is not queued again. The jobs are read before the
  // rows: a job that ends in between has finished its rows, which the read then leaves out (read
  // the other way round, every row of a batch that ended in between got a no-op job).
  const batched = await ingestRowsInLiveBatches([queue, ...elsewhere], ingestBatchRows, true);
  const unfinished = await unfinishedInbound(db, new Date(Date.now() - graceMs), 5_000);
  for (const r of unfinished) {
    if (batched.has(r.id)) continue;
    if (await requeueIngest(queue, r.id, elsewhere)) count++;
  }
  if (count > 0) log.info({ count }, 'reconciler re-enqueued unfinished inbound mail');
  return count;
}

/**
 * Mail held for a rate limit is deferred, not parked: once the hold is `windowMs` old (the
 * one-minute windows have passed) it goes back to the pipeline, which judges its rate again
 * (docs/SECURITY.md F31). Runs with the reconciler.
 * @returns how many rows were released.
 */
export async function releaseRateHeld(db: Database, queue: Queue<IngestJob>, log: Logger, windowMs = 60_000): Promise<number> {
  const ids = await releaseRateHolds(db, new Date(Date.now() - windowMs));
  // A row whose job cannot be queued now is `received`: the next reconcile queues it.
  for (const id of ids) await requeueIngest(queue, id).catch(() => undefined);
  if (ids.length > 0) log.info({ count: ids.length }, 'released mail held for rate limits');
  return ids.length;
}

/** The same for the outbox: every `pending` outbound row gets its `send` job. */
export async function reconcileOutbound(db: Database, queue: Queue<SendJob>, log: Logger, graceMs = 15_000): Promise<number> {
  let count = 0;
  // As for inbound mail: the live jobs first, then the rows.
  const batched = await rowsInLiveBatches(queue, sendBatchRows, true);
  const pending = await pendingOutbound(db, new Date(Date.now() - graceMs), 5_000);
  for (const r of pending) {
    if (batched.has(r.id)) continue;
    if (await requeueSend(queue, r.id)) count++;
  }
  if (count > 0) log.info({ count }, 'reconciler re-enqueued pending outbound mail');
  return count;
}
