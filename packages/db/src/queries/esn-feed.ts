import { and, desc, eq, isNull, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Tx } from '../client';
import { groups, mentions, people, posts, postTags } from '../schema';
import type { FeedCursor } from './feed';
import { decoratePosts, esnPostColumns, type EsnPostView } from './esn-post-view';

/** Filters of the ESN feed; every one given must match. */
export interface FeedFilter {
  /** Group slug. */
  group?: string;
  /** Author by id (uuid) or by email address. */
  author?: { id: string } | { email: string };
  /** A `#tag`, without the `#`, compared lower-case. */
  tag?: string;
  source?: 'email' | 'esn';
  /** Only posts that mention this person, in the post or in one of its comments. */
  mentioning?: string;
}

/**
 * The group and the author are compared on posts' own columns, their ids looked up once by a
 * scalar subquery: the planner then reads the page in order from posts_group_idx or
 * posts_author_idx and stops after `limit` rows, where a condition on the joined table made it
 * fetch and sort every post of the group or author.
 */
function filterConditions(f: FeedFilter): (SQL | undefined)[] {
  return [
    f.group !== undefined ? eq(posts.groupId, sql`(select ${groups.id} from ${groups} where ${groups.slug} = ${f.group})`) : undefined,
    f.author && 'id' in f.author ? eq(posts.authorId, f.author.id) : undefined,
    f.author && 'email' in f.author
      ? eq(posts.authorId, sql`(select ${people.id} from ${people} where ${people.email} = ${f.author.email.toLowerCase()})`)
      : undefined,
    f.source !== undefined ? eq(posts.source, f.source) : undefined,
    f.tag !== undefined
      ? sql`exists (select 1 from ${postTags} where ${postTags.postId} = ${posts.id} and ${postTags.tag} = ${f.tag.toLowerCase()})`
      : undefined,
    f.mentioning !== undefined
      ? sql`exists (select 1 from ${mentions} where ${mentions.postId} = ${posts.id} and ${mentions.personId} = ${f.mentioning})`
      : undefined,
  ];
}

/**
 * One page of the feed, newest first, with the given filters. Retracted posts are left
 * out (their thread page still shows the tombstone). Each post comes with comments,
 * likes (and whether `viewerId` liked it), tags and its withheld-reply count.
 */
export async function listFeedFiltered(
  db: Tx,
  opts: { limit: number; cursor?: FeedCursor | null; filter?: FeedFilter; viewerId: string | null },
): Promise<{ items: EsnPostView[]; next: FeedCursor | null }> {
  const c = opts.cursor;
  const rows = await db
    .select(esnPostColumns)
    .from(posts)
    .innerJoin(groups, eq(groups.id, posts.groupId))
    .innerJoin(people, eq(people.id, posts.authorId))
    .where(
      and(
        isNull(posts.deletedAt),
        // The first bound is implied by the second; it is there because the planner can start
        // the index scan at it, where the OR alone is a filter on every newer post.
        c ? lte(posts.createdAt, c.createdAt) : undefined,
        c ? or(lt(posts.createdAt, c.createdAt), and(eq(posts.createdAt, c.createdAt), lt(posts.id, c.id))) : undefined,
        ...filterConditions(opts.filter ?? {}),
      ),
    )
    .orderBy(desc(posts.createdAt), desc(posts.id))
    .limit(opts.limit + 1);
  const page = rows.slice(0, opts.limit);
  const items = await decoratePosts(db, page, opts.viewerId);
  const last = page[page.length - 1];
  return { items, next: rows.length > opts.limit && last ? { createdAt: last.createdAt, id: last.id } : null };
}

/** One post (a tombstone when retracted) with everything {@link listFeedFiltered} shows. */
export async function getEsnPostView(db: Tx, id: string, viewerId: string | null): Promise<EsnPostView | undefined> {
  const rows = await db
    .select(esnPostColumns)
    .from(posts)
    .innerJoin(groups, eq(groups.id, posts.groupId))
    .innerJoin(people, eq(people.id, posts.authorId))
    .where(eq(posts.id, id))
    .limit(1);
  const [view] = await decoratePosts(db, rows, viewerId);
  return view;
}
