import { and, eq, isNull, sql } from 'drizzle-orm';
import type { RemovalReason } from '@blend/core';
import type { Tx } from '../client';
import { emitCommentRemoved, emitPostRemoved } from './events';
import { comments, inboundMessages, posts } from '../schema';
import { preparedQuery, preparedSql } from './raw-statement';

export type PostRow = typeof posts.$inferSelect;
export type CommentRow = typeof comments.$inferSelect;

export async function insertPost(tx: Tx, values: typeof posts.$inferInsert): Promise<PostRow> {
  const [row] = (await insertStatement(posts, 'post', values)(tx, values)) as PostRow[];
  return row!;
}

export async function insertComment(tx: Tx, values: typeof comments.$inferInsert): Promise<CommentRow> {
  const [row] = (await insertStatement(comments, 'comment', values)(tx, values)) as CommentRow[];
  return row!;
}

type InsertStatement = (tx: Tx, values: Record<string, unknown>) => Promise<unknown[]>;
const insertStatements = new Map<string, InsertStatement>();

/**
 * The insert of one row of `table` returning it, built once per set of columns given (null
 * ones written as null, the others as placeholders) and run as a named statement: a post or a
 * comment is written for every published mail.
 */
function insertStatement(table: typeof posts | typeof comments, kind: string, values: Record<string, unknown>): InsertStatement {
  const keys = Object.keys(values).filter((k) => values[k] !== undefined).sort();
  const shape = `${kind}:${keys.map((k) => (values[k] === null ? `${k}=null` : k)).join(',')}`;
  let statement = insertStatements.get(shape);
  if (!statement) {
    const row = Object.fromEntries(keys.map((k) => [k, values[k] === null ? sql`null` : sql.placeholder(k)]));
    statement = preparedQuery(`blend_insert_${kind}_${insertStatements.size}`, (t) => t.insert(table as typeof posts).values(row as unknown as typeof posts.$inferInsert).returning()) as InsertStatement;
    insertStatements.set(shape, statement);
  }
  return statement;
}

/**
 * An earlier copy of a mail: published (with what it shows, unless edited since), acted on (a
 * mailed command or a like: `acted` says which), or only withheld or rejected.
 */
export type EarlierCopy =
  | { inboundId: string | null; published: true; bodyText: string | null }
  | { inboundId: string | null; published: false; acted?: { state: 'command' | 'liked'; reason: string | null } };

/**
 * The inbound row that already handled a mail with this dedupe key, if any: the one that
 * produced its post or comment (with that body, or null once someone edited it), else the one
 * that carried out its command or like, else a copy that was withheld or rejected. What a later
 * copy does about it is the caller's rule (ingest.ts: a published copy makes it a duplicate, an
 * acted-on one keeps it from acting again, an unpublished one never shadows it).
 */
export async function findByDedupeKey(tx: Tx, dedupeKey: string): Promise<EarlierCopy | undefined> {
  // One statement, the four places in order of precedence. A command or a like acts once
  // (docs/SECURITY.md B29): its copy, re-read after a new UIDVALIDITY say, must find it.
  const r = await earlierCopyStatement(tx, { dedupeKey });
  const f = r.rows[0];
  if (!f) return undefined;
  if (f.rank <= 2) return { inboundId: f.inbound_id, published: true, bodyText: f.edited ? null : f.body_text };
  if (f.rank === 3 && (f.state === 'command' || f.state === 'liked')) return { inboundId: f.inbound_id, published: false, acted: { state: f.state, reason: f.reason } };
  return { inboundId: f.inbound_id, published: false };
}

/** {@link findByDedupeKey}'s statement: run once per ingested mail, so a named one, built once. */
const earlierCopyStatement = preparedSql<{ rank: number; inbound_id: string | null; body_text: string | null; edited: boolean; state: string | null; reason: string | null }>('blend_earlier_copy', () => {
  const dedupeKey = sql.placeholder('dedupeKey');
  return sql`
    select * from (
      (select 1 as rank, ${posts.inboundId} as inbound_id, ${posts.bodyText} as body_text, ${posts.editedAt} is not null as edited, null::text as state, null::text as reason
        from ${posts} where ${posts.dedupeKey} = ${dedupeKey} limit 1)
      union all
      (select 2, ${comments.inboundId}, ${comments.bodyText}, ${comments.editedAt} is not null, null, null
        from ${comments} where ${comments.dedupeKey} = ${dedupeKey} limit 1)
      union all
      (select 3, ${inboundMessages.id}, null, false, ${inboundMessages.state}::text, ${inboundMessages.reason}
        from ${inboundMessages} where ${inboundMessages.dedupeKey} = ${dedupeKey} and ${inboundMessages.state} in ('command', 'liked')
        order by ${inboundMessages.processedAt} limit 1)
      union all
      (select 4, ${inboundMessages.id}, null, false, null, null
        from ${inboundMessages} where ${inboundMessages.dedupeKey} = ${dedupeKey} and ${inboundMessages.state} in ('withheld', 'rejected') limit 1)
    ) found order by rank limit 1`;
});

