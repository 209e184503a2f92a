import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideFacts, ensureGroup, type AcceptedWindow } from '@blend/db';
import { createTestDatabase, type TestDatabase } from './support/database';

// The rate windows count accepted mail by arrival, coalesce(internal_date, received_at)
// (docs/SECURITY.md F27), from indexes on that expression (migration 0038): a window reads the
// rows that arrived in it, not every accepted mail of the sender or of the organisation.

const T = Date.parse('2026-11-24T12:00:00Z');
let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
  await ensureGroup(t.db, 'general');
  // 600 accepted mails over the 30 days before T (200 of them from ann), none in the last hour;
  // then in the last minute: ann 2 (one without an IMAP date: its arrival is when it was
  // stored), bob 1, and one of ann's withheld (not accepted).
  await t.pool.query(
    `insert into inbound_messages (mailbox, uid_validity, uid, size, state, from_address, internal_date, received_at)
     select 'imap://w', 1, g, 100, (case when g % 2 = 0 then 'posted' else 'commented' end)::inbound_state,
       case when g % 3 = 0 then 'ann@corp.test' else 'x' || g || '@corp.test' end,
       $1::timestamptz - make_interval(mins => 61 + g * 70), $1::timestamptz - make_interval(mins => 61 + g * 70)
     from generate_series(1, 600) g`,
    [new Date(T).toISOString()],
  );
  await t.pool.query(
    `insert into inbound_messages (mailbox, uid_validity, uid, size, state, from_address, internal_date, received_at) values
       ('imap://w', 1, 1001, 100, 'posted', 'ann@corp.test', $1::timestamptz - interval '20 seconds', $1::timestamptz),
       ('imap://w', 1, 1002, 100, 'commented', 'ann@corp.test', null, $1::timestamptz - interval '10 seconds'),
       ('imap://w', 1, 1003, 100, 'posted', 'bob@corp.test', $1::timestamptz - interval '30 seconds', $1::timestamptz),
       ('imap://w', 1, 1004, 100, 'withheld', 'ann@corp.test', $1::timestamptz - interval '5 seconds', $1::timestamptz)`,
    [new Date(T).toISOString()],
  );
  await t.pool.query('analyze inbound_messages');
});
afterAll(async () => t?.drop());

const window = (ms: number, of: { from?: string } = {}): AcceptedWindow => ({ ...of, since: new Date(T - ms), until: new Date(T) });

describe('rate windows', () => {
  it("count a sender's and the organisation's accepted mail by arrival, reading only the window's rows", async () => {
    const windows = [window(60_000, { from: 'ann@corp.test' }), window(3_600_000, { from: 'Ann@corp.test' }), window(60_000)];
    const target = { postId: null, slug: 'general', personId: null };
    // Named statements: planned for their values the first five times, then once for all.
    for (let i = 0; i < 7; i++) {
      const { counts, fetched } = await t.db.transaction(async (tx) => {
        const f = await decideFacts(tx, { target, optOut: null, groupSlug: null, windows });
        // Rows of inbound_messages this transaction read so far: through an index, or by a whole scan.
        const r = await tx.execute<{ n: string }>(
          sql`select pg_stat_get_xact_tuples_fetched('inbound_messages'::regclass) + pg_stat_get_xact_tuples_returned('inbound_messages'::regclass) as n`,
        );
        return { counts: f.counts, fetched: Number(r.rows[0]!.n) };
      });
      expect(counts).toEqual([2, 2, 3]);
      // The rows in the windows (ann's 2 and ann's withheld, twice; the 4 of the last minute),
      // never the 600 older ones or ann's 200.
      expect(fetched, `run ${i + 1}`).toBeLessThanOrEqual(12);
    }
  });
});
