import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asc, eq, inArray, sql } from 'drizzle-orm';
import { getInbound, schema, storeFetched } from '@blend/db';
import { ingest, ingestBatch, type IngestDeps } from '@blend/worker';
import { whileCounted } from './support/count-transactions';
import { ingestDeps, seedIngestDatabase } from './support/ingest';
import { corpMail } from './support/messages';
import { createTestDatabase, type TestDatabase } from './support/database';

// A batch's statements (docs/ARCHITECTURE.md "Ingest, one mail at a time"): no savepoints
// unless a mail fails, the sender read with the row's lock, a reply's earlier copy, wait check
// and thread lookup in one statement, the Message-IDs mapped in the post's or comment's insert, and the mails'
// created events written together at the end, in order, with each thread's sequence. Against a real Postgres.

let t: TestDatabase;
let uid = 0;
const NO_LIMITS = { senderPerMinute: Infinity, senderPerHour: Infinity, threadPerMinute: Infinity, orgPerMinute: Infinity } as IngestDeps['rateLimits'];
const deps = (): IngestDeps => ingestDeps(t.db, { rateLimits: NO_LIMITS, orphanReplyGraceMs: 0 });

const mail = corpMail;

async function storeBatch(raws: string[]): Promise<string[]> {
  const rows = await storeFetched(t.db, 'imap://stmts', 1, raws.map((raw) => ({ uid: ++uid, size: Buffer.byteLength(raw), raw: Buffer.from(raw), internalDate: null })));
  return rows.sort((a, b) => a.uid - b.uid).map((r) => r.id);
}

const row = async (id: string) => (await getInbound(t.db, id))!;
const threadEvents = (threadId: string) =>
  t.db.select({ type: schema.events.type, sequence: schema.events.sequence, payload: schema.events.payload, postId: schema.events.postId, commentId: schema.events.commentId })
    .from(schema.events).where(eq(schema.events.threadId, threadId)).orderBy(asc(schema.events.sequence));

beforeAll(async () => {
  t = await createTestDatabase();
  await seedIngestDatabase(t.db);
  await t.db.insert(schema.people).values([{ email: 'carol@corp.test', name: 'Carol', optIn: 'opted_in' }]).onConflictDoNothing();
});
afterAll(async () => t?.drop());

