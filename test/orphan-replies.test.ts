import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { ensureGroup, findPostMerge, getInbound, schema, storeFetched, upsertPerson } from '@blend/db';
import { ingest, type IngestDeps } from '@blend/worker';
import { ingestDeps } from './support/ingest';
import { createTestDatabase, waitFor, type TestDatabase } from './support/database';
import { buildMessage } from './support/messages';

// A reply that reaches Blend before the mail it answers (docs/ARCHITECTURE.md "Threads and
// merges"): it ends as a comment under its parent whichever of the two is ingested first, also
// when both are ingested at the same moment; a reply to a mail Blend never sees stays a post.
let t: TestDatabase;
let uid = 0;
const deps = (over: Partial<IngestDeps> = {}): IngestDeps => ingestDeps(t.db, { rateLimits: { senderPerMinute: Infinity, senderPerHour: Infinity, threadPerMinute: Infinity, orgPerMinute: Infinity }, ...over });

/** Store a mail as the poller does, with the Message-ID of its envelope. */
async function store(raw: Buffer, internalDate: Date | null = null) {
  const messageId = /^Message-ID: <([^>]+)>/im.exec(raw.toString())![1]!;
  const rows = await storeFetched(t.db, 'imap://test', 1, [{ uid: ++uid, size: raw.length, raw, internalDate, messageId }]);
  return rows[0]!.id;
}

const mail = (m: { id: string; from: string; subject: string; body: string; parents?: string[]; to?: string }) =>
  Buffer.from(
    buildMessage({
      messageId: m.id,
      from: `${m.from} <${m.from}@corp.test>`,
      to: m.to ?? 'status@example.test',
      subject: m.subject,
      body: m.body,
      headers: m.parents?.length ? { 'In-Reply-To': `<${m.parents.at(-1)}>`, References: m.parents.map((r) => `<${r}>`).join(' ') } : {},
    }).raw,
  );

const postOf = async (inboundId: string) => (await getInbound(t.db, inboundId))!;
const postCount = async (ids: string[]) => new Set(await Promise.all(ids.map(async (id) => (await postOf(id)).postId))).size;

beforeAll(async () => {
  t = await createTestDatabase();
  await ensureGroup(t.db, 'general');
  for (const who of ['alice', 'bob', 'carol']) await upsertPerson(t.db, { email: `${who}@corp.test`, name: who, optIn: true });
});
afterAll(async () => t?.drop());

describe('a reply ingested while its parent is being ingested', () => {
  it('joins the parent that committed after the reply decided it had none', async () => {
    const reply = mail({ id: 'race-2@corp.test', from: 'bob', subject: 'Re: Race', body: 'Count me in.', parents: ['race-1@corp.test'] });
    const parent = mail({ id: 'race-1@corp.test', from: 'alice', subject: 'Race', body: 'Who runs on Sunday?' });
    // Bob's row is locked, so the reply's ingest stops at its post (the author's key), after it
    // found no parent: the parent is stored and ingested in that moment.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const lock = t.db.transaction(async (tx) => {
      await tx.execute(sql`select id from people where email = 'bob@corp.test' for update`);
      locked();
      await held;
    });
    await isLocked;
    const replyId = await store(reply);
    const replying = ingest({ inboundId: replyId }, deps());
    await waitFor(async () => {
      const r = await t.db.execute<{ n: number }>(sql`select count(*)::int as n from pg_locks l join pg_stat_activity a on a.pid = l.pid where not l.granted and a.datname = current_database()`);
      return r.rows[0]!.n > 0;
    }, 'the reply waiting for the lock');
    const parentId = await store(parent);
    expect(await ingest({ inboundId: parentId }, deps())).toMatchObject({ state: 'posted' });
    release();
    await lock;
    await replying;
    const p = await postOf(parentId);
    expect(await postOf(replyId)).toMatchObject({ state: 'commented', postId: p.postId });
    expect(await t.db.select().from(schema.comments).where(eq(schema.comments.postId, p.postId!))).toHaveLength(1);
  });

  it('ends with one thread per conversation when replies and parents are ingested together', async () => {
    const ids: string[] = [];
    const runs: Promise<unknown>[] = [];
    for (let i = 0; i < 8; i++) {
      const parent = mail({ id: `pair-${i}-1@corp.test`, from: 'alice', subject: `Pair ${i}`, body: `Pair ${i} starts.` });
      const reply = mail({ id: `pair-${i}-2@corp.test`, from: 'bob', subject: `Re: Pair ${i}`, body: `Reply to pair ${i}.`, parents: [`pair-${i}-1@corp.test`] });
      // The reply is taken by a worker as soon as it is stored; the parent is stored a moment
      // later and taken by another worker while the reply may still be in its transaction.
      const again = async (id: string): Promise<unknown> => {
        try {
          return await ingest({ inboundId: id }, deps());
        } catch (err) {
          if ((err as Error).name !== 'ParentPendingError') throw err;
          await new Promise((r) => setTimeout(r, 200));
          return again(id);
        }
      };
      const replyId = await store(reply);
      runs.push(again(replyId));
      const parentId = await store(parent);
      runs.push(again(parentId));
      ids.push(replyId, parentId);
    }
    await Promise.all(runs);
    for (let i = 0; i < ids.length; i += 2) {
      const [reply, parent] = [await postOf(ids[i]!), await postOf(ids[i + 1]!)];
      expect([reply.state, parent.state]).toEqual(['commented', 'posted']);
      expect(reply.postId).toBe(parent.postId);
    }
    expect(await postCount(ids)).toBe(8);
  });
});
