import { createHash } from 'node:crypto';
import { Queue, type ConnectionOptions, type DefaultJobOptions } from 'bullmq';
import { z } from 'zod';

/** Every queue Blend uses. */
export const QueueName = { ingest: 'ingest', ingestBacklog: 'ingest-backlog', send: 'send', webhook: 'webhook', digest: 'digest', notify: 'notify' } as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

/** The most stored rows one `ingest` job carries (BLEND_IMAP_BATCH_SIZE's maximum). */
export const MAX_INGEST_BATCH = 1000;

/**
 * Payload of `ingest`: row ids only; the messages stay in Postgres. One row (`inboundId`, also
 * every job queued before batches), or a batch the poller stored together (`inboundIds`, ingested
 * in one transaction; docs/ARCHITECTURE.md "Ingest, one mail at a time").
 */
export const IngestJob = z.union([
  z.object({ inboundId: z.string().uuid() }),
  z.object({ inboundIds: z.array(z.string().uuid()).min(1).max(MAX_INGEST_BATCH) }),
]);
export type IngestJob = z.infer<typeof IngestJob>;

/** The rows an `ingest` job is about, whichever payload it has. */
export const ingestRowIds = (job: IngestJob): string[] => ('inboundIds' in job ? job.inboundIds : [job.inboundId]);

/** Deterministic job id, so enqueueing the same row twice is one job. */
export const ingestJobId = (inboundId: string): string => `ingest-${inboundId}`;

const INGEST_BATCH_PREFIX = 'ingest-batch-';

/** Deterministic job id of a batch: the same rows queued twice are one job. */
export const ingestBatchJobId = (inboundIds: string[]): string =>
  `${INGEST_BATCH_PREFIX}${createHash('sha256').update([...inboundIds].sort().join(',')).digest('hex').slice(0, 32)}`;

/**
 * Retry delay of an ingest job: exponential from 1 s, capped at 15 s, so a job resumes
 * within seconds of a database coming back instead of sleeping through minutes of backoff
 * it accumulated during the outage. Pure data, used by the worker's `backoffStrategy`.
 */
export function ingestBackoff(attemptsMade: number): number {
  return Math.min(15_000, 1_000 * 2 ** Math.max(0, attemptsMade - 1));
}

/**
 * Retries: capped exponential backoff (see ingestBackoff), 40 attempts: about 9 minutes of
 * an unavailable database before a row is marked `failed` (the reconciler still picks up
 * anything left `received`). Completed jobs are kept briefly; the row is the record.
 */
export const INGEST_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 40,
  backoff: { type: 'ingest' },
  removeOnComplete: { age: 3_600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3_600 },
};

/** Payload of `send`: the outbox row id; the mail itself stays in Postgres. */
export const SendJob = z.object({ outboundId: z.string().uuid() });
export type SendJob = z.infer<typeof SendJob>;

export const sendJobId = (outboundId: string): string => `send-${outboundId}`;

/**
 * Sends retry for about a day (exponential from 5 s, 14 attempts), so an SMTP server that is
 * down for hours loses nothing; the row stays `pending` meanwhile (docs/SECURITY.md F22).
 */
export const SEND_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 14,
  backoff: { type: 'exponential', delay: 5_000 },
  removeOnComplete: { age: 3_600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3_600 },
};

/** Payload of `webhook`: one delivery row, at one attempt number (so each attempt is one job). */
export const WebhookJob = z.object({ deliveryId: z.string().uuid(), attempt: z.number().int().min(0) });
export type WebhookJob = z.infer<typeof WebhookJob>;
export const webhookJobId = (j: WebhookJob): string => `webhook-${j.deliveryId}-${j.attempt}`;

/**
 * Payload of `digest`: a tick of the digest schedule (BullMQ job scheduler, one job per
 * interval whatever the number of workers). Who is due is decided from Postgres.
 */
export const DigestJob = z.object({}).strict();
export type DigestJob = z.infer<typeof DigestJob>;
export const DIGEST_SCHEDULER_ID = 'digest-tick';

/**
 * Payload of `notify`: a tick of the notification sweep (BullMQ job scheduler, one job per
 * interval whatever the number of workers). Which notifications are due is decided from Postgres.
 */
export const NotifyJob = z.object({}).strict();
export type NotifyJob = z.infer<typeof NotifyJob>;
export const NOTIFY_SCHEDULER_ID = 'notify-sweep';

