import { sql } from 'drizzle-orm';
import { groups, people, posts } from '../schema';
import type { CommentView, PostView } from './feed';

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
  reactions: { like: number; liked_by_me: boolean };
  /** The post's own files, and those of the comments in `comments` (never a retracted comment's). */
  attachments: AttachmentView[];
  /** Forwarded messages shared with the post, kept apart from its body (author, date, subject, text). */
  forwarded: { from: string; date: string | null; subject: string; text: string }[];
}

/** The columns every post view is built from. */
export const esnPostColumns = {
  id: posts.id,
  title: posts.title,
  bodyText: posts.bodyText,
  bodyHtml: posts.bodyHtml,
  source: posts.source,
  createdAt: posts.createdAt,
  deletedAt: posts.deletedAt,
  editedAt: posts.editedAt,
  forwarded: posts.forwarded,
  groupId: groups.id,
  groupSlug: groups.slug,
  groupName: groups.name,
  authorId: people.id,
  authorEmail: people.email,
  authorName: people.name,
};

/** A comment as {@link postDecoration} selects it (JSON built by Postgres). */
interface CommentJson {
  id: string;
  author_id: string;
  author_email: string;
  author_name: string;
  body_text: string;
  body_html: string;
  source: 'email' | 'esn';
  created_at: string;
  edited_at: string | null;
  deleted: boolean;
}

/** A file as {@link postDecoration} selects it. */
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
 * Which comments a view carries: `'all'` (the thread: every comment, retracted ones as
 * tombstones) or `'latest'` (the feed: the latest `comments` ones that are not retracted).
 */
export type CommentSelection = 'all' | 'latest';

/** A timestamp as `Date.prototype.toISOString` writes it (milliseconds, UTC), for JSON built by Postgres. */
const iso = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const commentJson = sql.raw(`json_build_object('id', c.id, 'author_id', c.author_id, 'author_email', a.email, 'author_name', a.name,
  'body_text', c.body_text, 'body_html', c.body_html, 'source', c.source, 'created_at', ${iso('c.created_at')},
  'edited_at', ${iso('c.edited_at')}, 'deleted', c.deleted_at is not null)`);

/**
 * What a post view shows besides the post's own columns, as expressions on `posts` for the
 * select list of the statement that reads the posts: likes (and whether the `viewer`
 * placeholder liked it), withheld replies, tags, the comment count, the comments and the
 * files, the last two as JSON. One statement then reads a whole page, where reading the
 * page and then its comments, counts and files took four, and turning hundreds of rows into
 * objects in the driver and drizzle cost the API more than building the JSON costs Postgres.
 * Under a LIMIT, Postgres computes these for the rows returned only (it postpones such
 * subqueries past any sort). `latest` takes the `comments` placeholder: each post's latest
 * comments that are not retracted, read backwards from comments_post_idx.
 */
export function postDecoration(which: CommentSelection) {
  const viewer = sql.placeholder('viewer');
  const selected =
    which === 'all'
      ? sql`select c.* from comments c where c.post_id = posts.id`
      : sql`select c.* from comments c where c.post_id = posts.id and c.deleted_at is null
          order by c.created_at desc, c.id desc limit ${sql.placeholder('comments')}`;
  return {
    likes: sql<number>`(select count(*) from reactions r where r.post_id = posts.id and r.kind = 'like')`.mapWith(Number),
    // A count, not EXISTS: for an EXISTS in the select list of a query that could return every
    // post, the planner hashed the viewer's likes, a scan of all reactions on every page.
    likedByMe: sql<boolean>`(select count(*) from reactions r where r.post_id = posts.id and r.kind = 'like' and r.person_id = ${viewer}::uuid) > 0`,
    withheld: sql<number>`(select count(*) from inbound_messages i where i.post_id = posts.id and i.state = 'withheld')`.mapWith(Number),
    tags: sql<string[]>`array(select t.tag from post_tags t where t.post_id = posts.id order by t.tag)`,
    commentCount: sql<number>`(select count(*) from comments c where c.post_id = posts.id and c.deleted_at is null)`.mapWith(Number),
    comments: sql<CommentJson[]>`(select coalesce(json_agg(${commentJson} order by c.created_at, c.id), '[]')
      from (${selected}) c join people a on a.id = c.author_id)`,
    files: sql<FileJson[]>`(select coalesce(json_agg(json_build_object('id', f.id, 'comment_id', f.comment_id, 'stored', f.sha256 is not null,
        'name', f.filename, 'content_type', f.declared_type, 'size', f.size, 'inline', f.inline, 'omitted', f.omitted, 'note', f.note)
        order by f.created_at, f.position, f.id), '[]') from attachments f where f.post_id = posts.id)`,
  };
}

export interface EsnPostRow {
  id: string;
  title: string;
  bodyText: string;
  bodyHtml: string;
  source: 'email' | 'esn';
  createdAt: Date;
  deletedAt: Date | null;
  editedAt: Date | null;
  forwarded: { from: string; date: string | null; subject: string; text: string }[] | null;
  groupId: string;
  groupSlug: string;
  groupName: string;
  authorId: string;
  authorEmail: string;
  authorName: string;
  likes: number;
  likedByMe: boolean;
  withheld: number;
  tags: string[];
  commentCount: number;
  comments: CommentJson[];
  files: FileJson[];
}

function commentView(c: CommentJson): EsnCommentView {
  return {
    id: c.id,
    author: { id: c.author_id, email: c.author_email, name: c.author_name },
    body_text: c.deleted ? '' : c.body_text,
    body_html: c.deleted ? '' : c.body_html,
    source: c.source,
    created_at: c.created_at,
    edited_at: c.edited_at,
    ...(c.deleted ? { deleted: true as const } : {}),
  };
}

/** The view of a row read with {@link esnPostColumns} and {@link postDecoration}. */
export function toEsnPostView(r: EsnPostRow): EsnPostView {
  const list = r.comments.map(commentView);
  // A comment's files are listed with the comment: never a retracted one's, and in the feed
  // only those of the comments shown (the thread has the rest).
  const shown = new Set(list.filter((c) => !c.deleted).map((c) => c.id));
  const files = r.deletedAt
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
  return {
    id: r.id,
    group: { id: r.groupId, slug: r.groupSlug, name: r.groupName },
    title: r.deletedAt ? '' : r.title,
    body_text: r.deletedAt ? '' : r.bodyText,
    body_html: r.deletedAt ? '' : r.bodyHtml,
    source: r.source,
    author: { id: r.authorId, email: r.authorEmail, name: r.authorName },
    created_at: r.createdAt.toISOString(),
    edited_at: r.editedAt?.toISOString() ?? null,
    comments: list,
    comment_count: r.commentCount,
    withheld_replies: r.withheld,
    tags: r.deletedAt ? [] : r.tags,
    reactions: { like: r.likes, liked_by_me: r.likedByMe },
    attachments: files,
    forwarded: r.deletedAt ? [] : (r.forwarded ?? []),
    ...(r.deletedAt ? { deleted: true as const } : {}),
  };
}
