import { and, eq, isNull, sql, type Placeholder, type SQL } from 'drizzle-orm';
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

/** A mail's post or comment as written with its Message-IDs ({@link insertMailPost}, {@link insertMailComment}). */
export interface MappedRow {
  id: string;
  createdAt: Date;
  /** The Message-IDs mapped now; the others were mapped already, to this post or another. */
  recorded: Set<string>;
}

/**
 * The post of a mail, and its Message-IDs mapped to it (as `recordMessageRefs` would, after it),
 * in one statement: an id already mapped keeps its first owner, one another ingest has mapped
 * and not committed makes this wait for it, and the ids go in sorted (docs/ARCHITECTURE.md
 * "Threads and merges").
 */
export async function insertMailPost(tx: Tx, values: typeof posts.$inferInsert, messageIds: string[]): Promise<MappedRow> {
  return mappedRow(await mappedInsertStatement('post', values)(tx, { ...values, mappedMessageIds: sortedIds(messageIds) }));
}

/** The comment of a mail, and its Message-IDs mapped to it and its post, in one statement ({@link insertMailPost}). */
export async function insertMailComment(tx: Tx, values: typeof comments.$inferInsert, messageIds: string[]): Promise<MappedRow> {
  return mappedRow(await mappedInsertStatement('comment', values)(tx, { ...values, mappedMessageIds: sortedIds(messageIds) }));
}

function sortedIds(ids: string[]): string[] {
  return [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

type MappedResult = { rows: { id: string; created_at: unknown; recorded: string[] }[] };

function mappedRow(result: MappedResult): MappedRow {
  const r = result.rows[0]!;
  return { id: r.id, createdAt: new Date(r.created_at as string | Date), recorded: new Set(r.recorded) };
}

type MappedStatement = (tx: Tx, values: Record<string, unknown>) => Promise<MappedResult>;
const mappedInsertStatements = new Map<string, MappedStatement>();

/**
 * {@link insertStatement}'s insert with the mapping of the mail's Message-IDs as a
 * data-modifying CTE of the same statement, named and built once per set of columns given.
 * The row's post (a comment's own, a post itself) and inbound row come from what was inserted.
 */
function mappedInsertStatement(kind: 'post' | 'comment', values: Record<string, unknown>): MappedStatement {
  const keys = Object.keys(values).filter((k) => values[k] !== undefined).sort();
  const shape = `${kind}:${keys.map((k) => (values[k] === null ? `${k}=null` : k)).join(',')}`;
  let statement = mappedInsertStatements.get(shape);
  if (!statement) {
    const name = `blend_insert_mapped_${kind}_${mappedInsertStatements.size}`;
    const row = Object.fromEntries(keys.map((k) => [k, values[k] === null ? sql`null` : sql.placeholder(k)]));
    let run: ReturnType<typeof preparedSql<{ id: string; created_at: unknown; recorded: string[] }>> | undefined;
    statement = (tx, vals) => {
      run ??= preparedSql(name, () => {
        // The insert drizzle builds (its placeholders kept), returning what the mapping needs. Its
        // created_at comes back as Postgres writes it (drizzle leaves timestamptz unparsed), read as drizzle reads it.
        const inserted =
          kind === 'post'
            ? tx.insert(posts).values(row as unknown as typeof posts.$inferInsert).returning({ id: posts.id, createdAt: posts.createdAt, inboundId: posts.inboundId, authorId: posts.authorId }).getSQL()
            : tx.insert(comments).values(row as unknown as typeof comments.$inferInsert).returning({ id: comments.id, createdAt: comments.createdAt, inboundId: comments.inboundId, postId: comments.postId, authorId: comments.authorId }).getSQL();
        const [postId, commentId] = kind === 'post' ? [sql.raw('w.id'), sql.raw('null::uuid')] : [sql.raw('w.post_id'), sql.raw('w.id')];
        // The ids are mapped once the keys the row's foreign keys check are held (its author's,
        // a comment's post's), in that order, as when the mapping was a statement after the
        // insert: an ingest never holds ids others wait for while it waits for those keys.
        const keyOfPost = kind === 'post' ? sql.raw('') : sql.raw(' and exists (select 1 from posts where id = w.post_id for key share)');
        return sql`
          with w as (${inserted}),
          r as (
            insert into message_refs (message_id, post_id, comment_id, inbound_id)
            select u.m, ${postId}, ${commentId}, w.inbound_id from w, unnest(${sql.placeholder('mappedMessageIds')}::text[]) with ordinality as u(m, n)
            where exists (select 1 from people where id = w.author_id for key share)${keyOfPost}
            order by u.n
            on conflict (message_id) do nothing
            returning message_id)
          select w.id, w.created_at, array(select message_id from r) as recorded from w`;
      });
      return run(tx, vals);
    };
    mappedInsertStatements.set(shape, statement);
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
  return earlierCopyOf(r.rows[0]);
}

/** What {@link earlierCopySql} finds, as a row. */
export type EarlierCopyRow = { rank: number; inbound_id: string | null; body_text: string | null; edited: boolean; state: string | null; reason: string | null };

/** {@link findByDedupeKey}'s answer from its statement's row (none: no earlier copy). */
export function earlierCopyOf(f: EarlierCopyRow | null | undefined): EarlierCopy | undefined {
  if (!f) return undefined;
  if (f.rank <= 2) return { inboundId: f.inbound_id, published: true, bodyText: f.edited ? null : f.body_text };
  if (f.rank === 3 && (f.state === 'command' || f.state === 'liked')) return { inboundId: f.inbound_id, published: false, acted: { state: f.state, reason: f.reason } };
  return { inboundId: f.inbound_id, published: false };
}

/** {@link findByDedupeKey}'s statement: run once per ingested mail, so a named one, built once. */
const earlierCopyStatement = preparedSql<EarlierCopyRow>('blend_earlier_copy', () => earlierCopySql(sql.placeholder('dedupeKey')));

/** {@link findByDedupeKey}'s query: at most one {@link EarlierCopyRow} (also a part of `earlierCopyAndReplyFacts`'s statement). */
export function earlierCopySql(dedupeKey: Placeholder): SQL {
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
}

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
