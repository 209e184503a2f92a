import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { getEsnPostView, getInbound, schema, storeFetched } from '@blend/db';
import { ingest, ingestBatch, MAX_INGEST_TRIES, MemoryBudget, reconcileInbound, type IngestDeps } from '@blend/worker';
import { createLogger } from '@blend/runtime';
import { createProducerRedis, createQueues, enqueueIngestBatch, IngestJob, ingestRowIds, ingestRowsInLiveBatches } from '@blend/queue';
import { fixtureThread, ingestDeps, seedIngestDatabase, storeBatch as storeMails } from './support/ingest';
import { createTestDatabase, type TestDatabase } from './support/database';

// Ingest of a batch of stored rows in one transaction (each mail in a savepoint of its own once one fails)
// (docs/ARCHITECTURE.md "Ingest, one mail at a time"), against a real Postgres.

let t: TestDatabase;
const deps = (): IngestDeps => ingestDeps(t.db, { senderAuth: { mode: 'none', orgDomains: ['corp.test'] } });

/** UIDs of the rows this file stores itself, above storeBatch's. */
let uid = 1_000_000;
const thread = fixtureThread;
const storeBatch = (mails: { raw: string; messageId?: string }[]) => storeMails(t.db, 'imap://batch', mails);

const row = async (id: string) => (await getInbound(t.db, id))!;

beforeAll(async () => {
  t = await createTestDatabase();
  await seedIngestDatabase(t.db);
});
afterAll(async () => t?.drop());

