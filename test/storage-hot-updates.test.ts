import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markImapDone, storeFetched } from '@blend/db';
import { ingestBatch } from '@blend/worker';
import { ingestDeps, seedIngestDatabase } from './support/ingest';
import { createTestDatabase, waitFor, type TestDatabase } from './support/database';

// Free space on the pages of the tables whose rows are updated after they are stored
// (migration 0036, docs/ARCHITECTURE.md "Storage and WAL"): an update that changes no indexed
// column is a heap-only tuple update: no new entry in any of the table's indexes.

const fixture = readFileSync(path.join(import.meta.dirname, 'fixtures/mail/plain-new-thread.eml')).toString();

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  await seedIngestDatabase(t.db);
});
afterAll(async () => t?.drop());

describe('rows updated after they are stored', () => {
  it('leave room on their pages: inbound mail and the outbox', async () => {
    const r = await t.pool.query<{ relname: string; reloptions: string[] | null }>(
      `select relname, reloptions from pg_class where relname in ('inbound_messages', 'outbound_messages') order by relname`,
    );
    expect(Object.fromEntries(r.rows.map((x) => [x.relname, x.reloptions]))).toEqual({
      inbound_messages: ['fillfactor=50'],
      outbound_messages: ['fillfactor=70'],
    });
  });

  it("a batch's counted attempts and its mails' IMAP flags are heap-only updates", async () => {
    const n = 50;
    // Signed headers as real mail carries them (a few KB that do not compress): the source is
    // stored out of line, as most mails' are, and the row itself is narrow.
    const signature = () => `X-Test-Signature: ${(randomBytes(4500).toString('base64').match(/.{1,76}/g) ?? []).join('\r\n ')}\r\n`;
    const raws = Array.from({ length: n }, (_, i) =>
      Buffer.from(signature() + fixture.replaceAll('plan-1@', `hot${i}-1@`).replaceAll('Quarterly plan', `Hot plan ${i}`)),
    );
    const rows = await storeFetched(
      t.db,
      'imap://hot',
      1,
      raws.map((raw, i) => ({ uid: i + 1, size: raw.length, raw, internalDate: new Date('2026-11-24T12:00:00Z') })),
    );
    expect(rows).toHaveLength(n);
    const ids = rows.map((x) => x.id);

    const done = await ingestBatch(ids, ingestDeps(t.db, {
        senderAuth: { mode: 'none', orgDomains: ['corp.test'] },
        rateLimits: { senderPerMinute: Infinity, senderPerHour: Infinity, threadPerMinute: Infinity, orgPerMinute: Infinity },
      }));
    expect(done.outcomes.map((o) => o.outcome.state)).toEqual(Array(n).fill('posted'));
    await markImapDone(t.db, ids);

    // A backend publishes its table statistics when it exits: close the pool, then read them.
    await t.close();
    const c = new pg.Client({ connectionString: t.url });
    await c.connect();
    try {
      // The pool's backends flush their counts as they exit, which may be after `close()` has
      // returned: wait until all the updates are counted.
      const read = async () =>
        (await c.query<{ upd: string; hot: string }>(`select n_tup_upd as upd, n_tup_hot_upd as hot from pg_stat_user_tables where relname = 'inbound_messages'`)).rows;
      const s = { rows: await waitFor(async () => { const rows = await read(); return Number(rows[0]?.upd) >= 3 * n && rows; }, 'the updates counted in pg_stat_user_tables', 15_000) };
      // Per mail: the attempt and the flag (heap-only), and the outcome, which sets indexed
      // columns. Some flags may find their row's page full of the batch's outcomes (how many
      // depends on when Postgres reclaims the room of old versions; 92 of 100 here); on full
      // pages hardly any update was.
      expect(Number(s.rows[0]!.upd)).toBe(3 * n);
      expect(Number(s.rows[0]!.hot)).toBeGreaterThanOrEqual(n);
    } finally {
      await c.end();
    }
  });
});
