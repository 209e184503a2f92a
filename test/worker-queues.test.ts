import { afterEach, describe, expect, it } from 'vitest';
import { createProducerRedis, createQueues, type Queues } from '@blend/queue';
import type { Redis } from 'ioredis';
import { startStack, type Stack } from './support/stack';

// BLEND_WORKER_QUEUES: a worker process takes only the queues named, e.g. live mail alone
// (docs/ARCHITECTURE.md "Processes and the flow").
let s: Stack | undefined;
let redis: Redis | undefined;
let queues: Queues | undefined;
afterEach(async () => {
  await queues?.close();
  redis?.disconnect();
  queues = undefined;
  redis = undefined;
  await s?.stop();
  s = undefined;
}, 120_000);

async function listening(q: Queues): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [name, queue] of [['ingest', q.ingest], ['ingest-backlog', q.ingestBacklog], ['send', q.send], ['webhook', q.webhook], ['digest', q.digest], ['notify', q.notify]] as const) {
    out[name] = await queue.getWorkersCount();
  }
  return out;
}

describe('BLEND_WORKER_QUEUES', () => {
  it('a worker for live mail only listens on `ingest` and nothing else', async () => {
    s = await startStack({ BLEND_WORKER_QUEUES: 'ingest' }, { poller: false });
    redis = createProducerRedis(s.config.REDIS_URL);
    queues = createQueues(redis, s.config.BLEND_QUEUE_PREFIX);
    expect(await listening(queues)).toEqual({ ingest: 1, 'ingest-backlog': 0, send: 0, webhook: 0, digest: 0, notify: 0 });
  });

  it('unset, a worker listens on every queue', async () => {
    s = await startStack({}, { poller: false });
    redis = createProducerRedis(s.config.REDIS_URL);
    queues = createQueues(redis, s.config.BLEND_QUEUE_PREFIX);
    expect(await listening(queues)).toEqual({ ingest: 1, 'ingest-backlog': 1, send: 1, webhook: 1, digest: 1, notify: 1 });
  });
});