describe('ingest of a batch', () => {
  it('threads a reply under its parent from the same batch, in one transaction', async () => {
    const { parent, reply } = thread('b1');
    const [parentId, replyId] = await storeBatch([
      { raw: parent, messageId: 'b1-1@corp.test' },
      { raw: reply, messageId: 'b1-2@corp.test' },
    ]);
    const result = await ingestBatch([replyId!, parentId!], deps());
    expect(result.alone).toEqual([]);
    // Written in the order the mails arrived, whatever the job's order.
    expect(result.outcomes.map((o) => o.inboundId)).toEqual([parentId, replyId]);
    const p = await row(parentId!);
    expect(p.state).toBe('posted');
    expect(await row(replyId!)).toMatchObject({ state: 'commented', postId: p.postId });
    const view = (await getEsnPostView(t.db, p.postId!, null))!;
    expect(view.comments.map((c) => c.author.email)).toEqual(['bob@corp.test']);
  });

  it('holds a reply that arrived before its parent and writes it, parsed once, after the batch has committed the parent', async () => {
    const { parent, reply } = thread('b2');
    const [replyId, parentId] = await storeBatch([
      { raw: reply, messageId: 'b2-2@corp.test' },
      { raw: parent, messageId: 'b2-1@corp.test' },
    ]);
    const result = await ingestBatch([replyId!, parentId!], deps());
    expect(result.alone).toEqual([]);
    expect(result.outcomes.map((o) => o.inboundId)).toEqual([parentId, replyId]);
    const p = await row(parentId!);
    expect(p.state).toBe('posted');
    // Claimed once, by this batch: no job of its own.
    expect(await row(replyId!)).toMatchObject({ state: 'commented', postId: p.postId, attempts: 1 });
  });

  it('does not count a try that ended waiting for a parent, alone either, so a slow parent never makes a reply conversion_died', async () => {
    const { parent, reply } = thread('b14');
    const [parentId, replyId] = await storeBatch([
      { raw: parent, messageId: 'b14-1@corp.test' },
      { raw: reply, messageId: 'b14-2@corp.test' },
    ]);
    for (let i = 0; i < MAX_INGEST_TRIES + 2; i++) await expect(ingest({ inboundId: replyId! }, deps())).rejects.toThrow(/parent message is stored but not ingested yet/);
    expect(await row(replyId!)).toMatchObject({ state: 'received', attempts: 0 });
    const p = await ingest({ inboundId: parentId! }, deps());
    expect(await ingest({ inboundId: replyId! }, deps())).toMatchObject({ state: 'commented', postId: (p as { postId: string }).postId });
  });

  it('goes in parts that fit the memory budget, one after another, and still threads a reply', async () => {
    const { parent, reply } = thread('b12');
    const third = thread('b13').parent;
    const ids = await storeBatch([
      { raw: parent, messageId: 'b12-1@corp.test' },
      { raw: reply, messageId: 'b12-2@corp.test' },
      { raw: third, messageId: 'b13-1@corp.test' },
    ]);
    // Room for the parent and no more: the reply and the third mail go in later parts.
    const budget = new MemoryBudget(Buffer.byteLength(parent) + 10);
    const result = await ingestBatch(ids, { ...deps(), memoryBudget: budget });
    expect(result.alone).toEqual([]);
    expect(result.outcomes.map((o) => o.outcome.state)).toEqual(['posted', 'commented', 'posted']);
    expect(budget.available).toBe(budget.capacity);
  });

  it('makes copies of one mail in one batch one post and duplicates', async () => {
    const { parent } = thread('b3');
    const ids = await storeBatch([
      { raw: parent, messageId: 'b3-1@corp.test' },
      { raw: parent, messageId: 'b3-1@corp.test' },
      { raw: parent, messageId: 'b3-1@corp.test' },
    ]);
    const result = await ingestBatch(ids, deps());
    expect(result.outcomes.map((o) => o.outcome.state)).toEqual(['posted', 'duplicate', 'duplicate']);
    expect(result.outcomes[1]!.outcome).toMatchObject({ of: ids[0] });
    const posts = await t.db.select().from(schema.posts).where(eq(schema.posts.dedupeKey, 'mid:b3-1@corp.test'));
    expect(posts).toHaveLength(1);
  });

  it('rolls back a mail whose write fails alone: the others of the batch commit', async () => {
    // A constraint the write of one mail violates (a real error of Postgres in the middle of
    // the transaction), for this test's database only.
    await t.db.execute(sql`alter table posts add constraint test_no_poison check (title not like 'Poison pill%') not valid`);
    const poison = thread('b4').parent.replaceAll('Plan b4', 'Poison pill');
    const good = thread('b5');
    const [goodId, poisonId, replyId] = await storeBatch([
      { raw: good.parent, messageId: 'b5-1@corp.test' },
      { raw: poison, messageId: 'b4-1@corp.test' },
      { raw: good.reply, messageId: 'b5-2@corp.test' },
    ]);
    const result = await ingestBatch([goodId!, poisonId!, replyId!], deps());
    expect(result.alone, JSON.stringify(result.outcomes)).toEqual([poisonId]);
    expect(result.outcomes.map((o) => [o.inboundId, o.outcome.state])).toEqual([
      [goodId, 'posted'],
      [replyId, 'commented'],
    ]);
    const g = await row(goodId!);
    expect(await row(replyId!)).toMatchObject({ state: 'commented', postId: g.postId });
    // Nothing of the poisoned mail was kept; it waits for its own job, counted once.
    expect(await row(poisonId!)).toMatchObject({ state: 'received', attempts: 1, postId: null });
    expect(await t.db.select().from(schema.messageRefs).where(eq(schema.messageRefs.messageId, 'b4-1@corp.test'))).toEqual([]);
    // Alone it fails as any mail whose write fails: the job's retries, then `failed`.
    await expect(ingest({ inboundId: poisonId! }, deps())).rejects.toThrow(/insert into "posts"/);
    await t.db.execute(sql`alter table posts drop constraint test_no_poison`);
  });

  it('ends mails that cannot be read in the batch, beside the others', async () => {
    const { parent } = thread('b6');
    const parts = Array.from({ length: 600 }, (_, i) => `--B\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`).join('');
    const bomb =
      'From: alice@corp.test\r\nTo: status@example.test\r\nSubject: bomb\r\nMessage-ID: <b6-bomb@corp.test>\r\n' +
      `MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n${parts}--B--\r\n`;
    const [bombId, goodId] = await storeBatch([{ raw: bomb }, { raw: parent, messageId: 'b6-1@corp.test' }]);
    const [unread] = await storeFetched(t.db, 'imap://batch', 1, [{ uid: ++uid, size: 10, raw: null, internalDate: null }]);
    const result = await ingestBatch([bombId!, goodId!, unread!.id], deps());
    expect(result.alone).toEqual([]);
    expect(await row(bombId!)).toMatchObject({ state: 'rejected', reason: 'mime_limits' });
    expect(await row(unread!.id)).toMatchObject({ state: 'rejected', reason: 'missing_source' });
    expect((await row(goodId!)).state).toBe('posted');
  });

  it('splits a batch that was started before and never finished, so a mail that kills the worker dies alone', async () => {
    const { parent, reply } = thread('b7');
    const ids = await storeBatch([
      { raw: parent, messageId: 'b7-1@corp.test' },
      { raw: reply, messageId: 'b7-2@corp.test' },
    ]);
    // As if the worker died in the middle of the batch: its tries were counted, nothing else.
    await t.db.update(schema.inboundMessages).set({ attempts: 1 }).where(eq(schema.inboundMessages.id, ids[0]!));
    const result = await ingestBatch(ids, deps());
    expect(result).toEqual({ outcomes: [], alone: ids });
    expect((await row(ids[0]!)).attempts).toBe(2);
    expect((await row(ids[1]!)).attempts).toBe(1);
    // A row started MAX_INGEST_TRIES times ends `conversion_died` in its own job, the other goes on.
    await t.db.update(schema.inboundMessages).set({ attempts: MAX_INGEST_TRIES }).where(eq(schema.inboundMessages.id, ids[0]!));
    expect(await ingest({ inboundId: ids[0]! }, deps())).toEqual({ state: 'failed', reason: 'conversion_died' });
    expect((await ingest({ inboundId: ids[1]! }, deps())).state).toMatch(/^(commented|posted)$/);
  });

  it('skips rows already final, and still runs jobs queued as one row', async () => {
    const { parent } = thread('b8');
    const [id] = await storeBatch([{ raw: parent, messageId: 'b8-1@corp.test' }]);
    // A job from before batches, as it waits in Redis at an upgrade.
    const old = IngestJob.parse({ inboundId: id });
    expect(ingestRowIds(old)).toEqual([id]);
    expect((await ingest({ inboundId: ingestRowIds(old)[0]! }, deps())).state).toBe('posted');
    expect(await ingestBatch([id!], deps())).toEqual({ outcomes: [], alone: [] });
    expect(ingestRowIds(IngestJob.parse({ inboundIds: [id, id] }))).toHaveLength(2);
  });

  it('queues a batch as one job, and the reconciler does not queue its rows again while it waits', async () => {
    const redis = createProducerRedis('redis://127.0.0.1:6379');
    // A queue prefix of this test's own that no worker reads: the jobs stay waiting.
    const queues = createQueues(redis, `blend-test-batch-${randomBytes(4).toString('hex')}`);
    try {
      const { parent, reply } = thread('b9');
      const batch = await storeBatch([{ raw: parent }, { raw: reply }, { raw: thread('b10').parent }]);
      const [lost] = await storeBatch([{ raw: thread('b11').parent }]);
      await enqueueIngestBatch(queues.ingest, batch);
      await enqueueIngestBatch(queues.ingest, [...batch].reverse());
      expect(await queues.ingest.getJobCounts('waiting')).toEqual({ waiting: 1 });
      expect([...(await ingestRowsInLiveBatches([queues.ingest]))].sort()).toEqual([...batch].sort());
      // The row without a job is queued again, as a job of its own; the batch's rows are not.
      expect(await reconcileInbound(t.db, queues.ingest, createLogger('test', 'silent'), 0)).toBeGreaterThanOrEqual(1);
      expect((await queues.ingest.getJob(`ingest-${lost}`))?.data).toEqual({ inboundId: lost });
      for (const id of batch) expect(await queues.ingest.getJob(`ingest-${id}`)).toBeUndefined();
      const [waiting] = await queues.ingest.getJobs(['waiting'], 0, 0, true);
      expect(ingestRowIds(IngestJob.parse(waiting!.data))).toEqual(batch);
    } finally {
      await queues.ingest.obliterate({ force: true });
      await queues.close();
      redis.disconnect();
    }
  });
});
