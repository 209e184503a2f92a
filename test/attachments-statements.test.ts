import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, inArray, sql } from 'drizzle-orm';
import { ensureGroup, filesForMail, insertComment, insertPost, RAW_SLICE_BYTES, schema, storeAttachments, storeFetched, upsertPerson, type MailFile } from '@blend/db';
import { ingest } from '@blend/worker';
import type { AttachmentPlan } from '@blend/core';
import { whileCounted } from './support/count-transactions';
import { ingestDeps, seedIngestDatabase } from './support/ingest';
import { corpMail } from './support/messages';
import { createTestDatabase, type TestDatabase } from './support/database';

// A published mail's files (storeAttachments): one statement a file, a stored file's content
// written in the statement that writes its row; the files a post's or comment's mail carries
// (filesForMail), read by named statements. Against a real Postgres.

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
  await seedIngestDatabase(t.db);
});
afterAll(async () => t?.drop());

const plan = (filename: string, store: boolean, size: number): AttachmentPlan => ({
  filename,
  declaredType: 'application/pdf',
  size,
  inline: false,
  store,
  omitted: store ? null : 'too_large',
  note: null,
});

describe('storeAttachments', () => {
  it('writes a file in one statement, its content once per SHA-256', async () => {
    const raw = corpMail({ id: 'files-1@corp.test', from: 'alice', subject: 'Files', body: 'Two files.' });
    const [row] = await storeFetched(t.db, 'imap://files', 1, [{ uid: 1, size: raw.length, raw: Buffer.from(raw), internalDate: null }]);
    const outcome = await ingest({ inboundId: row!.id }, ingestDeps(t.db));
    expect(outcome.state).toBe('posted');
    const postId = (outcome as { postId: string }).postId;
    const a = Buffer.from('%PDF-1.4 first file');
    const files = [
      { plan: plan('a.pdf', true, a.length), content: a },
      { plan: plan('a-again.pdf', true, a.length), content: Buffer.from(a) },
      { plan: plan('big.pdf', false, 50_000_000), content: Buffer.alloc(0) },
    ];
    const { counted } = await whileCounted(t.pool, () => t.db.transaction((tx) => storeAttachments(tx, { postId, commentId: null }, files)));
    // Two a stored file before: its content, then its row.
    expect(counted.statements, counted.log.join('\n')).toBe(2 + files.length);
    const rows = await t.db.select().from(schema.attachments).where(eq(schema.attachments.postId, postId)).orderBy(schema.attachments.position);
    expect(rows.map((r) => [r.filename, r.size, r.omitted, r.position, r.sha256 !== null])).toEqual([
      ['a.pdf', a.length, null, 0, true],
      ['a-again.pdf', a.length, null, 1, true],
      ['big.pdf', 50_000_000, 'too_large', 2, false],
    ]);
    const blobs = await t.db.select().from(schema.attachmentBlobs).where(inArray(schema.attachmentBlobs.sha256, rows.flatMap((r) => r.sha256 ?? [])));
    expect(blobs).toHaveLength(1);
    expect(blobs[0]!.content.equals(a)).toBe(true);
    expect(blobs[0]!.size).toBe(a.length);
  });
});

