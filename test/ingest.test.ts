import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { ensureGroup, findPostMerge, getCheckpoint, getInbound, getEsnPostView, hasThreadOptOut, resetForReplay, rewindCheckpoint, schema, storeFetched, upsertPerson } from '@blend/db';
import { ingest, MAX_INGEST_TRIES, type IngestDeps } from '@blend/worker';
import { ingestDeps, seedIngestDatabase } from './support/ingest';
import { createTestDatabase, type TestDatabase } from './support/database';

// The ingest stage against a real Postgres, one stored fixture at a time; the IMAP side
// is covered by the end-to-end tests.
const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, 'fixtures/mail', name));

let t: TestDatabase;
let uid = 0;
// Conversion, not sender authentication, is under test here (test/trust.test.ts covers that).
const deps = (): IngestDeps => ingestDeps(t.db, { senderAuth: { mode: 'none', orgDomains: ['corp.test', 'elsewhere.test'] } });

async function store(raw: Buffer, internalDate: Date | null = new Date('2026-11-24T12:00:00Z')) {
  const rows = await storeFetched(t.db, 'imap://test', 1, [{ uid: ++uid, size: raw.length, raw, internalDate }]);
  return rows[0]!.id;
}
async function run(name: string) {
  const id = await store(fixture(name));
  const outcome = await ingest({ inboundId: id }, deps());
  return { id, outcome, row: (await getInbound(t.db, id))! };
}

beforeAll(async () => {
  t = await createTestDatabase();
  await seedIngestDatabase(t.db);
  await upsertPerson(t.db, { email: 'carol@corp.test', name: 'Carol' });
});
afterAll(async () => t?.drop());

