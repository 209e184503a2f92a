import { asc, eq, sql } from 'drizzle-orm';
import type { Tx } from '../client';
import { comments, groups, people, posts } from '../schema';
import type { CommentView, PostView } from './feed';
import { attachmentsOfPosts } from './attachments';

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
  comments: EsnCommentView[];
  edited_at: string | null;
  tags: string[];
  reactions: { like: number; liked_by_me: boolean };
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
}

/** Group the values of `rows` by a key. */
function groupBy<T, V>(rows: T[], key: (r: T) => string, value: (r: T) => V): Map<string, V[]> {
  const out = new Map<string, V[]>();
  for (const r of rows) {
    const list = out.get(key(r)) ?? [];
    list.push(value(r));
    out.set(key(r), list);
  }
  return out;
}

/**
 * The two per-page queries of {@link decoratePosts}, prepared once per database handle as
 * named statements: the page's post ids are one array parameter, so the SQL text never
 * changes, drizzle builds it once and Postgres parses and plans it once per connection.
 */
function preparedQueries(db: Tx) {
  const ids = sql.placeholder('ids');
  const viewer = sql.placeholder('viewer');
  const comments_ = db
    .select({
      id: comments.id,
      postId: comments.postId,
      bodyText: comments.bodyText,
      bodyHtml: comments.bodyHtml,
      source: comments.source,
      createdAt: comments.createdAt,
      deletedAt: comments.deletedAt,
      editedAt: comments.editedAt,
      authorId: people.id,
      authorEmail: people.email,
      authorName: people.name,
    })
    .from(comments)
    .innerJoin(people, eq(people.id, comments.authorId))
    .where(sql`${comments.postId} = any(${ids}::uuid[])`)
    .orderBy(asc(comments.createdAt), asc(comments.id))
    .prepare('esn_post_comments');
  // Likes, the viewer's like, withheld replies and tags of each post in one statement (they
  // were four): each is a lookup on the post's id in its table's index. The subqueries name
  // their tables themselves: drizzle writes columns in a one-table select list unqualified.
  const counts = db
    .select({
      postId: posts.id,
      likes: sql<number>`(select count(*) from reactions r where r.post_id = posts.id and r.kind = 'like')`.mapWith(Number),
      likedByMe: sql<boolean>`exists (select 1 from reactions r where r.post_id = posts.id and r.kind = 'like' and r.person_id = ${viewer}::uuid)`,
      withheld: sql<number>`(select count(*) from inbound_messages i where i.post_id = posts.id and i.state = 'withheld')`.mapWith(Number),
      tags: sql<string[]>`array(select t.tag from post_tags t where t.post_id = posts.id order by t.tag)`,
    })
    .from(posts)
    .where(sql`${posts.id} = any(${ids}::uuid[])`)
    .prepare('esn_post_counts');
  return { comments: comments_, counts };
}

const prepared = new WeakMap<Tx, ReturnType<typeof preparedQueries>>();
function queriesFor(db: Tx): ReturnType<typeof preparedQueries> {
  let q = prepared.get(db);
  if (!q) {
    q = preparedQueries(db);
    prepared.set(db, q);
  }
  return q;
}

async function commentsOf(db: Tx, postIds: string[]): Promise<Map<string, EsnCommentView[]>> {
  const cs = await queriesFor(db).comments.execute({ ids: postIds });
  return groupBy(
    cs,
    (c) => c.postId,
    (c): EsnCommentView => ({
      id: c.id,
      author: { id: c.authorId, email: c.authorEmail, name: c.authorName },
      body_text: c.deletedAt ? '' : c.bodyText,
      body_html: c.deletedAt ? '' : c.bodyHtml,
      source: c.source,
      created_at: c.createdAt.toISOString(),
      edited_at: c.editedAt?.toISOString() ?? null,
      ...(c.deletedAt ? { deleted: true as const } : {}),
    }),
  );
}

interface PostCounts {
  likes: number;
  likedByMe: boolean;
  withheld: number;
  tags: string[];
}

async function countsOf(db: Tx, postIds: string[], viewerId: string | null): Promise<Map<string, PostCounts>> {
  const rows = await queriesFor(db).counts.execute({ ids: postIds, viewer: viewerId });
  return new Map(rows.map((r) => [r.postId, r]));
}

/**
 * Turn post rows into views with comments, likes (and whether `viewerId` liked), tags and
 * the count of withheld replies, in three queries whatever the page size.
 */
export async function decoratePosts(db: Tx, rows: EsnPostRow[], viewerId: string | null): Promise<EsnPostView[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const [byPost, counts, files] = await Promise.all([commentsOf(db, ids), countsOf(db, ids, viewerId), attachmentsOfPosts(db, ids)]);
  // Files of retracted comments are not listed.
  const gone = new Set([...byPost.values()].flat().filter((c) => c.deleted).map((c) => c.id));
  const filesBy = groupBy(
    files.filter((f) => !f.commentId || !gone.has(f.commentId)),
    (f) => f.postId,
    (f): AttachmentView => ({
      id: f.id,
      name: f.filename,
      content_type: f.declaredType,
      size: f.size,
      url: f.sha256 ? `/api/v1/attachments/${f.id}` : null,
      inline: f.inline,
      comment_id: f.commentId,
      omitted: f.omitted,
      note: f.note,
    }),
  );
  return rows.map((r) => {
    const c = counts.get(r.id);
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
      comments: byPost.get(r.id) ?? [],
      withheld_replies: c?.withheld ?? 0,
      tags: r.deletedAt ? [] : (c?.tags ?? []),
      reactions: { like: c?.likes ?? 0, liked_by_me: c?.likedByMe ?? false },
      attachments: r.deletedAt ? [] : (filesBy.get(r.id) ?? []),
      forwarded: r.deletedAt ? [] : (r.forwarded ?? []),
      ...(r.deletedAt ? { deleted: true as const } : {}),
    };
  });
}