describe('filesForMail', () => {
  const bytes = (n: number, seed: number) => Buffer.alloc(n, seed);
  const content = async (f: MailFile) => (Buffer.isBuffer(f.content) ? f.content : await f.content.read(0, f.content.size));
  const read = async (target: { postId: string; commentId: string | null }, maxTotalBytes: number) =>
    Promise.all((await filesForMail(t.db, target, maxTotalBytes)).map(async (f) => [f.filename, f.declaredType, (await content(f))?.toString('hex')]));
  const hex = (b: Buffer) => b.toString('hex');

  it("gives a post's own files or one comment's, in order, within the total, by named statements", async () => {
    const group = await ensureGroup(t.db, 'general');
    const { person } = await upsertPerson(t.db, { email: 'files@corp.test', name: 'Files', optIn: true });
    const post = await insertPost(t.db, { groupId: group.id, authorId: person.id, title: 'Files', bodyText: 'files', bodyHtml: '<p>files</p>', source: 'esn' });
    const [c1, c2, empty] = await Promise.all(
      ['one', 'two', 'none'].map((b) => insertComment(t.db, { postId: post.id, authorId: person.id, bodyText: b, bodyHtml: `<p>${b}</p>`, source: 'esn' })),
    );
    const p1 = bytes(100, 1);
    const p2 = bytes(RAW_SLICE_BYTES + 5, 2);
    const p3 = bytes(30, 3);
    const a1 = bytes(40, 4);
    const a2 = bytes(50, 5);
    const b1 = bytes(60, 6);
    await storeAttachments(t.db, { postId: post.id, commentId: null }, [
      { plan: plan('p1.pdf', true, p1.length), content: p1 },
      { plan: plan('p2.pdf', true, p2.length), content: p2 },
      { plan: plan('listed.pdf', false, 9), content: Buffer.alloc(0) },
      { plan: plan('p3.pdf', true, p3.length), content: p3 },
    ]);
    await storeAttachments(t.db, { postId: post.id, commentId: c1!.id }, [
      { plan: plan('a1.pdf', true, a1.length), content: a1 },
      { plan: plan('a2.pdf', true, a2.length), content: a2 },
    ]);
    await storeAttachments(t.db, { postId: post.id, commentId: c2!.id }, [{ plan: plan('b1.pdf', true, b1.length), content: b1 }]);

    // The post's own files (not its comments', not one only listed); one over what is left of the total is left out, a later one that fits is not.
    expect(await read({ postId: post.id, commentId: null }, 1_000)).toEqual([
      ['p1.pdf', 'application/pdf', hex(p1)],
      ['p3.pdf', 'application/pdf', hex(p3)],
    ]);
    expect((await read({ postId: post.id, commentId: null }, 100 + RAW_SLICE_BYTES + 5 + 30)).map((f) => f[0])).toEqual(['p1.pdf', 'p2.pdf', 'p3.pdf']);
    expect((await read({ postId: post.id, commentId: null }, 99)).map((f) => f[0])).toEqual(['p3.pdf']);
    // Each comment's own, whichever is asked first.
    expect(await read({ postId: post.id, commentId: c2!.id }, 1_000)).toEqual([['b1.pdf', 'application/pdf', hex(b1)]]);
    expect(await read({ postId: post.id, commentId: c1!.id }, 1_000)).toEqual([
      ['a1.pdf', 'application/pdf', hex(a1)],
      ['a2.pdf', 'application/pdf', hex(a2)],
    ]);
    expect(await read({ postId: post.id, commentId: c1!.id }, 45)).toEqual([['a1.pdf', 'application/pdf', hex(a1)]]);
    expect(await read({ postId: post.id, commentId: empty!.id }, 1_000)).toEqual([]);
    // A comment's id under another post gives nothing.
    const other = await insertPost(t.db, { groupId: group.id, authorId: person.id, title: 'Other', bodyText: 'other', bodyHtml: '<p>other</p>', source: 'esn' });
    expect(await read({ postId: other.id, commentId: c1!.id }, 1_000)).toEqual([]);
    expect(await read({ postId: other.id, commentId: null }, 1_000)).toEqual([]);

    const named = await t.db.transaction(async (tx) => {
      await filesForMail(tx, { postId: post.id, commentId: null }, 1_000);
      await filesForMail(tx, { postId: post.id, commentId: c1!.id }, 1_000);
      const r = await tx.execute<{ name: string }>(sql`select name from pg_prepared_statements where name like 'blend_files_for_%' order by name`);
      return r.rows.map((x) => x.name);
    });
    expect(named).toEqual(['blend_files_for_comment_mail', 'blend_files_for_post_mail']);
  });
});
