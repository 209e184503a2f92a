import { and, asc, desc, eq, inArray, lt, or } from 'drizzle-orm';
import type { Tx } from '../client';
import { comments, groups, people, posts } from '../schema';

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
    .where(c ? or(lt(posts.createdAt, c.createdAt), and(eq(posts.createdAt, c.createdAt), lt(posts.id, c.id))) : undefined)
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
      body_text: c.bodyText,
      body_html: c.bodyHtml,
      source: c.source,
      created_at: c.createdAt.toISOString(),
    });
    byPost.set(c.postId, list);
  }
  return rows.map((r) => ({
    id: r.id,
    group: { id: r.groupId, slug: r.groupSlug, name: r.groupName },
    title: r.title,
    body_text: r.bodyText,
    body_html: r.bodyHtml,
    source: r.source,
    author: { id: r.authorId, email: r.authorEmail, name: r.authorName },
    created_at: r.createdAt.toISOString(),
    comments: byPost.get(r.id) ?? [],
  }));
}

