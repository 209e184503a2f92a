import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGroup, filesForMail, getInbound, getInboundSources, RAW_SLICE_BYTES, READ_SLICE_BYTES, storeAttachments, storeFetched, upsertPerson } from '@blend/db';
import { ingest, MemoryBudget, type IngestDeps } from '@blend/worker';
import { whileCounted } from './support/count-transactions';
import { ingestDeps } from './support/ingest';
import { createTestDatabase, type TestDatabase } from './support/database';

// The ingest stage takes a message's size from the process's memory budget
// (BLEND_INGEST_MEMORY_BYTES) before it reads the source, and gives it back afterwards.
const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, 'fixtures/mail', name));
/** The fixture as a new thread of its own (Message-ID and subject), so no test's mail joins another's. */
const newThread = (tag: string) =>
  Buffer.from(fixture('plain-new-thread.eml').toString().replaceAll('plan-1@', `${tag}-1@`).replaceAll('Quarterly plan', `${tag} plan`));

let t: TestDatabase;
let uid = 0;
const deps = (memoryBudget: MemoryBudget): IngestDeps => ingestDeps(t.db, { memoryBudget });

async function store(raw: Buffer): Promise<string> {
  const rows = await storeFetched(t.db, 'imap://memory-budget', 1, [{ uid: ++uid, size: raw.length, raw, internalDate: new Date() }]);
  return rows[0]!.id;
}

/** Takes `bytes` of the budget until the returned function is called. */
async function hold(budget: MemoryBudget, bytes: number): Promise<{ release: () => void; done: Promise<void> }> {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  const done = budget.run(bytes, async () => {
    started();
    await held;
  });
  await running;
  return { release, done };
}

beforeAll(async () => {
  t = await createTestDatabase();
  await ensureGroup(t.db, 'general');
  await upsertPerson(t.db, { email: 'alice@corp.test', name: 'Alice Example', optIn: true });
});
afterAll(async () => t?.drop());

describe('ingest within the memory budget', () => {
  it('waits while the budget is taken, converts once it is free, and gives it back', async () => {
    const budget = new MemoryBudget(1024 * 1024);
    const id = await store(newThread('waiting'));
    const blocker = await hold(budget, 1024 * 1024);
    let settled = false;
    const running = ingest({ inboundId: id }, deps(budget)).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false);
    expect((await getInbound(t.db, id))!.state).toBe('received');

    blocker.release();
    await blocker.done;
    const outcome = await running;
    expect(outcome.state).toBe('posted');
    expect((await getInbound(t.db, id))!.state).toBe('posted');
    expect(budget.available).toBe(1024 * 1024);
  });

  it('does not wait for the budget to skip a message that is already final', async () => {
    const budget = new MemoryBudget(1024 * 1024);
    const id = await store(newThread('final'));
    expect((await ingest({ inboundId: id }, deps(budget))).state).toBe('posted');
    const blocker = await hold(budget, 1024 * 1024);
    await expect(ingest({ inboundId: id }, deps(budget))).resolves.toEqual({ state: 'skipped', reason: 'already_final' });
    blocker.release();
    await blocker.done;
  });

  it('gives the budget back when the source is missing and the row is rejected', async () => {
    const budget = new MemoryBudget(1024 * 1024);
    const id = await store(newThread('gone'));
    await t.pool.query('update inbound_messages set raw = null where id = $1', [id]);
    const outcome = await ingest({ inboundId: id }, deps(budget));
    expect(outcome).toMatchObject({ state: 'rejected', reason: 'missing_source' });
    expect(budget.available).toBe(1024 * 1024);
  });
});