/**
 * Serialise the conversion of copies of one mail across workers for the rest of the
 * transaction (two UIDs with the same Message-ID processed at once).
 * @returns the database clock as this statement starts (`statement_timestamp()`), in the same
 *   statement: not the transaction's start, so the mails of one batch, decided one after another
 *   in one transaction, get times in the order they were decided (and after what committed before).
 */
export async function lockDedupeKey(tx: Tx, dedupeKey: string): Promise<Date> {
  const r = await lockDedupeKeyStatement(tx, { dedupeKey });
  const v = r.rows[0]?.now;
  return v instanceof Date ? v : new Date(String(v));
}

const lockDedupeKeyStatement = preparedSql<{ now: Date | string }>(
  'blend_lock_dedupe_key',
  () => sql`select statement_timestamp() as now, pg_advisory_xact_lock(hashtextextended(${sql.placeholder('dedupeKey')}, 0))`,
);

export async function getPostRow(db: Tx, id: string): Promise<PostRow | undefined> {
  return db.query.posts.findFirst({ where: eq(posts.id, id) });
}

const postTitleStatement = preparedQuery('blend_post_title', (tx) => tx.query.posts.findFirst({ where: eq(posts.id, sql.placeholder('id')), columns: { title: true } }));

/** A post's title, or undefined when there is no such post (the receipt of a comment reads it). */
export async function postTitle(db: Tx, id: string): Promise<string | undefined> {
  const row = await postTitleStatement(db, { id });
  return row?.title;
}

export async function getCommentRow(db: Tx, id: string): Promise<CommentRow | undefined> {
  return db.query.comments.findFirst({ where: eq(comments.id, id) });
}

/**
 * Replace the converted text of a published comment or post (a reprocess with today's rules);
 * a comment has no title. Marks the item edited.
 */
export async function rewritePublishedText(
  tx: Tx,
  target: { commentId: string | null; postId: string | null },
  text: { title: string; bodyText: string; bodyHtml: string; trimmedText: string | null },
): Promise<void> {
  const { title, bodyText, bodyHtml, trimmedText } = text;
  if (target.commentId) {
    await tx.update(comments).set({ bodyText, bodyHtml, trimmedText, editedAt: new Date() }).where(eq(comments.id, target.commentId));
  } else if (target.postId) {
    await tx.update(posts).set({ title, bodyText, bodyHtml, trimmedText, editedAt: new Date() }).where(eq(posts.id, target.postId));
  }
}

/**
 * Retract a post: its content is removed, the row stays as a tombstone; with `withComments`
 * (un-mirroring) its comments go too. Its `post.deleted` event (and `comment.deleted` for each
 * comment) is written in the same transaction. @param reason @defaultValue `unmirrored` with comments, else `retracted`
 */
export async function tombstonePost(tx: Tx, id: string, withComments: boolean, reason?: RemovalReason): Promise<void> {
  const now = new Date();
  const done = await tx
    .update(posts)
    .set({ deletedAt: now, title: '', bodyText: '', bodyHtml: '', trimmedText: null })
    .where(and(eq(posts.id, id), isNull(posts.deletedAt)))
    .returning({ id: posts.id });
  let removed: { id: string }[] = [];
  if (withComments) {
    removed = await tx
      .update(comments)
      .set({ deletedAt: now, bodyText: '', bodyHtml: '', trimmedText: null })
      .where(and(eq(comments.postId, id), isNull(comments.deletedAt)))
      .returning({ id: comments.id });
  }
  if (done.length > 0) await emitPostRemoved(tx, id, reason ?? (withComments ? 'unmirrored' : 'retracted'), removed.map((r) => r.id));
}

/** Retract a comment (a tombstone stays), with its `comment.deleted` event. @param reason @defaultValue `retracted` */
export async function tombstoneComment(tx: Tx, id: string, reason: RemovalReason = 'retracted'): Promise<void> {
  const done = await tx
    .update(comments)
    .set({ deletedAt: new Date(), bodyText: '', bodyHtml: '', trimmedText: null })
    .where(and(eq(comments.id, id), isNull(comments.deletedAt)))
    .returning({ id: comments.id });
  if (done.length > 0) await emitCommentRemoved(tx, id, reason);
}
