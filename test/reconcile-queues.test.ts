// The reconciler and the two ingest queues (docs/ARCHITECTURE.md "Processes and the flow"):
// what it finds goes to ingest-backlog, never ahead of new mail, and a row whose job still
// waits in either queue is not queued a second time. Real Postgres and Redis, no worker.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addOutbound, storeFetched } from '@blend/db';
import { reconcileInbound, reconcileOutbound } from '@blend/worker';
import { createLogger } from '@blend/runtime';
import { createProducerRedis, createQueues, enqueueIngest, enqueueIngestBatch, enqueueSendBatches, ingestJobId, type Queues } from '@blend/queue';
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
  await queues?.send.obliterate({ force: true });
  await queues?.close();
  redis?.disconnect();
  await t?.drop();
});

const raw = (n: number) => Buffer.from(`From: alice@corp.test\r\nMessage-ID: <r${n}@corp.test>\r\nSubject: ${n}\r\n\r\nText.\r\n`);

describe('reconcileInbound with the live and the backlog queue', () => {
  it('queues a row without a job on ingest-backlog, and leaves one whose job waits on the live queue', async () => {
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

  it('leaves the rows of every waiting batch, not only those of the first two of each state', async () => {
    // A catch-up: five batches wait on ingest-backlog, three mails of one row each on the live
    // queue. Every row has a live job, so nothing is queued again (a second job would find
    // its row finished by the batch and be spent for nothing).
    const stored = await storeFetched(t.db, 'imap://catch-up', 1, Array.from({ length: 13 }, (_, i) => ({ uid: i + 1, size: 60, raw: raw(100 + i), internalDate: null, messageId: `r${100 + i}@corp.test` })));
    const ids = stored.sort((a, b) => a.uid - b.uid).map((r) => r.id);
    const waiting = async () => [(await queues.ingestBacklog.getJobCounts('waiting')).waiting, (await queues.ingest.getJobCounts('waiting')).waiting];
    const [backlog, live] = await waiting();
    for (let i = 0; i < 10; i += 2) await enqueueIngestBatch(queues.ingestBacklog, ids.slice(i, i + 2));
    for (const id of ids.slice(10)) await enqueueIngest(queues.ingest, id);
    expect(await waiting()).toEqual([backlog! + 5, live! + 3]);

    expect(await reconcileInbound(t.db, queues.ingestBacklog, createLogger('test', 'silent'), 0, [queues.ingest])).toBe(0);
    expect(await waiting()).toEqual([backlog! + 5, live! + 3]);
  });
});

describe('reconcileOutbound', () => {
  it('leaves the rows of every waiting send batch', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const id = randomUUID();
      await addOutbound(t.db, { id, kind: 'digest', toAddress: `p${i}@corp.test`, messageId: `${id}@blend.test`, subject: `digest ${i}`, textBody: 'text\n' });
      ids.push(id);
    }
    await enqueueSendBatches(queues, ids, 2, { warn: () => undefined });
    expect(await queues.send.getJobCounts('waiting')).toEqual({ waiting: 5 });

    expect(await reconcileOutbound(t.db, queues.send, createLogger('test', 'silent'), 0)).toBe(0);
    expect(await queues.send.getJobCounts('waiting')).toEqual({ waiting: 5 });
  });
});
