import { createHash } from 'node:crypto';
import { and, eq, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import type { AttachmentPlan } from '@blend/core';
import type { Tx } from '../client';
import { attachmentBlobs, attachments, comments, posts } from '../schema';
import { groupVisibleTo } from './groups';
import { RAW_SLICE_BYTES } from './inbound';
import { preparedQuery, preparedSql } from './raw-statement';

/**
 * Store a mail's files with the post or comment it became. Contents are keyed by SHA-256, so
 * the same file mailed again (a reply quoting it, a forward) is stored once.
 */
export async function storeAttachments(
  tx: Tx,
  target: { postId: string; commentId: string | null },
  files: { plan: AttachmentPlan; content: Buffer }[],
): Promise<void> {
  for (const [position, { plan, content }] of files.entries()) {
    const row = { postId: target.postId, commentId: target.commentId, filename: plan.filename, declaredType: plan.declaredType, inline: plan.inline, omitted: plan.omitted, note: plan.note, position };
    // A stored file's content and its row in one statement (the row's reference to the content is checked at its end).
    if (plan.store) await storeFileStatement(tx, { ...row, sha256: createHash('sha256').update(content).digest('hex'), content, size: content.length });
    else await listFileStatement(tx, { ...row, size: plan.size });
  }
}

/** The row of a file of {@link storeAttachments} (its `sha256` given, or null for a file only listed). */
const insertFileRow = (sha256: SQL) => {
  const p = sql.placeholder;
  return sql`
    insert into ${attachments} (post_id, comment_id, sha256, filename, declared_type, size, inline, omitted, note, position)
    values (${p('postId')}::uuid, ${p('commentId')}::uuid, ${sha256}, ${p('filename')}::text, ${p('declaredType')}::text, ${p('size')}::int,
      ${p('inline')}::boolean, ${p('omitted')}::text, ${p('note')}::text, ${p('position')}::int)`;
};

/** A stored file of a published mail (a quarter of the mails carry one): its content, once per SHA-256, and its row; built once, named. */
const storeFileStatement = preparedSql(
  'blend_store_file',
  () => sql`
    with blob as (
      insert into ${attachmentBlobs} (sha256, content, size)
      values (${sql.placeholder('sha256')}::text, ${sql.placeholder('content')}::bytea, ${sql.placeholder('size')}::int)
      on conflict do nothing
    )
    ${insertFileRow(sql`${sql.placeholder('sha256')}::text`)}`,
);

/** A file only listed (not stored: too large, a type not allowed, …): its row; built once, named. */
const listFileStatement = preparedSql('blend_list_file', () => insertFileRow(sql`null::text`));

export type AttachmentRow = typeof attachments.$inferSelect;

/** One stored file with its content, unless its post was retracted or is in a private group `viewerId` is not a member of. */
export async function getAttachmentContent(db: Tx, id: string, viewerId: string | null): Promise<{ row: AttachmentRow; content: Buffer } | undefined> {
  const rows = await db
    .select({ row: attachments, content: attachmentBlobs.content })
    .from(attachments)
    .innerJoin(attachmentBlobs, eq(attachmentBlobs.sha256, attachments.sha256))
    .innerJoin(posts, eq(posts.id, attachments.postId))
    .leftJoin(comments, eq(comments.id, attachments.commentId))
    .where(and(eq(attachments.id, id), isNull(posts.deletedAt), isNull(comments.deletedAt), groupVisibleTo(posts.groupId, viewerId)))
    .limit(1);
  return rows[0];
}

/** Delete the files of erased posts (not of others' comments on them) and comments, and contents no file refers to any more. */
export async function deleteAttachmentsOf(tx: Tx, target: { postIds: string[]; commentIds: string[] }): Promise<number> {
  const gone = [
    ...(target.postIds.length ? await tx.delete(attachments).where(and(inArray(attachments.postId, target.postIds), isNull(attachments.commentId))).returning({ id: attachments.id }) : []),
    ...(target.commentIds.length ? await tx.delete(attachments).where(inArray(attachments.commentId, target.commentIds)).returning({ id: attachments.id }) : []),
  ];
  await tx.execute(sql`delete from attachment_blobs b where not exists (select 1 from attachments a where a.sha256 = b.sha256)`);
  return gone.length;
}

/** A stored file as a mail carries it. */
export interface MailFile {
  filename: string;
  declaredType: string;
  /** A file of up to one slice ({@link RAW_SLICE_BYTES}): its bytes; a larger one: its slices, read as the mail is written. */
  content: Buffer | StoredFileSlices;
}

/**
 * A stored file read slice by slice as its reader asks: `read(at, count)` gives `count` bytes
 * from byte `at` (0-based; fewer at the end), each in one statement of its own, so no
 * connection is held between slices however slowly the reader goes; null once the file is gone
 * (erased meanwhile).
 */
export interface StoredFileSlices {
  size: number;
  read(at: number, count: number): Promise<Buffer | null>;
}

/**
 * The stored files of one comment (or of a post itself: `commentId` null), in their order, as
 * many as fit within `maxTotalBytes` together (BLEND_ATTACHMENTS_MAX_TOTAL_BYTES): the mail
 * that mirrors it carries them; the rest stay a link away on the thread. A file of more than one
 * slice is not read here: its content reads it slice by slice when the mail is written
 * (docs/ARCHITECTURE.md "Outbound mail"), so a mail in flight holds about a slice of it, not all of it.
 */
export async function filesForMail(db: Tx, target: { postId: string; commentId: string | null }, maxTotalBytes: number): Promise<MailFile[]> {
  // Sizes first, so a file that does not fit is never read.
  const rows = target.commentId ? await commentFilesStatement(db, { postId: target.postId, commentId: target.commentId }) : await postFilesStatement(db, { postId: target.postId });
  const out: MailFile[] = [];
  let total = 0;
  for (const { filename, declaredType, sha256, size, small } of rows) {
    if (total + size > maxTotalBytes) continue;
    total += size;
    out.push({ filename, declaredType, content: small ?? storedFileSlices(db, sha256, size) });
  }
  return out;
}

/** {@link filesForMail}'s sizes (and content up to a slice) of the files of a post itself or of one of its comments. */
const filesOf = (tx: Tx, ofComment: boolean) =>
  tx
    .select({
      filename: attachments.filename,
      declaredType: attachments.declaredType,
      sha256: attachmentBlobs.sha256,
      size: attachmentBlobs.size,
      small: sql<Buffer | null>`case when ${attachmentBlobs.size} <= ${RAW_SLICE_BYTES} then ${attachmentBlobs.content} end`,
    })
    .from(attachments)
    .innerJoin(attachmentBlobs, eq(attachmentBlobs.sha256, attachments.sha256))
    .where(and(eq(attachments.postId, sql.placeholder('postId')), ofComment ? eq(attachments.commentId, sql.placeholder('commentId')) : isNull(attachments.commentId)))
    .orderBy(attachments.position, attachments.id);

/** The files of a post's mail (once per mail with files sent): built once, named; a comment's in a statement of its own. */
const postFilesStatement = preparedQuery('blend_files_for_post_mail', (tx) => filesOf(tx, false));
const commentFilesStatement = preparedQuery('blend_files_for_comment_mail', (tx) => filesOf(tx, true));

/** The slices of the stored file `sha256` of `size` bytes ({@link StoredFileSlices}), as base64 text a statement (as `readInSlices` reads a source). */
export function storedFileSlices(db: Tx, sha256: string, size: number): StoredFileSlices {
  return {
    size,
    async read(at, count) {
      const want = Math.max(0, Math.min(count, size - at));
      if (want === 0) return Buffer.alloc(0);
      const part = (await db.execute<{ part: string | null }>(sql`select encode(substring(${attachmentBlobs.content} from ${at + 1} for ${want}), 'base64') as part from ${attachmentBlobs} where ${attachmentBlobs.sha256} = ${sha256}`)).rows[0]?.part;
      if (part === null || part === undefined) return null;
      const bytes = Buffer.from(part, 'base64');
      // A blob is its SHA-256's content, so a short read means it is not the file any more.
      return bytes.length === want ? bytes : null;
    },
  };
}