describe('reading a stored source', () => {
  it.each([
    ['a small one', 1_000],
    ['one of exactly one slice', RAW_SLICE_BYTES],
    ['one a byte over a slice', RAW_SLICE_BYTES + 1],
    ['one of several slices and a part', 3 * RAW_SLICE_BYTES + 12_345],
  ])('gives back %s byte for byte', async (_what, bytes) => {
    // Every byte value, in an order that differs from one slice to the next.
    const raw = Buffer.alloc(bytes);
    for (let i = 0; i < bytes; i++) raw[i] = (i * 7 + Math.floor(i / RAW_SLICE_BYTES)) & 0xff;
    const id = await store(raw);
    const row = (await getInbound(t.db, id))!;
    expect(row.size).toBe(bytes);
    expect(row.raw!.length).toBe(bytes);
    expect(row.raw!.equals(raw)).toBe(true);
  });

  it('reads a source of several slices into shared memory when asked (for a parse thread), byte for byte', async () => {
    const raw = Buffer.alloc(2 * RAW_SLICE_BYTES + 99);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 11) & 0xff;
    const id = await store(raw);
    const shared = (await getInbound(t.db, id, { shared: true }))!.raw!;
    expect(shared.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(shared.equals(raw)).toBe(true);
    const sources = await getInboundSources(t.db, [{ id, rawBytes: raw.length }]);
    expect(sources.get(id)!.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(sources.get(id)!.equals(raw)).toBe(true);
    expect((await getInbound(t.db, id))!.raw!.buffer).not.toBeInstanceOf(SharedArrayBuffer);
  });

  it('reads a large source in slices of at most 64 KiB, one statement each, after the row', async () => {
    // Slices this small keep the driver's buffers for a row at 128 KiB and its text in V8's
    // young generation (docs/ARCHITECTURE.md, "Ingest, one mail at a time").
    expect(READ_SLICE_BYTES).toBeLessThanOrEqual(64 * 1024);
    const raw = Buffer.alloc(3 * RAW_SLICE_BYTES + 12_345);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 13 + Math.floor(i / READ_SLICE_BYTES)) & 0xff;
    const id = await store(raw);
    const { value, counted } = await whileCounted(t.pool, () => getInbound(t.db, id, { shared: true }));
    expect(value!.raw!.equals(raw)).toBe(true);
    expect(counted.statements, counted.log.join('\n')).toBe(1 + Math.ceil(raw.length / READ_SLICE_BYTES));
    expect(counted.log.filter((l) => /encode\(s\.part, 'base64'\)/.test(l))).toHaveLength(Math.ceil(raw.length / READ_SLICE_BYTES));
  });

  it('gives null for a purged source and undefined for no row', async () => {
    const id = await store(Buffer.alloc(RAW_SLICE_BYTES * 2, 1));
    await t.pool.query('update inbound_messages set raw = null where id = $1', [id]);
    expect((await getInbound(t.db, id))!.raw).toBeNull();
    expect(await getInbound(t.db, '00000000-0000-4000-8000-000000000000')).toBeUndefined();
  });
});

describe('reading stored files for the mail that mirrors them', () => {
  /** Every byte value, in an order that differs from one slice to the next, and from file to file. */
  const file = (bytes: number, seed: number) => {
    const b = Buffer.alloc(bytes);
    for (let i = 0; i < bytes; i++) b[i] = (i * 7 + seed + Math.floor(i / RAW_SLICE_BYTES)) & 0xff;
    return b;
  };
  const plan = (filename: string, size: number) => ({ filename, declaredType: 'application/octet-stream', size, inline: false, store: true, omitted: null, note: null });

  it('gives back small and sliced files byte for byte, in order, and leaves out what passes the total', async () => {
    const outcome = await ingest({ inboundId: await store(newThread('files')) }, deps(new MemoryBudget(64 * 1024 * 1024)));
    const postId = 'postId' in outcome ? outcome.postId! : '';
    expect(outcome.state).toBe('posted');
    const files = [
      { name: 'small.bin', content: file(1_000, 1) },
      { name: 'one-slice.bin', content: file(RAW_SLICE_BYTES, 2) },
      { name: 'several-slices.bin', content: file(3 * RAW_SLICE_BYTES + 12_345, 3) },
      { name: 'over-the-total.bin', content: file(RAW_SLICE_BYTES + 1, 4) },
      { name: 'last.bin', content: file(10, 5) },
    ];
    await t.db.transaction((tx) => storeAttachments(tx, { postId, commentId: null }, files.map((f) => ({ plan: plan(f.name, f.content.length), content: f.content }))));
    const total = files.slice(0, 3).reduce((n, f) => n + f.content.length, 0) + 10;

    const read = await filesForMail(t.db, { postId, commentId: null }, total);

    expect(read.map((f) => f.filename)).toEqual(['small.bin', 'one-slice.bin', 'several-slices.bin', 'last.bin']);
    // Up to one slice comes with the sizes; a larger file is read only when its slices are asked for.
    expect(read.map((f) => Buffer.isBuffer(f.content))).toEqual([true, true, false, true]);
    for (const f of read) {
      const bytes = Buffer.isBuffer(f.content) ? f.content : await f.content.read(0, f.content.size);
      expect(bytes?.equals(files.find((x) => x.name === f.filename)!.content)).toBe(true);
    }
  });
});
