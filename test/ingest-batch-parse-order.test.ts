import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getInbound } from '@blend/db';
import { ingestBatch, ParsePool } from '@blend/worker';
import { fixtureThread, ingestDeps, seedIngestDatabase, storeBatch } from './support/ingest';
import { createTestDatabase, type TestDatabase } from './support/database';

// A catch-up's batches running side by side parse one after another, the batch that started
// first first, so one batch's writes overlap the next ones' parsing (docs/ARCHITECTURE.md
// "Ingest, one mail at a time"), against a real Postgres and a real parse thread.

let t: TestDatabase;
let pool: ParsePool;

beforeAll(async () => {
  t = await createTestDatabase();
  await seedIngestDatabase(t.db);
  // Blend's own parse task (the runaway module only adds test-only marked mails).
  pool = new ParsePool({ settings: { redact: 'card,iban' }, timeoutMs: 30_000, threads: 1, threadModule: new URL('./support/runaway-parse-thread.mjs', import.meta.url) });
  await pool.warm();
}, 60_000);
afterAll(async () => {
  await pool?.close();
  await t?.drop();
});

describe('a catch-up\'s batches side by side', () => {
  it('parse a batch\'s mails before those of a batch that started after it, then write both', async () => {
    const batch = (tag: string) => storeBatch(t.db, 'imap://parse-order', Array.from({ length: 8 }, (_, i) => ({ raw: fixtureThread(`${tag}${i}`).parent, messageId: `${tag}${i}-1@corp.test` })));
    const first = await batch('po-a');
    const second = await batch('po-b');
    // Which batch each parse that came back belonged to, in the order they came back.
    const parsed: string[] = [];
    const parse = pool.parse.bind(pool);
    pool.parse = async (raw, lane, order) => {
      const result = await parse(raw, lane, order);
      parsed.push(/Message-ID: <po-(a|b)/i.exec(raw.toString())?.[1] ?? '?');
      return result;
    };
    // A catch-up's batch (no live mail to give way to).
    const liveFirst = { turn: async () => true };
    const deps = ingestDeps(t.db, { parsePool: pool, parseLane: 'backlog' });
    const [a, b] = await Promise.all([ingestBatch(first, deps, liveFirst), ingestBatch(second, deps, liveFirst)]);
    expect(parsed).toHaveLength(16);
    // Grouped by batch: every mail of the batch whose turn came first, then the other's.
    expect(parsed.join('')).toMatch(/^(a{8}b{8}|b{8}a{8})$/);
    for (const done of [a, b]) {
      expect(done.alone).toEqual([]);
      expect(done.outcomes.map((o) => o.outcome.state)).toEqual(Array(8).fill('posted'));
    }
    for (const id of [...first, ...second]) expect((await getInbound(t.db, id))!.state).toBe('posted');
  }, 60_000);
});
