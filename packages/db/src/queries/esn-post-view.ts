import { asc, desc, eq, isNull, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import { REACTION_KINDS, type ReactionKind } from '@blend/core';
import type { Database } from '../client';
import { comments, groups, people, posts } from '../schema';
import type { CommentView, PostView } from '../feed-views';
import { rawStatement } from './raw-statement';

/** A file that came with the post's mail or a comment's, in the order they came. */
export interface AttachmentView {
  id: string;
  name: string;
  /** As the mail declared it; the download is served with a safe type. */
  content_type: string;
  size: number;
  /** `/api/v1/attachments/ID`, or null when the file was not stored (see `omitted`). */
  url: string | null;
  /** Shown within the message (a `cid:` image) rather than attached. */
  inline: boolean;
  /** The comment it came with, or null for the post itself. */
  comment_id: string | null;
  omitted: string | null;
  note: string | null;
}

export interface EsnCommentView extends CommentView {
  /** When the author last edited the comment through the ESN, else null. */
  edited_at: string | null;
  /** On the thread only: what extraction cut from the mail, for its author; else null (see `withTrimmedText`). */
  trimmed_text?: string | null;
  /** Only to its author, on the thread: an admin hid it (when and why); everyone else sees a tombstone. */
  hidden?: { hidden_at: string; reason: string };
}

/** The post as the ESN sees it: {@link PostView} plus reactions, tags and edits. */
export interface EsnPostView extends Omit<PostView, 'comments'> {
  /**
   * On the thread, every comment in time order (retracted ones as tombstones); in the feed,
   * the latest few comments that are not retracted, in time order.
   */
  comments: EsnCommentView[];
  /** Comments that are not retracted, whether or not `comments` holds them all. */
  comment_count: number;
  edited_at: string | null;
  tags: string[];
  /**
   * `like` and `liked_by_me` count likes only (what mail and older clients know); `counts` has
   * every reaction of the allow-list (REACTION_KINDS). The reader's own are `reactionsAmong`'s.
   */
  reactions: { like: number; liked_by_me: boolean; counts: Record<ReactionKind, number> };
  /** The post's own files, and those of the comments in `comments` (never a retracted comment's). */
  attachments: AttachmentView[];
  /** Forwarded messages shared with the post, kept apart from its body (author, date, subject, text). */
  forwarded: { from: string; date: string | null; subject: string; text: string }[];
  /** On the thread only: what extraction cut from the mail, for its author; else null (see `withTrimmedText`). */
  trimmed_text?: string | null;
  /** Only to its author, on the thread: an admin hid it (when and why); to everyone else the post does not exist. */
  hidden?: { hidden_at: string; reason: string };
}

/**
 * A timestamp as the views show it, `Date#toISOString()`'s form (UTC, milliseconds, `Z`),
 * written by Postgres: the API then neither parses it into a Date nor formats it again, which
 * was a tenth of its work on a feed page's rows. Null stays null.
 */
export function isoTime(column: AnyColumn | SQL): SQL<string> {
  return sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/** The columns every post view is built from. */
export const esnPostColumns = {
  id: posts.id,
  title: posts.title,
  bodyText: posts.bodyText,
  bodyHtml: posts.bodyHtml,
  source: posts.source,
  createdAt: isoTime(posts.createdAt),
  deleted: sql<boolean>`${posts.deletedAt} is not null`,
  editedAt: isoTime(posts.editedAt),
  forwarded: posts.forwarded,
  groupId: groups.id,
  groupSlug: groups.slug,
  groupName: groups.name,
  authorId: people.id,
  authorEmail: people.email,
  authorName: people.name,
};

/** Every reaction of the allow-list with its count, zero for none (a kind no longer allowed is left out). */
function reactionCounts(found: Partial<Record<ReactionKind, number>>): Record<ReactionKind, number> {
  return Object.fromEntries(REACTION_KINDS.map((k) => [k, found[k] ?? 0])) as Record<ReactionKind, number>;
}

/**
 * A post's reactions as {@link postDecoration} selects them: each reaction's kind, the reader's
 * own like as '' (never a kind). Counted here: Postgres grouping them into JSON per post (a hash
 * table and two JSON objects for each) cost it more than the scan.
 */
function reactionSummary(kinds: string[]): { counts: Partial<Record<ReactionKind, number>>; liked: boolean } {
  const counts: Partial<Record<string, number>> = {};
  let liked = false;
  for (const k of kinds) {
    const kind = k === '' ? 'like' : k;
    if (k === '') liked = true;
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return { counts: counts as Partial<Record<ReactionKind, number>>, liked };
}

/** A file as {@link postDecoration} selects it (JSON built by Postgres). */
interface FileJson {
  id: string;
  comment_id: string | null;
  stored: boolean;
  name: string;
  content_type: string;
  size: number;
  inline: boolean;
  omitted: string | null;
  note: string | null;
}

/**
 * What a post view shows besides the post's own columns and its comments, as expressions on
 * `posts` for the select list of the statement that reads the posts: likes (and whether the
 * `viewer` placeholder liked it), withheld replies, tags, the comment count, and the files as
 * JSON (few, and most posts have none). One statement reads a page with all this, where the
 * page and its counts and files took three; under a LIMIT Postgres computes them for the rows
 * returned only (it postpones such subqueries past any sort).
 */
export function postDecoration() {
  const viewer = sql.placeholder('viewer');
  return {
    // Read once per post: every reaction's kind, the viewer's like marked '' (see reactionSummary).
    reactions: sql<string[]>`array(select case when r.kind = 'like' and r.person_id = ${viewer}::uuid then '' else r.kind end from reactions r where r.post_id = posts.id)`,
    withheld: sql<number>`(select count(*)::int from inbound_messages i where i.post_id = posts.id and i.state = 'withheld')`,
    tags: sql<string[]>`array(select t.tag from post_tags t where t.post_id = posts.id order by t.tag)`,
    commentCount: sql<number>`(select count(*)::int from comments c where c.post_id = posts.id and c.deleted_at is null)`,
    // Null without files (most posts): the first probe spares them an ordered aggregate, whose
    // sort Postgres set up for every post.
    files: sql<FileJson[] | null>`case when (select true from attachments a where a.post_id = posts.id limit 1) then (select json_agg(json_build_object('id', f.id, 'comment_id', f.comment_id, 'stored', f.sha256 is not null,
        'name', f.filename, 'content_type', f.declared_type, 'size', f.size, 'inline', f.inline, 'omitted', f.omitted, 'note', f.note)
        order by f.created_at, f.position, f.id) from attachments f where f.post_id = posts.id) end`,
  };
}

export interface EsnPostRow {
  id: string;
  title: string;
  bodyText: string;
  bodyHtml: string;
  source: 'email' | 'esn';
  /** ISO 8601, see {@link isoTime}. */
  createdAt: string;
  deleted: boolean;
  editedAt: string | null;
  forwarded: { from: string; date: string | null; subject: string; text: string }[] | null;
  groupId: string;
  groupSlug: string;
  groupName: string;
  authorId: string;
  authorEmail: string;
  authorName: string;
  reactions: string[];
  withheld: number;
  tags: string[];
  commentCount: number;
  files: FileJson[] | null;
}

/**
 * Which comments a view carries: `'all'` (the thread: every comment, retracted ones as
 * tombstones) or the latest n that are not retracted (the feed; 0 for none).
 */
export type CommentSelection = 'all' | number;

/**
 * The comments of a page's posts, prepared once per database handle. They are a statement of
 * their own, not JSON in the page's statement: Postgres escaped every comment's text into
 * JSON (about 1 ms a page with 3 comments per post) and the API parsed it again, where rows
 * cost neither. `latest` walks comments_visible_idx backwards for each post and stops after n.
 */
function commentStatements(db: Database) {
  const ids = sql.placeholder('ids');
  const columns = {
    id: comments.id,
    postId: comments.postId,
    bodyText: comments.bodyText,
    bodyHtml: comments.bodyHtml,
    source: comments.source,
    // Named, as the latest comments select them from a subquery.
    createdAt: isoTime(comments.createdAt).as('created_iso'),
    deleted: sql<boolean>`${comments.deletedAt} is not null`.as('deleted'),
    editedAt: isoTime(comments.editedAt).as('edited_iso'),
    authorId: comments.authorId,
  };
  const person = { authorEmail: people.email, authorName: people.name };
  const fields = Object.keys({ ...columns, ...person }) as (keyof CommentRow)[];
  const all = db
    .select({ ...columns, ...person })
    .from(comments)
    .innerJoin(people, eq(people.id, comments.authorId))
    .where(sql`${comments.postId} = any(${ids}::uuid[])`)
    .orderBy(asc(comments.createdAt), asc(comments.id));
  // The comment's own time too, to order by (the ISO text has only milliseconds).
  const newest = db
    .select({ ...columns, at: comments.createdAt })
    .from(comments)
    .where(sql`${comments.postId} = page.id and ${isNull(comments.deletedAt)}`)
    .orderBy(desc(comments.createdAt), desc(comments.id))
    .limit(sql.placeholder('n'))
    .as('c');
  const { at, ...shown } = newest._.selectedFields;
  const latest = db
    .select({ ...shown, ...person })
    .from(sql`unnest(${ids}::uuid[]) as page(id)`)
    .crossJoinLateral(newest)
    .innerJoin(people, eq(people.id, newest.authorId))
    .orderBy(asc(at), asc(newest.id));
  return {
    all: rawStatement<CommentRow>(db, 'esn_post_comments', all, fields),
    latest: rawStatement<CommentRow>(db, 'esn_post_latest_comments', latest, fields),
  };
}

interface CommentRow {
  id: string;
  postId: string;
  bodyText: string;
  bodyHtml: string;
  source: 'email' | 'esn';
  /** ISO 8601, see {@link isoTime}. */
  createdAt: string;
  deleted: boolean;
  editedAt: string | null;
  authorId: string;
  authorEmail: string;
  authorName: string;
}

const prepared = new WeakMap<Database, ReturnType<typeof commentStatements>>();

/** The comments `which` selects of the posts `postIds`, by post, in time order. */
async function commentsOf(db: Database, postIds: string[], which: CommentSelection): Promise<Map<string, EsnCommentView[]>> {
  const byPost = new Map<string, EsnCommentView[]>();
  if (postIds.length === 0 || which === 0) return byPost;
  let q = prepared.get(db);
  if (!q) prepared.set(db, (q = commentStatements(db)));
  const rows = which === 'all' ? await q.all.execute({ ids: postIds }) : await q.latest.execute({ ids: postIds, n: which });
  for (const c of rows) {
    const view: EsnCommentView = {
      id: c.id,
      author: { id: c.authorId, email: c.authorEmail, name: c.authorName },
      body_text: c.deleted ? '' : c.bodyText,
      body_html: c.deleted ? '' : c.bodyHtml,
      source: c.source,
      created_at: c.createdAt,
      edited_at: c.editedAt,
      ...(c.deleted ? { deleted: true as const } : {}),
    };
    const list = byPost.get(c.postId);
    if (list) list.push(view);
    else byPost.set(c.postId, [view]);
  }
  return byPost;
}

/**
 * The views of rows read with {@link esnPostColumns} and {@link postDecoration}, with the
 * comments `which` selects (one more statement, none for `0`).
 */
export async function toEsnPostViews(db: Database, rows: EsnPostRow[], which: CommentSelection): Promise<EsnPostView[]> {
  const byPost = await commentsOf(db, rows.map((r) => r.id), which);
  return rows.map((r) => toView(r, byPost.get(r.id) ?? [], which));
}

function toView(r: EsnPostRow, list: EsnCommentView[], which: CommentSelection): EsnPostView {
  // A comment's files are listed with the comment: never a retracted one's, and in the feed
  // only those of the comments shown (the thread has the rest).
  const shown = new Set(list.filter((c) => !c.deleted).map((c) => c.id));
  const files = r.deleted || !r.files
    ? []
    : r.files
        .filter((f) => !f.comment_id || shown.has(f.comment_id))
        .map(
          (f): AttachmentView => ({
            id: f.id,
            name: f.name,
            content_type: f.content_type,
            size: f.size,
            url: f.stored ? `/api/v1/attachments/${f.id}` : null,
            inline: f.inline,
            comment_id: f.comment_id,
            omitted: f.omitted,
            note: f.note,
          }),
        );
  const reactions = reactionSummary(r.reactions);
  return {
    id: r.id,
    group: { id: r.groupId, slug: r.groupSlug, name: r.groupName },
    title: r.deleted ? '' : r.title,
    body_text: r.deleted ? '' : r.bodyText,
    body_html: r.deleted ? '' : r.bodyHtml,
    source: r.source,
    author: { id: r.authorId, email: r.authorEmail, name: r.authorName },
    created_at: r.createdAt,
    edited_at: r.editedAt,
    comments: list,
    // The thread's own list when it has them all, so that the two agree.
    comment_count: which === 'all' ? shown.size : r.commentCount,
    withheld_replies: r.withheld,
    tags: r.deleted ? [] : r.tags,
    reactions: { like: reactions.counts.like ?? 0, liked_by_me: reactions.liked, counts: reactionCounts(reactions.counts) },
    attachments: files,
    forwarded: r.deleted ? [] : (r.forwarded ?? []),
    ...(r.deleted ? { deleted: true as const } : {}),
  };
}
