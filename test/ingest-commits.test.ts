import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createDb, getInbound, startIngestAttempt, startIngestAttempts, storeFetched, type Database } from '@blend/db';
import { ingest, ingestBatch, type IngestDeps } from '@blend/worker';
import { whileCounted } from './support/count-transactions';
import { ingestDeps, seedIngestDatabase } from './support/ingest';
import { createTestDatabase, type TestDatabase } from './support/database';

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, 'fixtures/mail', name));

let t: TestDatabase;
let uid = 0;
const deps = (): IngestDeps => ingestDeps(t.db, { senderAuth: { mode: 'none', orgDomains: ['corp.test'] } });

async function ingestCounted(name: string) {
  const raw = fixture(name);
  const [row] = await storeFetched(t.db, 'imap://test', 1, [{ uid: ++uid, size: raw.length, raw, internalDate: new Date('2026-11-24T12:00:00Z') }]);
  const { value: outcome, counted } = await whileCounted(t.pool, () => ingest({ inboundId: row!.id }, deps()));
  return { outcome, counted, row: (await getInbound(t.db, row!.id))! };
}

beforeAll(async () => {
  t = await createTestDatabase();
  await seedIngestDatabase(t.db);
});
afterAll(async () => t?.drop());

// Commits are what a Postgres server pays for per mail (a WAL flush each); ingest commits the
// counted try before parsing and then everything the mail causes in one transaction
// (docs/ARCHITECTURE.md "Ingest, one mail at a time"). Counted on the connections, not timed.
const MAX_COMMITS_PER_MAIL = 2;
// A batch: the tries of all its rows counted in one statement, their sources read in one (each
// source over 2 MiB adds its slices), one transaction per MAILS_PER_TRANSACTION (50) mails: three
// commits for a batch of up to 50.
const MAX_COMMITS_PER_BATCH = 3;

describe('commits per ingested mail', () => {
  it('a new thread and a reply to it each take at most two commits', async () => {
    const post = await ingestCounted('plain-new-thread.eml');
    expect(post.row.state).toBe('posted');
    expect(post.counted.commits, post.counted.log.join('\n')).toBeLessThanOrEqual(MAX_COMMITS_PER_MAIL);
    const reply = await ingestCounted('plain-reply.eml');
    expect(reply.row).toMatchObject({ state: 'commented', postId: post.row.postId });
    expect(reply.counted.commits, reply.counted.log.join('\n')).toBeLessThanOrEqual(MAX_COMMITS_PER_MAIL);
  });

  it('a copy of a mail already posted is a duplicate in at most two commits', async () => {
    const copy = await ingestCounted('plain-new-thread.eml');
    expect(copy.row.state).toBe('duplicate');
    expect(copy.counted.commits, copy.counted.log.join('\n')).toBeLessThanOrEqual(MAX_COMMITS_PER_MAIL);
  });

  it('a batch of mails, new threads, their replies and a copy, takes at most three commits in all', async () => {
    const mails: Buffer[] = [];
    for (let i = 0; i < 4; i++) {
      const rename = (f: string) => fixture(f).toString().replaceAll('plan-1@', `batch${i}-1@`).replaceAll('plan-2@', `batch${i}-2@`).replaceAll('Quarterly plan', `Batch plan ${i}`);
      mails.push(Buffer.from(rename('plain-new-thread.eml')), Buffer.from(rename('plain-reply.eml')));
    }
    mails.push(mails[0]!);
    const rows = await storeFetched(t.db, 'imap://test', 1, mails.map((raw) => ({ uid: ++uid, size: raw.length, raw, internalDate: new Date('2026-11-24T12:00:00Z') })));
    const ids = rows.sort((a, b) => a.uid - b.uid).map((r) => r.id);
    const { value: result, counted } = await whileCounted(t.pool, () => ingestBatch(ids, deps()));
    expect(result.alone).toEqual([]);
    expect(result.outcomes.map((o) => o.outcome.state)).toEqual([...Array.from({ length: 4 }, () => ['posted', 'commented']).flat(), 'duplicate']);
    expect(counted.commits, counted.log.join('\n')).toBeLessThanOrEqual(MAX_COMMITS_PER_BATCH);
  });

  it('a batch of more than 50 mails takes one more transaction per 50, and no commit more', async () => {
    const mails = Array.from({ length: 60 }, (_, i) =>
      Buffer.from(fixture('plain-new-thread.eml').toString().replaceAll('plan-1@', `many${i}-1@`).replaceAll('Quarterly plan', `Many plan ${i}`)),
    );
    const rows = await storeFetched(t.db, 'imap://test', 1, mails.map((raw) => ({ uid: ++uid, size: raw.length, raw, internalDate: new Date('2026-11-24T12:00:00Z') })));
    const { value: result, counted } = await whileCounted(t.pool, () => ingestBatch(rows.map((r) => r.id), deps()));
    // Past the default rate limits most are held: what matters here is that all 60 ended.
    expect(result.outcomes).toHaveLength(60);
    expect(result.alone).toEqual([]);
    // The tries, the sources, and two transactions (50 mails, then 10).
    expect(counted.commits, counted.log.join('\n')).toBe(MAX_COMMITS_PER_BATCH + 1);
    expect(counted.log.filter((l) => l.startsWith('begin'))).toHaveLength(2);
  });
});

// The counted try must survive a crash of the worker, not of Postgres: its commit does not wait
// for the WAL flush, and only its own (docs/ARCHITECTURE.md "Ingest, one mail at a time").
describe('the counted try commits without waiting for its flush', () => {
  const store = async (tag: string) => {
    const raw = Buffer.from(fixture('plain-new-thread.eml').toString().replaceAll('plan-1@', `${tag}-1@`));
    const [row] = await storeFetched(t.db, 'imap://test', 1, [{ uid: ++uid, size: raw.length, raw, internalDate: new Date('2026-11-24T12:00:00Z') }]);
    return row!.id;
  };
  const setting = async (db: Database) => ((await db.execute(sql`show synchronous_commit`)).rows[0] as { synchronous_commit: string }).synchronous_commit;

  it('relaxes the transaction the count runs in, one row or a batch', async () => {
    const one = await store('relaxed-one');
    const many = [await store('relaxed-a'), await store('relaxed-b')];
    await t.db.transaction(async (tx) => {
      expect(await setting(tx as unknown as Database)).toBe('on');
      expect((await startIngestAttempt(tx as unknown as Database, one))?.attempts).toBe(1);
      expect(await setting(tx as unknown as Database)).toBe('off');
    });
    await t.db.transaction(async (tx) => {
      const rows = await startIngestAttempts(tx as unknown as Database, many);
      expect(rows.map((r) => r.id).sort()).toEqual([...many].sort());
      expect(rows[0]).not.toHaveProperty('relaxed');
      expect(await setting(tx as unknown as Database)).toBe('off');
    });
  });

  it('leaves the connection as it was: the next transaction on it commits synchronously', async () => {
    const single = createDb(t.url, { max: 1 });
    try {
      const id = await store('relaxed-after');
      const attempt = await startIngestAttempt(single.db, id);
      expect(attempt?.row).not.toHaveProperty('relaxed');
      expect(await setting(single.db)).toBe('on');
      await startIngestAttempts(single.db, [id]);
      expect(await setting(single.db)).toBe('on');
    } finally {
      await single.close();
    }
  });
});
