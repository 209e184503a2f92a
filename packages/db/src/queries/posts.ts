import { and, eq, isNull, or, sql } from 'drizzle-orm';
import type { Tx } from '../client';
import { comments, inboundMessages, posts } from '../schema';

export type PostRow = typeof posts.$inferSelect;
export type CommentRow = typeof comments.$inferSelect;

export async function insertPost(tx: Tx, values: typeof posts.$inferInsert): Promise<PostRow> {
  const [row] = await tx.insert(posts).values(values).returning();
  return row!;
}

export async function insertComment(tx: Tx, values: typeof comments.$inferInsert): Promise<CommentRow> {
  const [row] = await tx.insert(comments).values(values).returning();
  return row!;
}

/**
 * The inbound row that already produced the post or comment with this dedupe key, if any:
 * a second delivery of the same mail is a duplicate of it.
 */
export async function findByDedupeKey(tx: Tx, dedupeKey: string): Promise<{ inboundId: string | null } | undefined> {
  const p = await tx.select({ inboundId: posts.inboundId }).from(posts).where(eq(posts.dedupeKey, dedupeKey)).limit(1);
  if (p[0]) return p[0];
  const c = await tx.select({ inboundId: comments.inboundId }).from(comments).where(eq(comments.dedupeKey, dedupeKey)).limit(1);
  if (c[0]) return c[0];
  // Withheld or rejected copies also count: the same mail must end in the same state once.
  const i = await tx
    .select({ inboundId: inboundMessages.id })
    .from(inboundMessages)
    .where(
      sql`${inboundMessages.dedupeKey} = ${dedupeKey} and ${or(
        eq(inboundMessages.state, 'withheld'),
        eq(inboundMessages.state, 'rejected'),
      )}`,
    )
    .limit(1);
  return i[0];
}

/**
 * Serialise the conversion of copies of one mail across workers for the rest of the
 * transaction (two UIDs with the same Message-ID processed at once).
 */
export async function lockDedupeKey(tx: Tx, dedupeKey: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${dedupeKey}, 0))`);
}

export async function getPostRow(db: Tx, id: string): Promise<PostRow | undefined> {
  return db.query.posts.findFirst({ where: eq(posts.id, id) });
}

export async function getCommentRow(db: Tx, id: string): Promise<CommentRow | undefined> {
  return db.query.comments.findFirst({ where: eq(comments.id, id) });
}

/** Retract a post: its content is removed, the row stays as a tombstone. */
export async function tombstonePost(tx: Tx, id: string, withComments: boolean): Promise<void> {
  const now = new Date();
  await tx.update(posts).set({ deletedAt: now, title: '', bodyText: '', bodyHtml: '', trimmedText: null }).where(and(eq(posts.id, id), isNull(posts.deletedAt)));
  if (withComments) {
    await tx.update(comments).set({ deletedAt: now, bodyText: '', bodyHtml: '', trimmedText: null }).where(and(eq(comments.postId, id), isNull(comments.deletedAt)));
  }
}

export async function tombstoneComment(tx: Tx, id: string): Promise<void> {
  await tx.update(comments).set({ deletedAt: new Date(), bodyText: '', bodyHtml: '', trimmedText: null }).where(and(eq(comments.id, id), isNull(comments.deletedAt)));
}
