import type { Queue } from 'bullmq';
import { pendingOutbound, unfinishedInbound, type Database } from '@blend/db';
import type { Logger } from '@blend/config';
import { requeueIngest, requeueSend, type IngestJob, type SendJob } from '@blend/queue';

/**
 * Postgres is the source of truth (docs/ARCHITECTURE.md invariant 1): every inbound row still
 * `received` after `graceMs` gets its ingest job again unless one is waiting, delayed or
 * running. Ingest ignores rows that are already final, so a spurious re-enqueue costs one
 * no-op job.
 * @returns how many rows were (re-)enqueued.
 */
export async function reconcileInbound(db: Database, queue: Queue<IngestJob>, log: Logger, graceMs = 15_000): Promise<number> {
  let count = 0;
  for (const r of await unfinishedInbound(db, new Date(Date.now() - graceMs), 5_000)) {
    if (await requeueIngest(queue, r.id)) count++;
  }
  if (count > 0) log.info({ count }, 'reconciler re-enqueued unfinished inbound mail');
  return count;
}

/** The same for the outbox: every `pending` outbound row gets its `send` job. */
export async function reconcileOutbound(db: Database, queue: Queue<SendJob>, log: Logger, graceMs = 15_000): Promise<number> {
  let count = 0;
  for (const r of await pendingOutbound(db, new Date(Date.now() - graceMs), 5_000)) {
    if (await requeueSend(queue, r.id)) count++;
  }
  if (count > 0) log.info({ count }, 'reconciler re-enqueued pending outbound mail');
  return count;
}
