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

/** Ingest as the processor does for a job put back: the error of a wait, or the outcome. */
async function tryIngest(id: string, over: Partial<IngestDeps> = {}) {
  try {
    return await ingest({ inboundId: id }, deps(over));
  } catch (err) {
    if ((err as Error).name === 'ParentPendingError') return { wait: (err as Error & { retryInMs: number }).retryInMs };
    throw err;
  }
}

beforeAll(async () => {
  t = await createTestDatabase();
  await ensureGroup(t.db, 'general');
  await ensureGroup(t.db, 'sales');
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

  it('is adopted by a parent whose ingest waited for the reply to commit', async () => {
    // Erin has had no receipt yet, so her reply writes one; a row holding its dedupe key stops
    // the reply's ingest there, after it recorded its Message-IDs and before it commits.
    await upsertPerson(t.db, { email: 'erin@corp.test', name: 'erin', optIn: true });
    const replyId = await store(mail({ id: 'wait-2@corp.test', from: 'erin', subject: 'Re: Wait', body: 'Here first.', parents: ['wait-1@corp.test'] }));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const lock = t.db
      .transaction(async (tx) => {
        await tx.insert(schema.outboundMessages).values({ kind: 'receipt', toAddress: 'erin@corp.test', messageId: 'hold@corp.test', subject: '', textBody: '', dedupeKey: `receipt:${replyId}` });
        locked();
        await held;
        tx.rollback();
      })
      .catch(() => undefined);
    await isLocked;
    const waiting = (n: number) =>
      waitFor(async () => {
        const r = await t.db.execute<{ n: number }>(sql`select count(*)::int as n from pg_locks l join pg_stat_activity a on a.pid = l.pid where not l.granted and a.datname = current_database()`);
        return r.rows[0]!.n >= n;
      }, `${n} ingests waiting`);
    const replying = ingest({ inboundId: replyId }, deps());
    await waiting(1);
    // The parent's ingest records its Message-ID, which the reply holds: it waits for the reply.
    const parentId = await store(mail({ id: 'wait-1@corp.test', from: 'alice', subject: 'Wait', body: 'Who is first?' }));
    const parenting = ingest({ inboundId: parentId }, deps());
    await waiting(2);
    release();
    await lock;
    await Promise.all([replying, parenting]);
    const p = await postOf(parentId);
    expect(p.state).toBe('posted');
    expect(await postOf(replyId)).toMatchObject({ state: 'commented', postId: p.postId });
    // The parent's Message-ID maps to the parent's post, as the parent's own.
    const [ref] = await t.db.select().from(schema.messageRefs).where(eq(schema.messageRefs.messageId, 'wait-1@corp.test'));
    expect(ref).toMatchObject({ postId: p.postId, commentId: null, inboundId: parentId });
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

describe('a reply whose parent comes later', () => {
  it('joins the parent even when the parent is itself a reply, written as a comment', async () => {
    const root = await store(mail({ id: 'deep-1@corp.test', from: 'alice', subject: 'Offsite', body: 'Where shall we go?' }));
    expect(await ingest({ inboundId: root }, deps())).toMatchObject({ state: 'posted' });
    // Carol's client kept only the message she answered in References.
    const early = await store(mail({ id: 'deep-3@corp.test', from: 'carol', subject: 'Re: Offsite', body: 'The lake sounds good.', parents: ['deep-2@corp.test'] }));
    expect(await ingest({ inboundId: early }, deps())).toMatchObject({ state: 'posted' });
    const earlyPost = (await postOf(early)).postId!;
    const middle = await store(mail({ id: 'deep-2@corp.test', from: 'bob', subject: 'Re: Offsite', body: 'How about the lake?', parents: ['deep-1@corp.test'] }));
    const rootPost = (await postOf(root)).postId!;
    expect(await ingest({ inboundId: middle }, deps())).toMatchObject({ state: 'commented', postId: rootPost });
    expect(await postOf(early)).toMatchObject({ state: 'commented', postId: rootPost });
    expect(await findPostMerge(t.db, earlyPost)).toMatchObject({ survivingPostId: rootPost, kind: 'adopted' });
    const bodies = await t.db.select({ body: schema.comments.bodyText }).from(schema.comments).where(eq(schema.comments.postId, rootPost)).orderBy(schema.comments.createdAt);
    expect(bodies.map((b) => b.body)).toEqual(['The lake sounds good.', 'How about the lake?']);
    // The middle mail's own Message-ID maps to its comment: a later reply to it finds the thread.
    const later = await store(mail({ id: 'deep-4@corp.test', from: 'alice', subject: 'Re: Offsite', body: 'Lake it is.', parents: ['deep-2@corp.test'] }));
    expect(await ingest({ inboundId: later }, deps())).toMatchObject({ state: 'commented', postId: rootPost });
  });

  it('stays a post when it was published in another group than its parent', async () => {
    const early = await store(mail({ id: 'grp-2@corp.test', from: 'bob', to: 'sales@example.test', subject: 'Re: Budget', body: 'Sales needs more.', parents: ['grp-1@corp.test'] }));
    expect(await ingest({ inboundId: early }, deps())).toMatchObject({ state: 'posted' });
    const parent = await store(mail({ id: 'grp-1@corp.test', from: 'alice', subject: 'Budget', body: 'The budget for next year.' }));
    expect(await ingest({ inboundId: parent }, deps())).toMatchObject({ state: 'posted' });
    expect((await postOf(early)).state).toBe('posted');
    expect((await postOf(early)).postId).not.toBe((await postOf(parent)).postId);
  });
});

describe('the grace for a reply whose parent Blend has not seen (BLEND_ORPHAN_REPLY_GRACE_MS)', () => {
  const grace = { orphanReplyGraceMs: 30_000 };
  const storedAgo = (id: string, ms: number) => t.db.update(schema.inboundMessages).set({ receivedAt: sql`now() - make_interval(secs => ${ms / 1000})` }).where(eq(schema.inboundMessages.id, id));

  it('puts the reply back until the end of the grace; the parent that comes meanwhile gets it as a comment', async () => {
    const reply = await store(mail({ id: 'grace-2@corp.test', from: 'bob', subject: 'Re: Picnic', body: 'I bring cake.', parents: ['grace-1@corp.test'] }));
    const waited = await tryIngest(reply, grace);
    expect(waited).toMatchObject({ wait: expect.any(Number) });
    expect((waited as { wait: number }).wait).toBeGreaterThan(0);
    expect((waited as { wait: number }).wait).toBeLessThanOrEqual(30_000);
    expect(await postOf(reply)).toMatchObject({ state: 'received', postId: null });
    const parent = await store(mail({ id: 'grace-1@corp.test', from: 'alice', subject: 'Picnic', body: 'Picnic on Saturday.' }));
    expect(await tryIngest(parent, grace)).toMatchObject({ state: 'posted' });
    const parentPost = (await postOf(parent)).postId!;
    expect(await tryIngest(reply, grace)).toMatchObject({ state: 'commented', postId: parentPost });
    // No post was ever made of the reply, so nothing moved.
    expect(await t.db.select().from(schema.postMerges).where(eq(schema.postMerges.survivingPostId, parentPost))).toEqual([]);
  });

  it('publishes a reply to a mail Blend never sees as a post once the grace is over, and waits only once', async () => {
    const reply = await store(mail({ id: 'never-2@corp.test', from: 'bob', subject: 'Re: Old thread', body: 'Sharing this with everyone.', parents: ['never-1@elsewhere.test'] }));
    expect(await tryIngest(reply, grace)).toMatchObject({ wait: expect.any(Number) });
    await storedAgo(reply, 31_000);
    expect(await tryIngest(reply, grace)).toMatchObject({ state: 'posted' });
    // Two tries, of which the one that ended waiting is taken back: only tries that never finish count.
    expect((await postOf(reply)).attempts).toBe(1);
  });

  it('does not wait when the grace is off, for a backlog, or when Blend has the parent', async () => {
    const now = await store(mail({ id: 'off-2@corp.test', from: 'bob', subject: 'Re: Nothing', body: 'No wait by default.', parents: ['off-1@elsewhere.test'] }));
    expect(await tryIngest(now)).toMatchObject({ state: 'posted' });
    const backlog = await store(mail({ id: 'old-2@corp.test', from: 'bob', subject: 'Re: Long ago', body: 'Stored long ago.', parents: ['old-1@elsewhere.test'] }));
    await storedAgo(backlog, 3_600_000);
    expect(await tryIngest(backlog, grace)).toMatchObject({ state: 'posted' });
    // The parent came from someone Blend does not know: withheld, not published, but seen.
    const withheld = await store(mail({ id: 'seen-1@corp.test', from: 'dora', subject: 'Seen', body: 'From a stranger.' }));
    expect(await tryIngest(withheld, grace)).toMatchObject({ state: 'withheld' });
    const reply = await store(mail({ id: 'seen-2@corp.test', from: 'bob', subject: 'Re: Seen', body: 'Answering the stranger.', parents: ['seen-1@corp.test'] }));
    expect(await tryIngest(reply, grace)).toMatchObject({ state: 'posted' });
  });
});
