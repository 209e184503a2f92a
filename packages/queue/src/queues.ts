import { Queue, type ConnectionOptions, type DefaultJobOptions } from 'bullmq';
import { z } from 'zod';

/** Every queue Blend uses. */
export const QueueName = { ingest: 'ingest' } as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

/** Payload of `ingest`: only the row id; the message itself stays in Postgres. */
export const IngestJob = z.object({ inboundId: z.string().uuid() });
export type IngestJob = z.infer<typeof IngestJob>;

/** Deterministic job id, so enqueueing the same row twice is one job. */
export const ingestJobId = (inboundId: string): string => `ingest-${inboundId}`;

/**
 * Retries: exponential backoff from 1 s, 10 attempts (about 17 minutes in all), enough to
 * ride out a Postgres restart. Completed jobs are kept briefly; the row in Postgres is
 * the record.
 */
export const INGEST_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 3_600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3_600 },
};

export interface Queues {
  ingest: Queue<IngestJob>;
  close(): Promise<void>;
}

export function createQueues(connection: ConnectionOptions, prefix: string): Queues {
  const ingest = new Queue<IngestJob>(QueueName.ingest, { connection, prefix, defaultJobOptions: INGEST_JOB_OPTIONS });
  return {
    ingest,
    close: async () => {
      await ingest.close();
    },
  };
}

/** Enqueue the ingest of one stored inbound row (idempotent by job id). */
export async function enqueueIngest(queue: Queue<IngestJob>, inboundId: string): Promise<void> {
  await queue.add('ingest', IngestJob.parse({ inboundId }), { jobId: ingestJobId(inboundId) });
}