describe('ingest', () => {
  it('turns a new thread into a post and a reply into a comment on it', async () => {
    const first = await run('plain-new-thread.eml');
    expect(first.row.state).toBe('posted');
    const post = (await getEsnPostView(t.db, first.row.postId!, null))!;
    expect(post.title).toBe('Quarterly plan is ready');
    expect(post.author.email).toBe('alice@corp.test');
    expect(post.group.slug).toBe('general');
    expect(post.source).toBe('email');
    expect(post.body_text).toContain('Please comment by Friday.');
    expect(post.body_text).not.toContain('Head of Planning');
    expect(post.body_html).toContain('href="https://intranet.corp.test/plan"');

    const reply = await run('plain-reply.eml');
    expect(reply.row).toMatchObject({ state: 'commented', postId: post.id });
    const after = (await getEsnPostView(t.db, post.id, null))!;
    expect(after.comments).toHaveLength(1);
    expect(after.comments[0]!.author.email).toBe('bob@corp.test');
    expect(after.comments[0]!.body_text).toBe('Looks good to me, one question about Q3 hiring.');
    // Bob's receipt names the thread he commented on.
    const receipts = await t.db.select().from(schema.outboundMessages).where(eq(schema.outboundMessages.kind, 'receipt'));
    expect(receipts.filter((r) => r.toAddress === 'bob@corp.test').map((r) => r.subject)).toEqual(['Your comment on “Quarterly plan is ready” was published']);
  });

  it('makes a reply wait while its parent from the same batch is still being ingested', async () => {
    // Another subject, so the earlier thread with the fixture's subject is not a candidate.
    const parentRaw = Buffer.from(fixture('plain-new-thread.eml').toString().replaceAll('plan-1@', 'batch-1@').replaceAll('Quarterly plan', 'Batch plan'));
    const replyRaw = Buffer.from(fixture('plain-reply.eml').toString().replaceAll('plan-1@', 'batch-1@').replace('plan-2@', 'batch-2@').replaceAll('Quarterly plan', 'Batch plan'));
    const rows = await storeFetched(t.db, 'imap://test', 1, [
      { uid: ++uid, size: parentRaw.length, raw: parentRaw, internalDate: null, messageId: 'batch-1@corp.test' },
      { uid: ++uid, size: replyRaw.length, raw: replyRaw, internalDate: null, messageId: 'batch-2@corp.test' },
    ]);
    const [parentId, replyId] = rows.sort((a, b) => a.uid - b.uid).map((r) => r.id);
    await expect(ingest({ inboundId: replyId! }, deps())).rejects.toThrow(/parent message is stored but not ingested yet/);
    expect((await getInbound(t.db, replyId!))!.state).toBe('received');
    const parent = await ingest({ inboundId: parentId! }, deps());
    expect(parent.state).toBe('posted');
    expect(await ingest({ inboundId: replyId! }, deps())).toMatchObject({ state: 'commented', postId: (parent as { postId: string }).postId });
  });

  it('keeps a forwarded message apart from the note, and hides it when its author has not opted in', async () => {
    const raw = Buffer.from(`Delivered-To: status@example.test\r\n${fixture('conv-gmail-forward.eml').toString()}`);
    const id = await store(raw);
    expect(await ingest({ inboundId: id }, deps())).toMatchObject({ state: 'posted' });
    const post = (await getEsnPostView(t.db, (await getInbound(t.db, id))!.postId!, null))!;
    expect(post.body_text).toBe('FYI, please review before Friday. #contracts');
    expect(post.tags).toEqual(['contracts']);
    expect(post.forwarded).toHaveLength(1);
    expect(post.forwarded[0]!.from).toBe('');
    expect(JSON.stringify(post)).not.toContain('Dana Supplier');
  });

  it('is idempotent: running the same job twice changes nothing', async () => {
    const id = await store(fixture('plain-group-address.eml'));
    await ensureGroup(t.db, 'marketing');
    const a = await ingest({ inboundId: id }, deps());
    const b = await ingest({ inboundId: id }, deps());
    expect(a.state).toBe('posted');
    expect(b).toMatchObject({ state: 'skipped', reason: 'already_final' });
    const posts = await t.db.select().from(schema.posts).where(eq(schema.posts.inboundId, id));
    expect(posts).toHaveLength(1);
  });

  it('makes a second copy of the same mail (another UID) a duplicate, not a second post', async () => {
    const raw = fixture('plain-no-message-id.eml');
    const first = await store(raw);
    const second = await store(raw);
    expect((await ingest({ inboundId: first }, deps())).state).toBe('posted');
    expect(await ingest({ inboundId: second }, deps())).toMatchObject({ state: 'duplicate', of: first });
    const row = (await getInbound(t.db, first))!;
    expect(row.dedupeKey).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('ingests two copies processed at the same time into one post', async () => {
    const raw = Buffer.from(fixture('plain-new-thread.eml').toString().replace('plan-1@corp.test', 'race-1@corp.test').replaceAll('Quarterly plan', 'Race plan'));
    const ids = await Promise.all([store(raw), store(raw), store(raw)]);
    const outcomes = await Promise.all(ids.map((inboundId) => ingest({ inboundId }, deps())));
    expect(outcomes.map((o) => o.state).sort()).toEqual(['duplicate', 'duplicate', 'posted']);
    const posts = await t.db.select().from(schema.posts).where(eq(schema.posts.dedupeKey, 'mid:race-1@corp.test'));
    expect(posts).toHaveLength(1);
  });

  it.each([
    ['plain-empty-body.eml', 'rejected', 'empty_body'],
    ['outlook-auto-reply.eml', 'rejected', 'auto_generated'],
    ['plain-unknown-sender.eml', 'withheld', 'sender_unknown'],
    ['plain-not-opted-in.eml', 'withheld', 'not_opted_in'],
  ])('%s ends %s with reason %s and publishes nothing', async (name, state, reason) => {
    const { row } = await run(name);
    expect(row).toMatchObject({ state, reason, postId: null, commentId: null });
  });

  it('rejects mail to a group that does not exist', async () => {
    const raw = Buffer.from(
      fixture('plain-group-address.eml').toString().replaceAll('marketing@', 'no-such-group@').replace('group-1@', 'group-2@'),
    );
    const id = await store(raw);
    await ingest({ inboundId: id }, deps());
    expect(await getInbound(t.db, id)).toMatchObject({ state: 'rejected', reason: 'unknown_group' });
  });

  it('posts mail with an unparseable Date at the time the server received it', async () => {
    const { row } = await run('plain-bad-date.eml');
    expect(row.state).toBe('posted');
    const post = (await getEsnPostView(t.db, row.postId!, null))!;
    expect(post.created_at).toBe('2026-11-24T12:00:00.000Z');
  });

  it('parses a malformed multipart as far as it can, without losing the message', async () => {
    const { row } = await run('malformed-unterminated-multipart.eml');
    expect(['posted', 'rejected']).toContain(row.state);
    if (row.state === 'rejected') expect(row.reason).toBe('malformed_mime');
    else expect((await getEsnPostView(t.db, row.postId!, null))!.title).toBe('Broken structure');
  });

  it('sanitises HTML-only mail: no script, no handlers, no remote images', async () => {
    const { row } = await run('html-only-with-script.eml');
    expect(row.state).toBe('posted');
    const post = (await getEsnPostView(t.db, row.postId!, null))!;
    expect(post.body_text).toContain('Launch moved to Thursday');
    expect(post.body_html).not.toMatch(/<script|onclick|<img|tracker\.test|<style/i);
    expect(post.body_html).toContain('https://corp.test/launch');
  });

  it('rejects a message over the MIME limits without parsing it', async () => {
    const parts = Array.from({ length: 600 }, (_, i) => `--B\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`).join('');
    const raw = Buffer.from(
      'From: alice@corp.test\r\nTo: status@example.test\r\nSubject: bomb\r\nMessage-ID: <bomb@corp.test>\r\n' +
        `MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n${parts}--B--\r\n`,
    );
    const id = await store(raw);
    expect(await ingest({ inboundId: id }, deps())).toEqual({ state: 'rejected', reason: 'mime_limits' });
  });

  it('rejects a row that was never downloaded', async () => {
    const rows = await storeFetched(t.db, 'imap://test', 1, [{ uid: ++uid, size: 10, raw: null, internalDate: null }]);
    expect(await ingest({ inboundId: rows[0]!.id }, deps())).toEqual({ state: 'rejected', reason: 'missing_source' });
  });
});

describe('threading without References', () => {
  const mail = (h: { id: string; from: string; to?: string; subject: string; body: string; extra?: string[] }) =>
    Buffer.from(
      [
        `From: ${h.from}`,
        `To: ${h.to ?? 'status@example.test'}`,
        `Subject: ${h.subject}`,
        'Date: Tue, 24 Nov 2026 12:00:00 +0000',
        `Message-ID: <${h.id}>`,
        ...(h.extra ?? []),
        'Content-Type: text/plain; charset=utf-8',
        '',
        h.body,
        '',
      ].join('\r\n'),
    );
  const ingestRaw = async (raw: Buffer) => {
    const id = await store(raw);
    await ingest({ inboundId: id }, deps());
    return (await getInbound(t.db, id))!;
  };

  it('joins an Outlook reply that dropped In-Reply-To to its conversation by the Thread-Index root', async () => {
    const root = Buffer.concat([Buffer.from([1, 0x01, 0xd9, 0x5f, 0x12, 0x34]), Buffer.alloc(16, 9)]);
    const child = Buffer.concat([root, Buffer.from([0, 0, 0, 0x10, 0x20])]);
    const first = await ingestRaw(mail({ id: 'ti-1@corp.test', from: 'Alice <alice@corp.test>', subject: 'Parking spaces', body: 'Who needs one?', extra: [`Thread-Index: ${root.toString('base64')}`] }));
    expect(first.state).toBe('posted');
    const [post] = await t.db.select().from(schema.posts).where(eq(schema.posts.id, first.postId!));
    expect(post!.threadIndex).toBe(root.toString('base64'));
    // Mobile Outlook: no In-Reply-To, no References, a new subject prefix in another language.
    const reply = await ingestRaw(mail({ id: 'ti-2@corp.test', from: 'Bob <bob@corp.test>', subject: 'AW: Parking spaces', body: 'I do.', extra: [`Thread-Index: ${child.toString('base64')}`] }));
    expect(reply).toMatchObject({ state: 'commented', postId: first.postId });
  });

  it('joins a reply by subject and participants, but not a stranger’s mail with the same subject', async () => {
    const first = await ingestRaw(mail({ id: 'subj-1@corp.test', from: 'Alice <alice@corp.test>', to: 'Bob <bob@corp.test>, status@example.test', subject: 'Team lunch', body: 'Friday at noon?' }));
    expect(first.state).toBe('posted');
    const reply = await ingestRaw(mail({ id: 'subj-2@corp.test', from: 'Bob <bob@corp.test>', to: 'Alice <alice@corp.test>, status@example.test', subject: 'Re: Team lunch', body: 'Works for me.' }));
    expect(reply).toMatchObject({ state: 'commented', postId: first.postId });
    // Same subject, nobody of the thread on it: a new thread.
    await upsertPerson(t.db, { email: 'dora@elsewhere.test', name: 'Dora', optIn: true });
    const other = await ingestRaw(mail({ id: 'subj-3@elsewhere.test', from: 'Dora <dora@elsewhere.test>', subject: 'Re: Team lunch', body: 'Our team lunch is Thursday.' }));
    expect(other.state).toBe('posted');
    expect(other.postId).not.toBe(first.postId);
    // No reply marker: a new thread even from a participant.
    const fresh = await ingestRaw(mail({ id: 'subj-4@corp.test', from: 'Bob <bob@corp.test>', subject: 'Team lunch', body: 'Next month’s lunch.' }));
    expect(fresh.state).toBe('posted');
    expect(fresh.postId).not.toBe(first.postId);
  });
});

describe('a reply that arrives before its parent', () => {
  it('is published on its own, then becomes a comment on the parent once the parent arrives', async () => {
    const reply = Buffer.from(
      ['From: Bob <bob@corp.test>', 'To: Alice <alice@corp.test>, status@example.test', 'Subject: Re: Kickoff agenda', 'Date: Tue, 24 Nov 2026 12:05:00 +0000',
        'Message-ID: <late-2@corp.test>', 'In-Reply-To: <late-1@corp.test>', 'References: <late-1@corp.test>', 'Content-Type: text/plain; charset=utf-8', '', 'Add a demo slot, please, @alice@corp.test.', ''].join('\r\n'),
    );
    const parent = Buffer.from(
      ['From: Alice <alice@corp.test>', 'To: Bob <bob@corp.test>, status@example.test', 'Subject: Kickoff agenda', 'Date: Tue, 24 Nov 2026 12:00:00 +0000',
        'Message-ID: <late-1@corp.test>', 'Content-Type: text/plain; charset=utf-8', '', 'Here is the agenda.', ''].join('\r\n'),
    );
    // Arrival times of their own, away from the other tests' mail (per-sender rate limits).
    const at = (m: number) => new Date(Date.UTC(2026, 10, 10, 12, m));
    // Alice is known before the reply comes, so it mentions her.
    const alice = (await upsertPerson(t.db, { email: 'alice@corp.test' })).person.id;
    const replyId = await store(reply, at(5));
    expect(await ingest({ inboundId: replyId }, deps())).toMatchObject({ state: 'posted' });
    const early = (await getInbound(t.db, replyId))!.postId!;
    await t.db.insert(schema.reactions).values({ postId: early, personId: alice });
    // What people did with the early post before the parent came: a file, a refusal to be
    // mirrored in the thread, a muted thread, a tag.
    await t.db.insert(schema.attachments).values({ postId: early, filename: 'agenda.txt', declaredType: 'text/plain', size: 3, omitted: 'test' });
    await t.db.insert(schema.threadOptOuts).values({ postId: early, address: 'carol@corp.test' });
    await t.db.insert(schema.threadMutes).values({ postId: early, personId: alice });
    const [earlyRow] = await t.db.select().from(schema.posts).where(eq(schema.posts.id, early));
    await t.db.insert(schema.postTags).values({ postId: early, tag: 'kickoff', postCreatedAt: earlyRow!.createdAt });

    const parentId = await store(parent, at(20));
    const p = await ingest({ inboundId: parentId }, deps());
    expect(p.state).toBe('posted');
    const postId = (p as { postId: string }).postId;
    const view = (await getEsnPostView(t.db, postId, null))!;
    expect(view.body_text).toBe('Here is the agenda.');
    expect(view.comments.map((c) => [c.author.email, c.body_text])).toEqual([['bob@corp.test', 'Add a demo slot, please, @alice@corp.test.']]);
    expect(await t.db.select().from(schema.posts).where(eq(schema.posts.id, early))).toEqual([]);
    expect((await getInbound(t.db, replyId))!).toMatchObject({ state: 'commented', postId, commentId: view.comments[0]!.id });
    // Recorded, so links to the early post lead to the thread (docs/ARCHITECTURE.md "Threads and merges").
    expect(await findPostMerge(t.db, early)).toMatchObject({ survivingPostId: postId, commentId: view.comments[0]!.id, kind: 'adopted' });
    expect(await t.db.select().from(schema.reactions).where(eq(schema.reactions.postId, postId))).toHaveLength(1);
    expect(await t.db.select({ postId: schema.attachments.postId, commentId: schema.attachments.commentId }).from(schema.attachments).where(eq(schema.attachments.filename, 'agenda.txt'))).toEqual([{ postId, commentId: view.comments[0]!.id }]);
    expect(await hasThreadOptOut(t.db, postId, 'carol@corp.test')).toBe(true);
    expect(await t.db.select().from(schema.threadOptOuts).where(eq(schema.threadOptOuts.postId, early))).toEqual([]);
    expect(await t.db.select({ personId: schema.threadMutes.personId }).from(schema.threadMutes).where(eq(schema.threadMutes.postId, postId))).toEqual([{ personId: alice }]);
    expect(await t.db.select({ tag: schema.postTags.tag }).from(schema.postTags).where(eq(schema.postTags.postId, postId))).toEqual([{ tag: 'kickoff' }]);
    // The early reply's mention of Alice moved along, with the parent's created_at for `mentions=me`.
    const moved = await t.db.select({ at: schema.mentions.postCreatedAt }).from(schema.mentions).where(eq(schema.mentions.postId, postId));
    const [parentRow] = await t.db.select({ at: schema.posts.createdAt }).from(schema.posts).where(eq(schema.posts.id, postId));
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.map((m) => m.at)).toEqual(moved.map(() => parentRow!.at));

    // A later reply to either mail lands on the one thread; a second copy of the early reply is a duplicate.
    const later = Buffer.from(
      ['From: Alice <alice@corp.test>', 'To: status@example.test', 'Subject: Re: Kickoff agenda', 'Date: Tue, 24 Nov 2026 12:10:00 +0000',
        'Message-ID: <late-3@corp.test>', 'In-Reply-To: <late-2@corp.test>', 'References: <late-1@corp.test> <late-2@corp.test>', 'Content-Type: text/plain; charset=utf-8', '', 'Done.', ''].join('\r\n'),
    );
    const laterId = await store(later, at(35));
    expect(await ingest({ inboundId: laterId }, deps())).toMatchObject({ state: 'commented', postId });
    const again = await store(reply, at(50));
    expect(await ingest({ inboundId: again }, deps())).toMatchObject({ state: 'duplicate' });
  });
});

describe('a mail whose ingest never finishes', () => {
  // As if the worker had died ingesting it each time: the tries are committed before the work.
  const triedBefore = async (tries: number) => {
    // Its own thread, from someone the earlier tests did not use up the rate limit of.
    const raw = Buffer.from(
      fixture('plain-new-thread.eml')
        .toString()
        .replace(/^Message-ID: .*$/im, `Message-ID: <tries-${tries}@corp.test>`)
        .replace(/^Subject: .*$/im, `Subject: Tried ${tries} times`)
        .replace(/^From: .*$/im, 'From: Bob <bob@corp.test>'),
    );
    const id = await store(raw);
    await t.db.update(schema.inboundMessages).set({ attempts: tries }).where(eq(schema.inboundMessages.id, id));
    return id;
  };

  it(`is ingested on its ${MAX_INGEST_TRIES}th try`, async () => {
    const id = await triedBefore(MAX_INGEST_TRIES - 1);
    expect((await ingest({ inboundId: id }, deps())).state).toBe('posted');
    expect((await getInbound(t.db, id))!.attempts).toBe(MAX_INGEST_TRIES);
  });

  it('fails (conversion_died) after that, instead of coming back for ever, and replay tries again', async () => {
    const id = await triedBefore(MAX_INGEST_TRIES);
    expect(await ingest({ inboundId: id }, deps())).toEqual({ state: 'failed', reason: 'conversion_died' });
    expect(await getInbound(t.db, id)).toMatchObject({ state: 'failed', reason: 'conversion_died', postId: null });
    await t.db.transaction((tx) => resetForReplay(tx, id));
    expect((await ingest({ inboundId: id }, deps())).state).toBe('posted');
  });
});

describe('the IMAP checkpoint', () => {
  const box = 'imap://checkpoint-test';
  const msg = (n: number) => ({ uid: n, size: 1, raw: Buffer.from(`m${n}`), internalDate: null });

  it('only moves forward as batches are stored', async () => {
    await storeFetched(t.db, box, 7, [msg(1), msg(2), msg(3)]);
    await storeFetched(t.db, box, 7, [msg(2)]); // a late, overlapping batch
    expect(await getCheckpoint(t.db, box)).toEqual({ uidValidity: 7, lastUid: 3, rewinds: 0 });
  });

  it('keeps a rewind by IT (mailbox backfill) that happened while a batch was being fetched', async () => {
    const before = (await getCheckpoint(t.db, box))!; // what a poller read before fetching 4..5
    expect(await rewindCheckpoint(t.db, box, 7, 1)).toEqual({ uidValidity: 7, lastUid: 1, rewinds: 1 });
    const rows = await storeFetched(t.db, box, 7, [msg(4), msg(5)], before.rewinds);
    expect(rows.map((r) => r.uid)).toEqual([4, 5]); // stored and handed on all the same
    expect(await getCheckpoint(t.db, box)).toEqual({ uidValidity: 7, lastUid: 1, rewinds: 1 });
    // The next sync reads the rewound checkpoint and moves on from there.
    await storeFetched(t.db, box, 7, [msg(2), msg(3), msg(4), msg(5)], 1);
    expect(await getCheckpoint(t.db, box)).toEqual({ uidValidity: 7, lastUid: 5, rewinds: 1 });
  });
});
