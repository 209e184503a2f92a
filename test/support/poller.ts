import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { parseImapUrl } from '@blend/mail';
import { MailboxPoller, type PollerOptions } from '@blend/poller';
import { createProducerRedis, createQueues, type Queues } from '@blend/queue';
import { createLogger, processMetrics } from '@blend/runtime';
import { startStack, type Stack } from './stack';

/**
 * A poller of the stack's mailbox in the test's own process, with periodic syncs and IDLE
 * restarts out of the test's time, its log at debug level parsed line by line into `lines`
 * (a test reads its `stored batch` lines, say). Started by the caller.
 */
export function debugPoller<L extends { msg: string }>(s: Stack, queues: Queues, lines: L[], more: Partial<PollerOptions> = {}): MailboxPoller {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as L);
      done();
    },
  });
  return new MailboxPoller({
    target: parseImapUrl(s.mail.imapUrl),
    db: s.db.db,
    ingestQueue: queues.ingest,
    backlogQueue: queues.ingestBacklog,
    log: createLogger('test', 'debug', sink),
    metrics: processMetrics(),
    pollIntervalMs: 600_000,
    idleRestartMs: 600_000,
    maxMessageBytes: 1_000_000,
    doneFlag: '$BlendDone',
    ...more,
  });
}

/** A stack whose mailbox a test polls with a {@link debugPoller} of its own, and the queues that poller fills. */
export interface PollerStack {
  readonly s: Stack;
  readonly queues: Queues;
}

/**
 * Start, before the file's tests, a stack with neither its poller nor its worker running (the
 * test's poller stores, nothing ingests) and queues on its Redis; after them stop the test's
 * poller (`poller()`), the queues and the stack.
 */
export function pollerStack(poller: () => MailboxPoller | undefined): PollerStack {
  let s: Stack | undefined;
  let redis: Redis | undefined;
  let queues: Queues | undefined;
  beforeAll(async () => {
    s = await startStack({ BLEND_SENDER_AUTH: 'none' }, { poller: false });
    await s.stopWorker();
    redis = createProducerRedis(s.config.REDIS_URL);
    redis.on('error', () => undefined);
    queues = createQueues(redis, s.config.BLEND_QUEUE_PREFIX);
  });
  afterAll(async () => {
    await poller()?.stop();
    await queues?.close();
    redis?.disconnect();
    await s?.stop();
  });
  return {
    get s() {
      return s!;
    },
    get queues() {
      return queues!;
    },
  };
}
