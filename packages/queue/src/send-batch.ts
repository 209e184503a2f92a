import type { Queue } from 'bullmq';
import { z } from 'zod';
import { rowsOfLiveBatches, SendJob, sendJobId, type BatchRows, type Queues } from './queues';

/** The most rows one `send-batch` job carries (BLEND_SEND_BATCH is validated against it). */
export const MAX_SEND_BATCH = 500;

/**
 * Payload of a `send-batch` job on the `send` queue: outbox rows written together (a batch of
 * digests, a notification sweep), claimed in one statement and recorded `sent` a group at a
 * time (docs/ARCHITECTURE.md "Outbound mail"). Rows written one at a time keep their own
 * `send` job.
 */
export const SendBatchJob = z.object({ outboundIds: z.array(z.string().uuid()).min(1).max(MAX_SEND_BATCH) });
export type SendBatchJob = z.infer<typeof SendBatchJob>;

/** The job name of a batch; a plain `send` job carries one row. */
export const SEND_BATCH_NAME = 'send-batch';
const BATCH_ID_PREFIX = 'sends-';

/** Deterministic job id (a row is in one batch: the one it was written with), so adding the same batch twice is one job. */
export const sendBatchJobId = (outboundIds: string[]): string => `${BATCH_ID_PREFIX}${outboundIds[0]}`;

/** The payloads the `send` queue carries. */
export type SendPayload = SendJob | SendBatchJob;

/**
 * Queue the sends of outbox rows that were just committed, `batchSize` rows per job (1: one
 * `send` job per row, as {@link enqueueAll} queues them), all in one round trip. A failure is
 * logged and left to the reconciler, which finds the rows (docs/ARCHITECTURE.md invariant 1).
 */
export async function enqueueSendBatches(
  queues: Pick<Queues, 'send'>,
  ids: string[],
  batchSize: number,
  log: { warn: (obj: object, msg: string) => void },
): Promise<void> {
  if (ids.length === 0) return;
  const size = Math.max(1, Math.min(batchSize, MAX_SEND_BATCH));
  const jobs = [];
  for (let i = 0; i < ids.length; i += size) {
    const chunk = ids.slice(i, i + size);
    jobs.push(
      chunk.length === 1
        ? { name: 'send', data: SendJob.parse({ outboundId: chunk[0] }) as SendPayload, opts: { jobId: sendJobId(chunk[0]!) } }
        : { name: SEND_BATCH_NAME, data: SendBatchJob.parse({ outboundIds: chunk }) as SendPayload, opts: { jobId: sendBatchJobId(chunk) } },
    );
  }
  // BullMQ's generic job types do not narrow on a name; each payload was validated above.
  const queue = queues.send as unknown as Queue<SendPayload>;
  for (let i = 0; i < jobs.length; i += 500) {
    const part = jobs.slice(i, i + 500);
    await queue.addBulk(part).catch((err: unknown) => log.warn({ err, count: part.length }, 'enqueue of sends failed; left to the reconciler'));
  }
}

/** Rows per `send-batch` job of {@link enqueueAll}: BLEND_SEND_BATCH's default. */
export const DEFAULT_SEND_BATCH = 20;

/**
 * Queue the sends of outbox rows that were just committed together (an ingest batch's notices
 * and receipts, a digest run's), `batchSize` rows per `send-batch` job, in bulk: one job, one
 * claim and one settle for the rows of a batch instead of one each per mail. Job ids make a
 * second add of the same rows a no-op; a failure is logged and left to the reconciler, which
 * finds the rows (docs/ARCHITECTURE.md invariant 1).
 */
export async function enqueueAll(queues: Pick<Queues, 'send'>, ids: string[], log: { warn: (obj: object, msg: string) => void }, batchSize = DEFAULT_SEND_BATCH): Promise<void> {
  await enqueueSendBatches(queues, ids, batchSize, log);
}

/**
 * The outbox rows that live `send-batch` jobs hold, so the reconciler does not queue them
 * again one by one while their batch waits behind others; with `known`, kept from one call to
 * the next, each batch job is read once (see {@link rowsOfLiveBatches}).
 */
export async function rowsInLiveBatches(queue: Queue<SendJob>, known: BatchRows = new Map(), singles = false): Promise<Set<string>> {
  return rowsOfLiveBatches([queue as unknown as Queue<SendPayload>], BATCH_ID_PREFIX, (data) => {
    const parsed = SendBatchJob.safeParse(data);
    return parsed.success ? parsed.data.outboundIds : null;
  }, known, singles ? sendJobId('') : undefined);
}
