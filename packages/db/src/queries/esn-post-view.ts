import { and, asc, count, eq, inArray } from 'drizzle-orm';
import type { Tx } from '../client';
import { comments, groups, inboundMessages, people, posts, postTags, reactions } from '../schema';
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

async function commentsOf(db: Tx, postIds: string[]): Promise<Map<string, EsnCommentView[]>> {
  const cs = await db
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
    .where(inArray(comments.postId, postIds))
    .orderBy(asc(comments.createdAt), asc(comments.id));
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

async function likesOf(db: Tx, postIds: string[], viewerId: string | null): Promise<{ counts: Map<string, number>; mine: Set<string> }> {
  const counts = await db
    .select({ postId: reactions.postId, n: count() })
    .from(reactions)
    .where(and(inArray(reactions.postId, postIds), eq(reactions.kind, 'like')))
    .groupBy(reactions.postId);
  const mine = viewerId
    ? await db
        .select({ postId: reactions.postId })
        .from(reactions)
        .where(and(inArray(reactions.postId, postIds), eq(reactions.kind, 'like'), eq(reactions.personId, viewerId)))
    : [];
  return { counts: new Map(counts.map((c) => [c.postId, c.n])), mine: new Set(mine.map((m) => m.postId)) };
}

async function withheldOf(db: Tx, postIds: string[]): Promise<Map<string | null, number>> {
  const rows = await db
    .select({ postId: inboundMessages.postId, n: count() })
    .from(inboundMessages)
    .where(and(inArray(inboundMessages.postId, postIds), eq(inboundMessages.state, 'withheld')))
    .groupBy(inboundMessages.postId);
  return new Map(rows.map((w) => [w.postId, w.n]));
}

/**
 * Turn post rows into views with comments, likes (and whether `viewerId` liked), tags and
 * the count of withheld replies, in four queries whatever the page size.
 */
export async function decoratePosts(db: Tx, rows: EsnPostRow[], viewerId: string | null): Promise<EsnPostView[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const [byPost, likes, withheld, tags, files] = await Promise.all([
    commentsOf(db, ids),
    likesOf(db, ids, viewerId),
    withheldOf(db, ids),
    db.select().from(postTags).where(inArray(postTags.postId, ids)).orderBy(asc(postTags.tag)),
    attachmentsOfPosts(db, ids),
  ]);
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
  const tagsBy = groupBy(tags, (t) => t.postId, (t) => t.tag);
  return rows.map((r) => ({
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
    withheld_replies: withheld.get(r.id) ?? 0,
    tags: r.deletedAt ? [] : (tagsBy.get(r.id) ?? []),
    reactions: { like: likes.counts.get(r.id) ?? 0, liked_by_me: likes.mine.has(r.id) },
    attachments: r.deletedAt ? [] : (filesBy.get(r.id) ?? []),
    forwarded: r.deletedAt ? [] : (r.forwarded ?? []),
    ...(r.deletedAt ? { deleted: true as const } : {}),
  }));
}
