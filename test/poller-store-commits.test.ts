import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createDb, getCheckpoint, storeFetched, type Database } from '@blend/db';
import { createTestDatabase, type TestDatabase } from './support/database';

// The poller's store commits without waiting for its WAL flush when it moves the checkpoint: a
// Postgres crash loses its rows and the checkpoint together, and the UIDs are fetched again. A
// store of mail taken ahead of a catch-up (`checkpointTo: false`) waits, as the poller later
// moves the checkpoint over those UIDs from memory (docs/ARCHITECTURE.md "Processes and the flow").
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

  it('keeps a store of mail taken ahead (the checkpoint not moved) synchronous', async () => {
    await t.db.transaction(async (tx) => {
      const db = tx as unknown as Database;
      const rows = await storeFetched(db, 'imap://ahead', 1, [mail()], 0, false);
      expect(rows).toHaveLength(1);
      expect(await setting(db)).toBe('on');
    });
    expect(await getCheckpoint(t.db, 'imap://ahead')).toBeUndefined();
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
