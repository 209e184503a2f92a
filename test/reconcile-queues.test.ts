// The reconciler and the two ingest queues (docs/ARCHITECTURE.md "Processes and the flow"):
// what it finds goes to ingest-backlog, never ahead of new mail, and a row whose job still
// waits in either queue is not queued a second time. Real Postgres and Redis, no worker.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeFetched } from '@blend/db';
import { reconcileInbound } from '@blend/worker';
import { createLogger } from '@blend/runtime';
import { createProducerRedis, createQueues, enqueueIngest, ingestJobId, type Queues } from '@blend/queue';
import { createTestDatabase, type TestDatabase } from './support/database';

let t: TestDatabase;
let redis: ReturnType<typeof createProducerRedis>;
let queues: Queues;

beforeAll(async () => {
  t = await createTestDatabase();
  redis = createProducerRedis('redis://127.0.0.1:6379');
  // A prefix of this test's own that no worker reads: jobs stay waiting.
  queues = createQueues(redis, `blend-test-reconcile-${randomBytes(4).toString('hex')}`);
});
afterAll(async () => {
  await queues?.ingest.obliterate({ force: true });
  await queues?.ingestBacklog.obliterate({ force: true });
  await queues?.close();
  redis?.disconnect();
  await t?.drop();
});

describe('reconcileInbound with the live and the backlog queue', () => {
  it('queues a row without a job on ingest-backlog, and leaves one whose job waits on the live queue', async () => {
    const raw = (n: number) => Buffer.from(`From: alice@corp.test\r\nMessage-ID: <r${n}@corp.test>\r\nSubject: ${n}\r\n\r\nText.\r\n`);
    const rows = await storeFetched(t.db, 'imap://reconcile', 1, [1, 2].map((uid) => ({ uid, size: 60, raw: raw(uid), internalDate: null, messageId: `r${uid}@corp.test` })));
    const [live, lost] = rows.sort((a, b) => a.uid - b.uid).map((r) => r.id);
    await enqueueIngest(queues.ingest, live!);

    expect(await reconcileInbound(t.db, queues.ingestBacklog, createLogger('test', 'silent'), 0, [queues.ingest])).toBe(1);
    expect(await queues.ingestBacklog.getJob(ingestJobId(lost!))).toBeDefined();
    expect(await queues.ingestBacklog.getJob(ingestJobId(live!))).toBeUndefined();
    expect(await queues.ingest.getJobCounts('waiting')).toEqual({ waiting: 1 });
    // Run again: both rows have a waiting job now, so nothing is added.
    expect(await reconcileInbound(t.db, queues.ingestBacklog, createLogger('test', 'silent'), 0, [queues.ingest])).toBe(0);
  });
});
