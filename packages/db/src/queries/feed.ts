import { and, asc, count, desc, eq, inArray, isNull, lt, or } from 'drizzle-orm';
import type { Tx } from '../client';
import { comments, groups, inboundMessages, people, posts } from '../schema';

export interface PersonRef {
  id: string;
  email: string;
  name: string;
}
export interface CommentView {
  id: string;
  author: PersonRef;
  body_text: string;
  body_html: string;
  source: 'email' | 'esn';
  created_at: string;
  /** Retracted by its author: the comment stays as a tombstone without content. */
  deleted?: true;
}
export interface PostView {
  id: string;
  group: { id: string; slug: string; name: string };
  title: string;
  body_text: string;
  body_html: string;
  source: 'email' | 'esn';
  author: PersonRef;
  created_at: string;
  comments: CommentView[];
  /** Replies in this thread from people who have not opted in: counted, never shown. */
  withheld_replies: number;
  /** Retracted or un-mirrored: a tombstone without content. */
  deleted?: true;
}

/** Opaque feed cursor: the (created_at, id) of the last item of a page. */
export interface FeedCursor {
  createdAt: Date;
  id: string;
}

export function encodeCursor(c: FeedCursor): string {
  return Buffer.from(JSON.stringify([c.createdAt.toISOString(), c.id])).toString('base64url');
}

/** @returns the cursor, or null when it is not one we issued. */
export function decodeCursor(s: string): FeedCursor | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || typeof v[1] !== 'string') return null;
    const createdAt = new Date(v[0]);
    if (Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/.test(v[1])) return null;
    return { createdAt, id: v[1] };
  } catch {
    return null;
  }
}

const postColumns = {
  id: posts.id,
  title: posts.title,
  bodyText: posts.bodyText,
  bodyHtml: posts.bodyHtml,
  source: posts.source,
  createdAt: posts.createdAt,
  deletedAt: posts.deletedAt,
  groupId: groups.id,
  groupSlug: groups.slug,
  groupName: groups.name,
  authorId: people.id,
  authorEmail: people.email,
  authorName: people.name,
};

/** One page of the feed, newest first, each post with its comments in time order. */
export async function listFeed(db: Tx, opts: { limit: number; cursor?: FeedCursor | null }): Promise<{ items: PostView[]; next: FeedCursor | null }> {
  const c = opts.cursor;
  const rows = await db
    .select(postColumns)
    .from(posts)
    .innerJoin(groups, eq(groups.id, posts.groupId))
    .innerJoin(people, eq(people.id, posts.authorId))
    .where(
      and(
        isNull(posts.deletedAt),
        c ? or(lt(posts.createdAt, c.createdAt), and(eq(posts.createdAt, c.createdAt), lt(posts.id, c.id))) : undefined,
      ),
    )
    .orderBy(desc(posts.createdAt), desc(posts.id))
    .limit(opts.limit + 1);
  const page = rows.slice(0, opts.limit);
  const items = await withComments(db, page);
  const last = page[page.length - 1];
  return { items, next: rows.length > opts.limit && last ? { createdAt: last.createdAt, id: last.id } : null };
}

export async function getPostView(db: Tx, id: string): Promise<PostView | undefined> {
  const rows = await db
    .select(postColumns)
    .from(posts)
    .innerJoin(groups, eq(groups.id, posts.groupId))
    .innerJoin(people, eq(people.id, posts.authorId))
    .where(eq(posts.id, id))
    .limit(1);
  const [view] = await withComments(db, rows);
  return view;
}

interface PostRow {
  id: string;
  title: string;
  bodyText: string;
  bodyHtml: string;
  source: 'email' | 'esn';
  createdAt: Date;
  deletedAt: Date | null;
  groupId: string;
  groupSlug: string;
  groupName: string;
  authorId: string;
  authorEmail: string;
  authorName: string;
}

async function withComments(db: Tx, rows: PostRow[]): Promise<PostView[]> {
  if (rows.length === 0) return [];
  const cs = await db
    .select({
      id: comments.id,
      postId: comments.postId,
      bodyText: comments.bodyText,
      bodyHtml: comments.bodyHtml,
      source: comments.source,
      createdAt: comments.createdAt,
      deletedAt: comments.deletedAt,
      authorId: people.id,
      authorEmail: people.email,
      authorName: people.name,
    })
    .from(comments)
    .innerJoin(people, eq(people.id, comments.authorId))
    .where(inArray(comments.postId, rows.map((r) => r.id)))
    .orderBy(asc(comments.createdAt), asc(comments.id));
  const byPost = new Map<string, CommentView[]>();
  for (const c of cs) {
    const list = byPost.get(c.postId) ?? [];
    list.push({
      id: c.id,
      author: { id: c.authorId, email: c.authorEmail, name: c.authorName },
      body_text: c.deletedAt ? '' : c.bodyText,
      body_html: c.deletedAt ? '' : c.bodyHtml,
      source: c.source,
      created_at: c.createdAt.toISOString(),
      ...(c.deletedAt ? { deleted: true as const } : {}),
    });
    byPost.set(c.postId, list);
  }
  const withheld = await db
    .select({ postId: inboundMessages.postId, n: count() })
    .from(inboundMessages)
    .where(and(inArray(inboundMessages.postId, rows.map((r) => r.id)), eq(inboundMessages.state, 'withheld')))
    .groupBy(inboundMessages.postId);
  const withheldBy = new Map(withheld.map((w) => [w.postId, w.n]));
  return rows.map((r) => ({
    id: r.id,
    group: { id: r.groupId, slug: r.groupSlug, name: r.groupName },
    title: r.deletedAt ? '' : r.title,
    body_text: r.deletedAt ? '' : r.bodyText,
    body_html: r.deletedAt ? '' : r.bodyHtml,
    source: r.source,
    author: { id: r.authorId, email: r.authorEmail, name: r.authorName },
    created_at: r.createdAt.toISOString(),
    comments: byPost.get(r.id) ?? [],
    withheld_replies: withheldBy.get(r.id) ?? 0,
    ...(r.deletedAt ? { deleted: true as const } : {}),
  }));
}

