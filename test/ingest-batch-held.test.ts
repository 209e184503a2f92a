import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getEsnPostView, getInbound, startIngestAttempts } from '@blend/db';
import { ingest, ingestBatch, type IngestDeps } from '@blend/worker';
import { fixtureThread, ingestDeps, seedIngestDatabase, storeBatch as storeMails } from './support/ingest';
import { whileCounted } from './support/count-transactions';
import { createTestDatabase, type TestDatabase } from './support/database';

// A batch's reply whose parent is in another batch, not committed when the reply's batch
// decides it (docs/ARCHITECTURE.md "Ingest, one mail at a time"), against a real Postgres: the
// parent's batch is the test's, held between its claim and its commit.

let t: TestDatabase;
const deps = (): IngestDeps => ingestDeps(t.db, { senderAuth: { mode: 'none', orgDomains: ['corp.test'] } });

const thread = fixtureThread;
const storeBatch = (mails: { raw: string; messageId?: string }[]) => storeMails(t.db, 'imap://held', mails);

const row = async (id: string) => (await getInbound(t.db, id))!;

beforeAll(async () => {
  t = await createTestDatabase();
  await seedIngestDatabase(t.db);
});
afterAll(async () => t?.drop());

describe('a reply whose parent is in another batch', () => {
  /** deps whose log tells when the batch waits for its held replies' parents. */
  function waitingDeps(waitMs: number): { deps: IngestDeps; waits: Promise<string[]> } {
    const d = deps();
    let told: (ids: string[]) => void = () => {};
    const waits = new Promise<string[]>((r) => (told = r));
    const log = Object.create(d.log) as IngestDeps['log'];
    log.debug = ((obj: { inboundIds?: string[] }, msg?: string) => {
      if (msg === 'replies wait for their parents in other batches') told(obj.inboundIds ?? []);
    }) as IngestDeps['log']['debug'];
    return { deps: { ...d, log, heldReplyWaitMs: waitMs }, waits };
  }

  it("is written by its own batch, parsed once, when the parent's batch commits while it waits", async () => {
    const { parent, reply } = thread('b20');
    const [parentId] = await storeBatch([{ raw: parent, messageId: 'b20-1@corp.test' }]);
    const [replyId, otherId] = await storeBatch([{ raw: reply, messageId: 'b20-2@corp.test' }, { raw: thread('b21').parent, messageId: 'b21-1@corp.test' }]);
    // The parent's batch has claimed it (its try is counted) and not committed.
    await startIngestAttempts(t.db, [parentId!]);
    const { deps: d, waits } = waitingDeps(600_000);
    // The reply is known to wait before its turn: it locks nothing and rolls nothing back; the
    // other mail is written without a savepoint (the batch's first try commits).
    const { value: batch, counted } = await whileCounted(t.pool, async () => {
      const b = ingestBatch([replyId!, otherId!], d);
      await waits;
      return { b };
    });
    expect(counted.log.filter((l) => /savepoint|rollback/.test(l))).toEqual([]);
    expect(counted.log.filter((l) => /statement_timestamp\(\), pg_advisory_xact_lock/.test(l))).toHaveLength(1);
    // The reply's batch committed its other mail and waits for the parent.
    expect(await waits).toEqual([replyId]);
    expect(await row(otherId!)).toMatchObject({ state: 'posted' });
    expect(await row(replyId!)).toMatchObject({ state: 'received', attempts: 1 });
    // The parent's batch commits.
    expect((await ingestBatch([parentId!], deps())).outcomes.map((o) => o.outcome.state)).toEqual(['posted']);
    const result = await batch.b;
    expect(result.alone).toEqual([]);
    expect(result.outcomes.map((o) => [o.inboundId, o.outcome.state])).toEqual([
      [otherId, 'posted'],
      [replyId, 'commented'],
    ]);
    const p = await row(parentId!);
    expect(await row(replyId!)).toMatchObject({ state: 'commented', postId: p.postId, attempts: 1 });
    const view = (await getEsnPostView(t.db, p.postId!, null))!;
    expect(view.comments.map((c) => c.author.email)).toEqual(['bob@corp.test']);
  });

  it('is handed back, its try not counted, when the parent has not committed by the end of the wait, and threads in its own job', async () => {
    const { parent, reply } = thread('b22');
    const [parentId] = await storeBatch([{ raw: parent, messageId: 'b22-1@corp.test' }]);
    const [replyId] = await storeBatch([{ raw: reply, messageId: 'b22-2@corp.test' }]);
    await startIngestAttempts(t.db, [parentId!]);
    // The parent's row is locked as its batch's transaction holds it while writing it: the wait takes no lock of its own.
    const holder = await t.db.$client.connect();
    try {
      await holder.query('begin');
      await holder.query('select 1 from inbound_messages where id = $1 for update', [parentId]);
      const result = await ingestBatch([replyId!], { ...deps(), heldReplyWaitMs: 50 });
      expect(result).toEqual({ outcomes: [], alone: [replyId] });
    } finally {
      await holder.query('rollback');
      holder.release();
    }
    expect(await row(replyId!)).toMatchObject({ state: 'received', attempts: 0 });
    const p = await ingest({ inboundId: parentId! }, deps());
    expect(await ingest({ inboundId: replyId! }, deps())).toMatchObject({ state: 'commented', postId: (p as { postId: string }).postId });
    const view = (await getEsnPostView(t.db, (p as { postId: string }).postId, null))!;
    expect(view.comments).toHaveLength(1);
  });

  it('is handed back at once when no ingest has claimed the parent yet (its batch waits in the queue)', async () => {
    const { parent, reply } = thread('b23');
    const [parentId] = await storeBatch([{ raw: parent, messageId: 'b23-1@corp.test' }]);
    const [replyId] = await storeBatch([{ raw: reply, messageId: 'b23-2@corp.test' }]);
    // A wait far beyond the test's timeout: the batch must not wait for a parent nobody ingests.
    const { deps: d } = waitingDeps(600_000);
    expect(await ingestBatch([replyId!], d)).toEqual({ outcomes: [], alone: [replyId] });
    expect(await row(replyId!)).toMatchObject({ state: 'received', attempts: 0 });
    expect(await row(parentId!)).toMatchObject({ state: 'received', attempts: 0 });
  });
});
