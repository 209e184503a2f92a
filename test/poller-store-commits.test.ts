import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { CheckpointMovedError, createDb, getCheckpoint, rewindCheckpoint, storeFetched, type Database } from '@blend/db';
import { whileCounted } from './support/count-transactions';
import { createTestDatabase, type TestDatabase } from './support/database';

// The poller's store commits without waiting for its WAL flush when it moves the checkpoint: a
// Postgres crash loses its rows and the checkpoint together, and the UIDs are fetched again. So
// does a store of mail taken ahead of a catch-up (`checkpointTo: false`): the store that later
// moves the checkpoint over those UIDs checks that each has a row (`guard.passing`), and a guarded
// store moves the checkpoint only from where the poller listed (docs/ARCHITECTURE.md "Processes
// and the flow"); otherwise nothing of it is kept.
let t: TestDatabase;
let uid = 0;
const mail = () => ({ uid: ++uid, size: 5, raw: Buffer.from('Hi.\r\n'), internalDate: new Date('2026-12-07T08:00:00Z') });
const setting = async (db: Database) => ((await db.execute(sql`show synchronous_commit`)).rows[0] as { synchronous_commit: string }).synchronous_commit;

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

describe("the poller's store and its commit", () => {
  it('relaxes the transaction of a store that moves the checkpoint, by default or to a UID', async () => {
    for (const checkpointTo of [undefined, uid + 3]) {
      await t.db.transaction(async (tx) => {
        const db = tx as unknown as Database;
        expect(await setting(db)).toBe('on');
        const rows = await storeFetched(db, 'imap://relaxed', 1, [mail(), mail()], 0, checkpointTo);
        expect(rows).toHaveLength(2);
        expect(rows[0]).toEqual({ id: expect.any(String), uid: expect.any(Number) });
        expect(await setting(db)).toBe('off');
      });
    }
    expect((await getCheckpoint(t.db, 'imap://relaxed'))?.lastUid).toBe(uid);
  });

  it('relaxes a store of mail taken ahead (the checkpoint not moved) too', async () => {
    await t.db.transaction(async (tx) => {
      const db = tx as unknown as Database;
      const rows = await storeFetched(db, 'imap://ahead', 1, [mail()], 0, false);
      expect(rows).toHaveLength(1);
      expect(await setting(db)).toBe('off');
    });
    expect(await getCheckpoint(t.db, 'imap://ahead')).toBeUndefined();
  });

  it('moves the checkpoint over mail taken ahead only if its rows are there, and keeps nothing otherwise', async () => {
    const box = 'imap://passing';
    const [a, b, c, d] = [mail(), mail(), mail(), mail()];
    await storeFetched(t.db, box, 1, [a], 0, undefined, { from: 1 });
    await storeFetched(t.db, box, 1, [c], 0, false);
    // b was never stored (as if its store were lost with a crash): d's batch passes b and c.
    await expect(storeFetched(t.db, box, 1, [d], 0, d.uid, { from: a.uid + 1, passing: [b.uid, c.uid] })).rejects.toBeInstanceOf(CheckpointMovedError);
    const stored = async () => (await t.db.execute<{ uid: number }>(sql`select uid::int from inbound_messages where mailbox = ${box} order by uid`)).rows.map((r) => r.uid);
    expect(await stored()).toEqual([a.uid, c.uid]);
    expect((await getCheckpoint(t.db, box))?.lastUid).toBe(a.uid);
    await storeFetched(t.db, box, 1, [b, d], 0, d.uid, { from: a.uid + 1, passing: [c.uid] });
    expect(await stored()).toEqual([a.uid, b.uid, c.uid, d.uid]);
    expect((await getCheckpoint(t.db, box))?.lastUid).toBe(d.uid);
  });

  it('keeps nothing of a guarded store when the checkpoint is not where the poller listed from', async () => {
    const box = 'imap://guarded';
    const [a, b, c] = [mail(), mail(), mail()];
    await storeFetched(t.db, box, 1, [a, b], 0, undefined, { from: 1 });
    const rows = async () => (await t.db.execute(sql`select 1 from inbound_messages where mailbox = ${box}`)).rows.length;
    // Listed from above b, but the checkpoint fell back to a (a lost commit).
    await t.db.execute(sql`update mailbox_checkpoints set last_uid = ${a.uid} where mailbox = ${box}`);
    await expect(storeFetched(t.db, box, 1, [c], 0, undefined, { from: b.uid + 1 })).rejects.toBeInstanceOf(CheckpointMovedError);
    // A rewind by IT since the poller read the count.
    await rewindCheckpoint(t.db, box, 1, b.uid);
    await expect(storeFetched(t.db, box, 1, [c], 0, undefined, { from: b.uid + 1 })).rejects.toBeInstanceOf(CheckpointMovedError);
    // A new UIDVALIDITY.
    await expect(storeFetched(t.db, box, 2, [c], 1, undefined, { from: b.uid + 1 })).rejects.toBeInstanceOf(CheckpointMovedError);
    // A checkpoint written afresh above UIDs that have no row.
    await expect(storeFetched(t.db, 'imap://guarded-none', 1, [c], 0, undefined, { from: b.uid + 1 })).rejects.toBeInstanceOf(CheckpointMovedError);
    expect(await getCheckpoint(t.db, 'imap://guarded-none')).toBeUndefined();
    expect(await rows()).toBe(2);
    expect(await getCheckpoint(t.db, box)).toEqual({ uidValidity: 1, lastUid: b.uid, rewinds: 1 });
    // From the checkpoint as read: stored.
    await storeFetched(t.db, box, 1, [c], 1, undefined, { from: b.uid + 1 });
    expect(await getCheckpoint(t.db, box)).toEqual({ uidValidity: 1, lastUid: c.uid, rewinds: 1 });
  });

  it('stores a batch and reads the rows to queue in one statement: new rows and rows stored before still received, not rejected or finished ones', async () => {
    const box = 'imap://one-statement';
    const [a, b, c, d] = [mail(), mail(), mail(), mail()];
    const before = await storeFetched(t.db, box, 1, [a, b], 0, undefined, { from: 1 });
    await t.db.execute(sql`update inbound_messages set state = 'posted' where mailbox = ${box} and uid = ${b.uid}`);
    const big = { ...d, raw: null, rejectReason: 'too_large' };
    const { value: rows, counted } = await whileCounted(t.pool, () => storeFetched(t.db, box, 1, [a, b, c, big], 0, undefined, { from: b.uid + 1 }));
    // a stored before, still received; c new; b finished; d rejected: only a and c need a job.
    expect(rows.map((r) => r.uid).sort((x, y) => x - y)).toEqual([a.uid, c.uid]);
    expect(rows.find((r) => r.uid === a.uid)!.id).toBe(before.find((r) => r.uid === a.uid)!.id);
    // begin, the rows with the ids to queue, the checkpoint, commit: the insert and its select were two statements.
    expect(counted.statements, counted.log.join('\n')).toBe(4);
    const stored = (await t.db.execute<{ uid: number; state: string; reason: string | null; raw: boolean; done: boolean; message_id: string | null }>(
      sql`select uid::int, state, reason, raw is not null as raw, processed_at is not null as done, message_id from inbound_messages where mailbox = ${box} order by uid`,
    )).rows;
    expect(stored).toEqual([
      { uid: a.uid, state: 'received', reason: null, raw: true, done: false, message_id: null },
      { uid: b.uid, state: 'posted', reason: null, raw: true, done: false, message_id: null },
      { uid: c.uid, state: 'received', reason: null, raw: true, done: false, message_id: null },
      { uid: d.uid, state: 'rejected', reason: 'too_large', raw: false, done: true, message_id: null },
    ]);
    expect((await getCheckpoint(t.db, box))?.lastUid).toBe(d.uid);
    // The message's Message-ID and INTERNALDATE are kept as given.
    const [e] = [mail()];
    await storeFetched(t.db, box, 1, [{ ...e, messageId: 'e1@corp.test' }]);
    const [row] = (await t.db.execute<{ message_id: string; internal_date: Date }>(sql`select message_id, internal_date from inbound_messages where mailbox = ${box} and uid = ${e.uid}`)).rows;
    expect(row!.message_id).toBe('e1@corp.test');
    expect(new Date(row!.internal_date).toISOString()).toBe('2026-12-07T08:00:00.000Z');
  });

  it('leaves the connection as it was: the next transaction on it commits synchronously', async () => {
    const single = createDb(t.url, { max: 1 });
    try {
      await storeFetched(single.db, 'imap://after', 1, [mail()]);
      expect(await setting(single.db)).toBe('on');
    } finally {
      await single.close();
    }
  });
});