describe('the statements of a batch', () => {
  it('stays within 7.45 statements a mail for new threads and their replies, all in one transaction without savepoints', async () => {
    const raws = Array.from({ length: 10 }, (_, i) => [
      mail({ id: `s${i}-1@corp.test`, from: 'alice', cc: 'bob@corp.test', subject: `Count ${i}`, body: `Thread ${i}.` }),
      mail({ id: `s${i}-2@corp.test`, from: 'bob', cc: 'alice@corp.test', subject: `Re: Count ${i}`, body: `Reply ${i}.`, inReplyTo: `s${i}-1@corp.test`, references: [`s${i}-1@corp.test`] }),
    ]).flat();
    // A first batch warms the named statements; the second is counted.
    await ingestBatch(await storeBatch(raws), deps());
    const ids = await storeBatch(raws.map((r) => r.replaceAll(/<s(\d)-/g, '<c$1-').replaceAll('Count', 'Counted')));
    const { value: result, counted } = await whileCounted(t.pool, () => ingestBatch(ids, deps()));
    expect(result.alone).toEqual([]);
    expect(result.outcomes.map((o) => o.outcome.state)).toEqual(Array.from({ length: 10 }, () => ['posted', 'commented']).flat());
    // Counted before: 16 a mail (two savepoint statements, the sender, the wait check, two for
    // the event, the thread's participants, the receipt's count once the person is past it);
    // 10.05 while the Message-ID mapping was a statement of its own after the post or comment;
    // 9.05 while each mail had a savepoint (`release savepoint; savepoint`, one statement a mail);
    // 8.05 while the receipt's count of a person's published mails was a statement of its own;
    // 7.95 while a reply's earlier copy was read in a statement of its own.
    expect(counted.statements / ids.length, counted.log.join('\n')).toBeLessThanOrEqual(7.45);
    // A new thread's earlier copy read alone; a reply's with its wait check and thread lookup.
    expect(counted.log.filter((l) => /^select \* from \( \(select 1 as rank/.test(l))).toHaveLength(10);
    expect(counted.log.filter((l) => /^select \(select row_to_json\(c\) from \( select \* from \( \(select 1 as rank/.test(l))).toHaveLength(10);
    expect(counted.log.filter((l) => /^select exists \(select 1 from inbound_messages i where i.message_id/.test(l))).toEqual([]);
    expect(counted.log.filter((l) => /savepoint|rollback/.test(l))).toEqual([]);
    // Every mail's Message-IDs mapped by the statement that wrote its post or comment.
    expect(counted.log.filter((l) => /^insert into "message_refs"/.test(l.trim()))).toEqual([]);
    expect(counted.log.filter((l) => /^with w as \(insert into "(posts|comments)"/.test(l.trim()))).toHaveLength(ids.length);
    // The group of its ten posts is read once; no reply waits for a parent, so nothing is asked of other batches' mails.
    expect(counted.log.filter((l) => /from "groups"/.test(l))).toHaveLength(1);
    expect(counted.log.filter((l) => /bool_or\(i.attempts > 0\)/.test(l))).toHaveLength(0);
  });

  it('writes a batch again with a savepoint a mail when one fails without, committing the others once', async () => {
    await t.db.execute(sql`alter table posts add constraint test_no_poison check (title not like 'Poison pill%') not valid`);
    try {
      const ids = await storeBatch([
        mail({ id: 'f1-1@corp.test', from: 'alice', cc: 'bob@corp.test, carol@corp.test', subject: 'Fallback', body: 'The parent.' }),
        mail({ id: 'f1-2@corp.test', from: 'carol', subject: 'Poison pill', body: 'Fails.' }),
        mail({ id: 'f1-3@corp.test', from: 'bob', cc: 'alice@corp.test', subject: 'Re: Fallback', body: 'The reply.', inReplyTo: 'f1-1@corp.test', references: ['f1-1@corp.test'] }),
      ]);
      const { value: result, counted } = await whileCounted(t.pool, () => ingestBatch(ids, deps()));
      expect(result.alone).toEqual([ids[1]]);
      expect(result.outcomes.map((o) => [o.inboundId, o.outcome.state])).toEqual([
        [ids[0], 'posted'],
        [ids[2], 'commented'],
      ]);
      // The first try stopped at the failing mail and was rolled back whole; the second wrote
      // each mail in a savepoint and rolled the failing one back to its own.
      const control = counted.log.filter((l) => /^(begin|commit|rollback|savepoint|release)/.test(l));
      expect(control).toEqual(['begin', 'rollback', 'begin', 'savepoint blend_mail', 'release savepoint blend_mail; savepoint blend_mail', 'rollback to savepoint blend_mail', 'release savepoint blend_mail; savepoint blend_mail', 'commit']);
      const parent = await row(ids[0]!);
      expect(await row(ids[2]!)).toMatchObject({ state: 'commented', postId: parent.postId });
      expect(await row(ids[1]!)).toMatchObject({ state: 'received', attempts: 1, postId: null });
      // Nothing of the first try is left twice: one created event each, one mirror of the reply (Carol's).
      expect((await threadEvents(parent.postId!)).map((e) => [e.type, e.sequence])).toEqual([['post.created', 1], ['comment.created', 2]]);
      const mirrors = await t.db.select({ email: schema.people.email }).from(schema.notifications)
        .innerJoin(schema.people, eq(schema.people.id, schema.notifications.personId)).where(eq(schema.notifications.commentId, (await row(ids[2]!)).commentId!));
      expect(mirrors).toEqual([{ email: 'carol@corp.test' }]);
    } finally {
      await t.db.execute(sql`alter table posts drop constraint test_no_poison`);
    }
  });

  it('goes on without a savepoint past a reply that decide finds waiting for a parent not come, handing it back uncounted', async () => {
    const d = ingestDeps(t.db, { rateLimits: NO_LIMITS, orphanReplyGraceMs: 600_000 });
    const ids = await storeBatch([
      mail({ id: 'o1-2@corp.test', from: 'bob', cc: 'alice@corp.test', subject: 'Re: Orphan', body: 'Early.', inReplyTo: 'o1-1@corp.test', references: ['o1-1@corp.test'] }),
      mail({ id: 'o1-3@corp.test', from: 'alice', cc: 'bob@corp.test', subject: 'Other', body: 'Unrelated.' }),
    ]);
    const { value: result, counted } = await whileCounted(t.pool, () => ingestBatch(ids, d));
    expect(result.alone).toEqual([ids[0]]);
    expect(result.outcomes.map((o) => [o.inboundId, o.outcome.state])).toEqual([[ids[1], 'posted']]);
    expect(counted.log.filter((l) => /savepoint|rollback/.test(l))).toEqual([]);
    expect(await row(ids[0]!)).toMatchObject({ state: 'received', attempts: 0, postId: null });
  });

  it('threads a reply under its parent of the same batch, with the created events in order on the thread', async () => {
    const ids = await storeBatch([
      mail({ id: 'e1-1@corp.test', from: 'alice', cc: 'bob@corp.test', subject: 'Events', body: 'The parent.' }),
      mail({ id: 'e1-2@corp.test', from: 'bob', cc: 'alice@corp.test', subject: 'Re: Events', body: 'The reply.', inReplyTo: 'e1-1@corp.test', references: ['e1-1@corp.test'] }),
    ]);
    const result = await ingestBatch(ids, deps());
    expect(result.alone).toEqual([]);
    const parent = await row(ids[0]!);
    const reply = await row(ids[1]!);
    expect(parent.state).toBe('posted');
    expect(reply).toMatchObject({ state: 'commented', postId: parent.postId });
    const events = await threadEvents(parent.postId!);
    expect(events.map((e) => [e.type, e.sequence, e.commentId])).toEqual([
      ['post.created', 1, null],
      ['comment.created', 2, reply.commentId],
    ]);
    // The payload is the one a mail ingested alone gets: its own id, its sequence, the content.
    const [created, commented] = events;
    expect(created!.payload).toMatchObject({ event: 'post.created', origin: 'email', thread: { id: parent.postId, sequence: 1 }, post: { id: parent.postId, title: 'Events', body_text: 'The parent.', source: 'email', group: { slug: 'general' }, author: { email: 'alice@corp.test' } } });
    expect(commented!.payload).toMatchObject({ event: 'comment.created', thread: { id: parent.postId, sequence: 2 }, post: { id: parent.postId, title: 'Events' }, comment: { id: reply.commentId, body_text: 'The reply.', author: { email: 'bob@corp.test' } } });
    const [alone] = await storeBatch([mail({ id: 'e1-3@corp.test', from: 'alice', cc: 'bob@corp.test', subject: 'Re: Events', body: 'Alone.', inReplyTo: 'e1-2@corp.test', references: ['e1-1@corp.test', 'e1-2@corp.test'] })]);
    const third = await ingest({ inboundId: alone! }, deps());
    expect(third).toMatchObject({ state: 'commented', postId: parent.postId });
    const all = await threadEvents(parent.postId!);
    expect(all.map((e) => e.sequence)).toEqual([1, 2, 3]);
    expect(Object.keys(all[2]!.payload).sort()).toEqual(Object.keys(commented!.payload).sort());
  });

  it("keeps each created event's content as written, whatever its characters, on the thread of its own post", async () => {
    const bodies = ['Quotes "a" and \\"b\\", a backslash \\ and {braces, commas}.', 'NULL', 'Tab\there, é and 😀; \\u0041 as text; [1,"2"]', '{"json": "looking"}'];
    const ids = await storeBatch(bodies.map((body, i) => mail({ id: `e4-${i}@corp.test`, from: 'alice', cc: 'bob@corp.test', subject: `Chars ${i} "quoted"`, body })));
    expect((await ingestBatch(ids, deps())).alone).toEqual([]);
    for (const id of ids) {
      const { postId } = await row(id);
      const [post] = await t.db.select().from(schema.posts).where(eq(schema.posts.id, postId!));
      const events = await threadEvents(postId!);
      expect(events.map((e) => [e.type, e.sequence, e.postId])).toEqual([['post.created', 1, postId]]);
      expect(events[0]!.payload).toMatchObject({ thread: { id: postId, sequence: 1 }, post: { id: postId, title: post!.title, body_text: post!.bodyText, body_html: post!.bodyHtml } });
    }
  });

  it("makes the mail's people participants in the statement that reads the activity's facts, mirroring to those not on the mail", async () => {
    const ids = await storeBatch([
      mail({ id: 'p1-1@corp.test', from: 'alice', cc: 'bob@corp.test', subject: 'Participants', body: 'Started.' }),
      mail({ id: 'p1-2@corp.test', from: 'carol', cc: 'alice@corp.test', subject: 'Re: Participants', body: 'Joined.', inReplyTo: 'p1-1@corp.test', references: ['p1-1@corp.test'] }),
    ]);
    expect((await ingestBatch(ids, deps())).alone).toEqual([]);
    const post = await row(ids[0]!);
    const reply = await row(ids[1]!);
    const participants = await t.db.select({ email: schema.people.email }).from(schema.threadParticipants)
      .innerJoin(schema.people, eq(schema.people.id, schema.threadParticipants.personId)).where(eq(schema.threadParticipants.postId, post.postId!));
    expect(participants.map((p) => p.email).sort()).toEqual(['alice@corp.test', 'bob@corp.test', 'carol@corp.test']);
    // Bob was on the first mail, not on Carol's: he alone gets her comment as a mirror.
    const planned = await t.db.select({ email: schema.people.email, kind: schema.notifications.kind }).from(schema.notifications)
      .innerJoin(schema.people, eq(schema.people.id, schema.notifications.personId)).where(eq(schema.notifications.commentId, reply.commentId!));
    expect(planned).toEqual([{ email: 'bob@corp.test', kind: 'mirror' }]);
  });

  it("finds a reply's earlier copy in the statement that reads its thread: a copy of a comment is its duplicate, one that says otherwise held", async () => {
    const parent = mail({ id: 'd2-1@corp.test', from: 'alice', cc: 'bob@corp.test', subject: 'Reply copies', body: 'The parent.' });
    const reply = mail({ id: 'd2-2@corp.test', from: 'bob', cc: 'alice@corp.test', subject: 'Re: Reply copies', body: 'The reply.', inReplyTo: 'd2-1@corp.test', references: ['d2-1@corp.test'] });
    const changed = reply.replace('The reply.', 'Something else entirely, not the reply.');
    const ids = await storeBatch([parent, reply, reply, changed]);
    const { value: result, counted } = await whileCounted(t.pool, () => ingestBatch(ids, deps()));
    expect(result.outcomes.map((o) => o.outcome)).toMatchObject([{ state: 'posted' }, { state: 'commented' }, { state: 'duplicate', of: ids[1] }, { state: 'held', reason: 'conflicting_copy' }]);
    expect(counted.log.filter((l) => /^select \(select row_to_json\(c\)/.test(l))).toHaveLength(3);
    const comments = await t.db.select({ id: schema.comments.id }).from(schema.comments).where(eq(schema.comments.dedupeKey, 'mid:d2-2@corp.test'));
    expect(comments).toHaveLength(1);
  });

  it('makes copies of one Message-ID in one batch one post with one created event', async () => {
    const raw = mail({ id: 'd1-1@corp.test', from: 'alice', cc: 'bob@corp.test', subject: 'Copies', body: 'Once.' });
    const ids = await storeBatch([raw, raw, raw]);
    const result = await ingestBatch(ids, deps());
    expect(result.outcomes.map((o) => o.outcome.state)).toEqual(['posted', 'duplicate', 'duplicate']);
    const posted = await row(ids[0]!);
    expect((await threadEvents(posted.postId!)).map((e) => e.type)).toEqual(['post.created']);
  });

  it("sends receipts for a person's first published mails only, counting them once the count is past", async () => {
    await t.db.insert(schema.people).values([{ email: 'dora@corp.test', name: 'Dora', optIn: 'opted_in' }]);
    const raws = Array.from({ length: 9 }, (_, i) => mail({ id: `r${i}@corp.test`, from: 'dora', subject: `Receipt ${i}`, body: `Post ${i}.` }));
    const ids = await storeBatch(raws);
    const { value: result, counted } = await whileCounted(t.pool, () => ingestBatch(ids, deps()));
    expect(result.outcomes.map((o) => o.outcome.state)).toEqual(Array.from({ length: 9 }, () => 'posted'));
    const receipts = await t.db.select({ subject: schema.outboundMessages.subject }).from(schema.outboundMessages)
      .where(sql`${schema.outboundMessages.kind} = 'receipt' and ${schema.outboundMessages.toAddress} = 'dora@corp.test'`);
    // The first five (DEFAULT_ACTIVITY.receiptsFirst), as alone.
    expect(receipts.map((r) => r.subject).sort()).toEqual([0, 1, 2, 3, 4].map((i) => expect.stringContaining(`Receipt ${i}`)));
    // Counted in the statement that reads each mail's activity facts (until the count reached
    // six, then known for the rest of the transaction), never in one of its own.
    const own = (log: string[]) => log.filter((l) => /^select \(\(select count\(\*\) from \(select 1 from posts where author_id/.test(l));
    expect(own(counted.log)).toEqual([]);
    // The next batch knows nothing of it: counted again, and still no receipt.
    const more = await storeBatch([0, 1].map((i) => mail({ id: `r2-${i}@corp.test`, from: 'dora', subject: `Later ${i}`, body: `Later ${i}.` })));
    const { counted: again } = await whileCounted(t.pool, () => ingestBatch(more, deps()));
    expect(own(again.log)).toEqual([]);
    expect(await t.db.select({ id: schema.outboundMessages.id }).from(schema.outboundMessages)
      .where(sql`${schema.outboundMessages.kind} = 'receipt' and ${schema.outboundMessages.toAddress} = 'dora@corp.test'`)).toHaveLength(5);
  });

  describe('a reply that links two threads of its own batch', () => {
    const A = 'm1-a@corp.test';
    const B = 'm1-b@corp.test';
    const batch = (tag: string, body: string) => [
      mail({ id: `${tag}${A}`, from: 'alice', cc: 'bob@corp.test, carol@corp.test', subject: `Move ${tag}`, body: 'We move in March.' }),
      // B answers a mail Blend never saw: nothing ties it to A yet.
      mail({ id: `${tag}${B}`, from: 'bob', cc: 'alice@corp.test, carol@corp.test', subject: `Desks ${tag}`, body: 'New desks.', inReplyTo: `${tag}m1-m@corp.test`, references: [`${tag}m1-m@corp.test`] }),
      // A comment on B, mirrored to Bob and Carol: notifications of B's thread, held until the merge.
      mail({ id: `${tag}m1-b2@corp.test`, from: 'alice', subject: `Re: Desks ${tag}`, body: 'Standing desks.', inReplyTo: `${tag}${B}`, references: [`${tag}m1-m@corp.test`, `${tag}${B}`] }),
      mail({ id: `${tag}m1-c@corp.test`, from: 'carol', cc: 'alice@corp.test, bob@corp.test', subject: `Re: Desks ${tag}`, body, inReplyTo: `${tag}${B}`, references: [`${tag}${A}`, `${tag}m1-m@corp.test`, `${tag}${B}`] }),
    ];

    it('writes the created events and notifications held before the merge first, so the thread reads created, merged, commented and the mirrors move along', async () => {
      const ids = await storeBatch(batch('ok-', 'Both plans are one.'));
      const result = await ingestBatch(ids, deps());
      expect(result.alone).toEqual([]);
      const a = await row(ids[0]!);
      const b2 = await row(ids[2]!);
      const c = await row(ids[3]!);
      expect(c).toMatchObject({ state: 'commented', postId: a.postId });
      expect((await row(ids[1]!)).postId).toBe(a.postId);
      // The comment's mirrors were written before the merge, and moved with its thread.
      const mirrors = await t.db.select({ postId: schema.notifications.postId, email: schema.people.email }).from(schema.notifications)
        .innerJoin(schema.people, eq(schema.people.id, schema.notifications.personId)).where(eq(schema.notifications.commentId, b2.commentId!));
      expect(mirrors.map((m) => [m.email, m.postId]).sort()).toEqual([['bob@corp.test', a.postId], ['carol@corp.test', a.postId]]);
      const [merge] = await t.db.select().from(schema.postMerges).where(eq(schema.postMerges.survivingPostId, a.postId!));
      expect(merge).toBeDefined();
      expect((await threadEvents(a.postId!)).map((e) => [e.type, e.sequence])).toEqual([
        ['post.created', 1],
        ['post.merged', 2],
        ['comment.created', 3],
      ]);
      // The merged post's own events were written before it went.
      expect((await threadEvents(merge!.mergedPostId)).map((e) => [e.type, e.sequence])).toEqual([['post.created', 1], ['comment.created', 2]]);
    });

    it('writes the events and notifications of the mails before a mail that fails after its merge once, and none of its own', async () => {
      await t.db.execute(sql`alter table comments add constraint test_no_poison check (body_text not like 'Poison%') not valid`);
      try {
        const ids = await storeBatch(batch('bad-', 'Poison: both plans are one.'));
        const result = await ingestBatch(ids, deps());
        expect(result.alone).toEqual([ids[3]]);
        const a = await row(ids[0]!);
        const b = await row(ids[1]!);
        const b2 = await row(ids[2]!);
        expect(b.state).toBe('posted');
        expect(b.postId).not.toBe(a.postId);
        expect(b2).toMatchObject({ state: 'commented', postId: b.postId });
        expect(await row(ids[3]!)).toMatchObject({ state: 'received', postId: null });
        expect(await t.db.select().from(schema.postMerges).where(inArray(schema.postMerges.survivingPostId, [a.postId!, b.postId!]))).toEqual([]);
        expect((await threadEvents(a.postId!)).map((e) => [e.type, e.sequence])).toEqual([['post.created', 1]]);
        expect((await threadEvents(b.postId!)).map((e) => [e.type, e.sequence])).toEqual([['post.created', 1], ['comment.created', 2]]);
        // The comment's mirrors, written at the merge and rolled back with it, were written again, once.
        const mirrors = await t.db.select({ postId: schema.notifications.postId }).from(schema.notifications).where(eq(schema.notifications.commentId, b2.commentId!));
        expect(mirrors).toEqual([{ postId: b.postId }, { postId: b.postId }]);
      } finally {
        await t.db.execute(sql`alter table comments drop constraint test_no_poison`);
      }
    });
  });
});
