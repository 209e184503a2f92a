import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { createDb, type DbHandle } from '@blend/db';
import { ADMIN_DATABASE_URL } from './support/database';

// A pool whose statements wait for a gate (createDb's `gate`): the worker's pool for everything
// but live mail, whose statements wait while a live ingest runs (docs/ARCHITECTURE.md
// "Processes and the flow"). Against the real server: whether a statement was sent is seen
// from another connection (an advisory lock it takes).

/** A gate the test opens: `undefined` (send now) while open, else one promise for all held statements. */
function testGate() {
  let open = true;
  let release: (result: boolean) => void = () => undefined;
  let held: Promise<boolean> | undefined;
  const g = {
    asked: 0,
    close() {
      open = false;
      held = new Promise<boolean>((r) => (release = r));
    },
    /** Opens it; `result` is what the held statements' wait gives (false: it ran out). */
    open(result = true) {
      open = true;
      held = undefined;
      release(result);
    },
    gate: () => {
      g.asked++;
      return open ? undefined : held;
    },
  };
  return g;
}

/** A drizzle query started now, once (its builder runs its statement again on each `then`). */
const start = <T>(q: PromiseLike<T>): Promise<T> => Promise.resolve(q);

/** A promise's state after everything queued so far has run, and a little I/O. */
async function settled(p: Promise<unknown>, ms = 50): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setTimeout(r, ms));
  return done;
}

let other: pg.Client;
let dbh: DbHandle | undefined;
const key = 0x5eed_0000 + Math.floor(Math.random() * 0xffff);

beforeAll(async () => {
  other = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await other.connect();
});

afterAll(async () => {
  await other.end();
});

afterEach(async () => {
  await dbh?.close();
  dbh = undefined;
});

/** Whether a session other than `other` holds the advisory lock `k`. */
async function lockTaken(k: number): Promise<boolean> {
  const r = await other.query<{ got: boolean }>('select pg_try_advisory_lock($1) as got', [k]);
  if (r.rows[0]!.got) await other.query('select pg_advisory_unlock($1)', [k]);
  return !r.rows[0]!.got;
}

describe('createDb with a statement gate', () => {
  it('holds a statement outside a transaction (the pool\'s own query) until the gate opens', async () => {
    const g = testGate();
    dbh = createDb(ADMIN_DATABASE_URL, { max: 2, gate: g.gate });
    await dbh.db.execute(sql`select 1`);
    g.close();
    const q = start(dbh.db.execute(sql`select pg_advisory_lock(${key})`));
    expect(await settled(q)).toBe(false);
    expect(await lockTaken(key)).toBe(false);
    g.open();
    await q;
    expect(await lockTaken(key)).toBe(true);
  });

  it('holds a transaction\'s next statement while closed, and sends statements held together in the order they were sent', async () => {
    const g = testGate();
    dbh = createDb(ADMIN_DATABASE_URL, { max: 2, gate: g.gate });
    const k = key + 1;
    let inTx: Promise<unknown> | undefined;
    let rows: unknown[] = [];
    const tx = dbh.db.transaction(async (tx) => {
      await tx.execute(sql`create temporary table gate_order (n int) on commit drop`);
      g.close();
      const sent = [
        start(tx.execute(sql`select pg_advisory_xact_lock(${k})`)),
        start(tx.execute(sql`insert into gate_order values (1)`)),
        start(tx.execute(sql`insert into gate_order values (2)`)),
        start(tx.execute(sql`select array_agg(n order by n) as ns, count(*)::int as c from gate_order`)),
      ];
      inTx = Promise.all(sent);
      rows = ((await sent[3]) as { rows: unknown[] }).rows;
      await inTx;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(inTx && (await settled(inTx))).toBe(false);
    expect(await lockTaken(k)).toBe(false);
    g.open();
    await tx;
    expect(rows).toEqual([{ ns: [1, 2], c: 2 }]);
  });

  it('a statement that fails after its wait rejects as it would have', async () => {
    const g = testGate();
    dbh = createDb(ADMIN_DATABASE_URL, { max: 2, gate: g.gate });
    g.close();
    const outside = start(dbh.db.execute(sql`select 1 / 0`));
    const inside = dbh.db.transaction((tx) => tx.execute(sql`select 1 / 0`));
    setTimeout(() => g.open(), 20);
    const [a, b] = await Promise.allSettled([outside, inside]);
    for (const r of [a, b]) expect(r).toMatchObject({ status: 'rejected', reason: { cause: { code: '22012' } } });
  });

  it('a client whose wait ran out sends without asking until it is checked out again', async () => {
    const g = testGate();
    dbh = createDb(ADMIN_DATABASE_URL, { max: 1, gate: g.gate });
    await dbh.db.transaction(async (tx) => {
      g.close();
      const asked = g.asked;
      const first = start(tx.execute(sql`select 1`));
      expect(await settled(first)).toBe(false);
      expect(g.asked).toBe(asked + 1);
      // The wait runs out (a gate that gave up, LiveFirst's maxWaitMs); the gate stays closed.
      g.open(false);
      g.close();
      await first;
      await tx.execute(sql`select 2`);
      await tx.execute(sql`select 3`);
      expect(g.asked).toBe(asked + 1);
    });
    // Checked out again (max 1: the same connection): it asks, and waits, again.
    const asked = g.asked;
    const next = start(dbh.db.execute(sql`select 4`));
    expect(await settled(next)).toBe(false);
    expect(g.asked).toBeGreaterThan(asked);
    g.open();
    await next;
  });

  it('without a gate, or with the gate open, statements are sent at once', async () => {
    const g = testGate();
    dbh = createDb(ADMIN_DATABASE_URL, { max: 2, gate: g.gate });
    const r = await dbh.db.transaction(async (tx) => (await tx.execute(sql`select 5 as n`)).rows);
    expect(r).toEqual([{ n: 5 }]);
    expect(g.asked).toBeGreaterThanOrEqual(3); // begin, select, commit
  });
});
