import type { Queue } from 'bullmq';
import { pendingOutbound, unfinishedInbound, type Database } from '@blend/db';
import type { Logger } from '@blend/config';
import { enqueueIngest, enqueueSend, ingestJobId, sendJobId, type IngestJob, type SendJob } from '@blend/queue';

/**
 * Postgres is the source of truth (DESIGN invariant 1): every inbound row still
 * `received` after `graceMs` gets its ingest job again unless one is waiting, delayed or
 * running. The job id is deterministic and ingest ignores rows that are already final,
 * so a spurious re-enqueue costs one no-op job.
 * @returns how many rows were (re-)enqueued.
 */
export async function reconcileInbound(db: Database, queue: Queue<IngestJob>, log: Logger, graceMs = 15_000): Promise<number> {
  const rows = await unfinishedInbound(db, new Date(Date.now() - graceMs), 5_000);
  let count = 0;
  for (const r of rows) {
    const existing = await queue.getJob(ingestJobId(r.id));
    if (existing) {
      const state = await existing.getState();
      if (state === 'waiting' || state === 'delayed' || state === 'active' || state === 'prioritized' || state === 'waiting-children') continue;
      // Completed or failed while the row is still `received`: the final update was lost.
      await existing.remove();
    }
    await enqueueIngest(queue, r.id);
    count++;
  }
  if (count > 0) log.info({ count }, 'reconciler re-enqueued unfinished inbound mail');
  return count;
}

/** The same for the outbox: every `pending` outbound row gets its `send` job. */
export async function reconcileOutbound(db: Database, queue: Queue<SendJob>, log: Logger, graceMs = 15_000): Promise<number> {
  const rows = await pendingOutbound(db, new Date(Date.now() - graceMs), 5_000);
  let count = 0;
  for (const r of rows) {
    const existing = await queue.getJob(sendJobId(r.id));
    if (existing) {
      const state = await existing.getState();
      if (state === 'waiting' || state === 'delayed' || state === 'active' || state === 'prioritized' || state === 'waiting-children') continue;
      await existing.remove();
    }
    await enqueueSend(queue, r.id);
    count++;
  }
  if (count > 0) log.info({ count }, 'reconciler re-enqueued pending outbound mail');
  return count;
}