export interface Queues {
  /** Live mail: what the poller hears of by IDLE or finds in a small sync, and mail a person released or replayed. */
  ingest: Queue<IngestJob>;
  /**
   * A catch-up's mail (a sync that found more than one batch waiting) and the reconciler's
   * re-queues: the same jobs as `ingest`, in a queue of its own so that live mail never waits
   * behind them (docs/ARCHITECTURE.md "Processes and the flow").
   */
  ingestBacklog: Queue<IngestJob>;
  send: Queue<SendJob>;
  webhook: Queue<WebhookJob>;
  digest: Queue<DigestJob>;
  notify: Queue<NotifyJob>;
  close(): Promise<void>;
}

export function createQueues(connection: ConnectionOptions, prefix: string, onError: (err: Error) => void = () => undefined): Queues {
  const ingest = new Queue<IngestJob>(QueueName.ingest, { connection, prefix, defaultJobOptions: INGEST_JOB_OPTIONS });
  const ingestBacklog = new Queue<IngestJob>(QueueName.ingestBacklog, { connection, prefix, defaultJobOptions: INGEST_JOB_OPTIONS });
  const send = new Queue<SendJob>(QueueName.send, { connection, prefix, defaultJobOptions: SEND_JOB_OPTIONS });
  // Retries of a webhook are new jobs per attempt (the row's backoff decides when), so one attempt each.
  const webhook = new Queue<WebhookJob>(QueueName.webhook, { connection, prefix, defaultJobOptions: { attempts: 1, removeOnComplete: { age: 3_600 }, removeOnFail: { age: 86_400 } } });
  webhook.on('error', onError);
  const digest = new Queue<DigestJob>(QueueName.digest, { connection, prefix, defaultJobOptions: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } });
  digest.on('error', onError);
  const notify = new Queue<NotifyJob>(QueueName.notify, { connection, prefix, defaultJobOptions: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } });
  notify.on('error', onError);
  // While Redis is down the queues emit connection errors; the caller decides how loud.
  ingest.on('error', onError);
  ingestBacklog.on('error', onError);
  send.on('error', onError);
  return {
    ingest,
    ingestBacklog,
    send,
    webhook,
    digest,
    notify,
    close: async () => {
      await Promise.all([ingest.close(), ingestBacklog.close(), send.close(), webhook.close(), digest.close(), notify.close()]);
    },
  };
}

/** Enqueue one attempt of one webhook delivery (idempotent by job id). */
export async function enqueueWebhook(queue: Queue<WebhookJob>, j: WebhookJob): Promise<void> {
  await queue.add('webhook', WebhookJob.parse(j), { jobId: webhookJobId(j) });
}

/** Enqueue the send of one outbox row (idempotent by job id). */
export async function enqueueSend(queue: Queue<SendJob>, outboundId: string): Promise<void> {
  await queue.add('send', SendJob.parse({ outboundId }), { jobId: sendJobId(outboundId) });
}

/** Enqueue the sends of many outbox rows in one round trip (idempotent by job id). */
export async function enqueueSends(queue: Queue<SendJob>, outboundIds: string[]): Promise<void> {
  if (outboundIds.length === 0) return;
  await queue.addBulk(outboundIds.map((outboundId) => ({ name: 'send', data: SendJob.parse({ outboundId }), opts: { jobId: sendJobId(outboundId) } })));
}

/** Enqueue the ingest of one stored inbound row (idempotent by job id). */
export async function enqueueIngest(queue: Queue<IngestJob>, inboundId: string): Promise<void> {
  await queue.add('ingest', IngestJob.parse({ inboundId }), { jobId: ingestJobId(inboundId) });
}

/**
 * Enqueue the ingest of rows stored together as one job (idempotent by job id), into whichever
 * ingest queue the caller picks. A batch of one is queued as {@link enqueueIngest} queues it.
 */
export async function enqueueIngestBatch(queue: Queue<IngestJob>, inboundIds: string[]): Promise<void> {
  if (inboundIds.length === 0) return;
  if (inboundIds.length === 1) return enqueueIngest(queue, inboundIds[0]!);
  for (let i = 0; i < inboundIds.length; i += MAX_INGEST_BATCH) {
    const ids = inboundIds.slice(i, i + MAX_INGEST_BATCH);
    await queue.add('ingest', IngestJob.parse({ inboundIds: ids }), { jobId: ingestBatchJobId(ids) });
  }
}

/**
 * The rows that live batch jobs of these ingest queues hold, so the reconciler does not queue
 * them again one by one while their batch waits behind others (a catch-up's backlog). With
 * `known` (kept by the caller from one call to the next), a batch job is read once in its life,
 * not at every call: its rows never change; jobs no longer live leave it.
 */
export async function ingestRowsInLiveBatches(queues: Queue<IngestJob>[], known: BatchRows = new Map(), singles = false): Promise<Set<string>> {
  return rowsOfLiveBatches(queues, INGEST_BATCH_PREFIX, (data) => {
    const parsed = IngestJob.safeParse(data);
    return parsed.success ? ingestRowIds(parsed.data) : null;
  }, known, singles ? INGEST_JOB_PREFIX : undefined);
}

const INGEST_JOB_PREFIX = 'ingest-';

/** The states of a job that will still run, or runs now. */
const LIVE_JOB_STATES = ['waiting', 'delayed', 'active', 'prioritized', 'waiting-children'] as const;
const LIVE_STATES = new Set<string>(LIVE_JOB_STATES);

/** The rows of batch jobs already read, by queue and job id ({@link rowsOfLiveBatches}). */
export type BatchRows = Map<string, readonly string[]>;

/**
 * The rows that the live jobs of `queues` whose id starts with `prefix` hold (`rowsOf` reads a
 * job's payload; null for one that is not a batch), each job read once while it is in `known`.
 * With `singlePrefix`, also the row of each live job of one row (its id is the prefix and the
 * row's), read from the job ids alone.
 */
export async function rowsOfLiveBatches<T>(queues: Queue<T>[], prefix: string, rowsOf: (data: unknown) => readonly string[] | null, known: BatchRows, singlePrefix?: string): Promise<Set<string>> {
  const rows = new Set<string>();
  const live = new Set<string>();
  for (const queue of queues) {
    // Every live job (0 to -1): without a range, `getRanges` gives the first two of each state
    // only, and the reconciler would queue the rows of the batches behind them again, one job
    // each, which then find their rows finished by the batch.
    for (const id of await queue.getRanges([...LIVE_JOB_STATES], 0, -1)) {
      if (!id.startsWith(prefix)) {
        if (singlePrefix && id.startsWith(singlePrefix)) rows.add(id.slice(singlePrefix.length));
        continue;
      }
      const key = `${queue.qualifiedName}:${id}`;
      live.add(key);
      let held = known.get(key);
      if (!held) {
        const read = rowsOf((await queue.getJob(id))?.data);
        if (!read) continue;
        known.set(key, (held = read));
      }
      for (const r of held) rows.add(r);
    }
  }
  for (const key of known.keys()) if (!live.has(key)) known.delete(key);
  return rows;
}

/**
 * Enqueue a job again for a row that was put back to work (a release, a replay, the
 * reconciler). A finished job with the same id would make `add` a no-op, so it is removed
 * first; a job that is still waiting or running is left alone, also one in a queue of
 * `elsewhere` (the other ingest queue, so a row is never queued in both).
 * @returns whether a new job was added.
 */
export async function requeue<T>(queue: Queue<T>, name: string, jobId: string, data: T, elsewhere: Queue<T>[] = []): Promise<boolean> {
  for (const other of elsewhere) {
    const job = await other.getJob(jobId);
    if (job && LIVE_STATES.has(await job.getState())) return false;
  }
  const existing = await queue.getJob(jobId);
  if (existing) {
    if (LIVE_STATES.has(await existing.getState())) return false;
    await existing.remove();
  }
  // BullMQ's generic job types do not narrow on a plain name; the payload is validated by the caller.
  await (queue as unknown as Queue).add(name, data, { jobId });
  return true;
}

export const requeueIngest = (queue: Queue<IngestJob>, inboundId: string, elsewhere: Queue<IngestJob>[] = []) =>
  requeue(queue, 'ingest', ingestJobId(inboundId), IngestJob.parse({ inboundId }), elsewhere);
export const requeueSend = (queue: Queue<SendJob>, outboundId: string) =>
  requeue(queue, 'send', sendJobId(outboundId), SendJob.parse({ outboundId }));

/** Run the digest tick every `everyMs` (idempotent: every worker may call it at start). */
export async function scheduleDigests(queue: Queue<DigestJob>, everyMs: number): Promise<void> {
  await queue.upsertJobScheduler(DIGEST_SCHEDULER_ID, { every: everyMs }, { name: 'digest-tick', data: {} });
}

/** Sweep due notifications every `everyMs` (idempotent: every worker may call it at start). */
export async function scheduleNotifySweep(queue: Queue<NotifyJob>, everyMs: number): Promise<void> {
  await queue.upsertJobScheduler(NOTIFY_SCHEDULER_ID, { every: everyMs }, { name: 'notify-sweep', data: {} });
}
