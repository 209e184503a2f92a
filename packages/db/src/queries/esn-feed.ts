import { and, desc, eq, inArray, lt, lte, or, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import { isReactionKind, type ReactionKind } from '@blend/core';
import type { Database, Tx } from '../client';
import { groups, mentions, people, posts, postTags, reactions } from '../schema';
import type { FeedCursor } from '../feed-views';
import { esnPostColumns, postDecoration, toEsnPostViews, type EsnPostRow, type EsnPostView } from './esn-post-view';
import { rawStatement, type RawStatement } from './raw-statement';
import { withTrimmedText } from './trimmed-text';
import { groupVisibleTo } from './groups';
import { postVisibleTo } from './visibility';
import { withModeration } from './moderation';

/** Posts on a page when the caller does not say. */
export const FEED_LIMIT_DEFAULT = 20;
/** Comments each feed item carries when the caller does not say: the latest 3. */
export const FEED_COMMENTS_DEFAULT = 3;
/** The most comments a feed item may carry; the thread (`getEsnPostView`) has them all. */
export const FEED_COMMENTS_MAX = 50;

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

/** Placeholders of the feed statements, filled from the request at execution. */
const P = {
  limit: sql.placeholder('limit'),
  cursorAt: sql.placeholder('cursorAt'),
  cursorId: sql.placeholder('cursorId'),
  group: sql.placeholder('group'),
  authorId: sql.placeholder('authorId'),
  authorEmail: sql.placeholder('authorEmail'),
  source: sql.placeholder('source'),
  tag: sql.placeholder('tag'),
  mentioning: sql.placeholder('mentioning'),
};

/**
 * Rows after the cursor in the feed's order: `(createdAt, id) < (cursorAt, cursorId)`. The
 * first bound is implied by the second; it is there because the planner can start an index
 * scan at it, where the OR alone is a filter on every newer row.
 */
function after(createdAt: AnyColumn, id: AnyColumn, cursor: boolean): SQL | undefined {
  if (!cursor) return undefined;
  return and(lte(createdAt, P.cursorAt), or(lt(createdAt, P.cursorAt), and(eq(createdAt, P.cursorAt), lt(id, P.cursorId))));
}

/** Which filters (and whether a cursor) a page has: one prepared statement per shape. */
interface FeedShape {
  cursor: boolean;
  group: boolean;
  authorId: boolean;
  authorEmail: boolean;
  source: boolean;
  tag: boolean;
  mentioning: boolean;
}

/**
 * The group and the author are compared on posts' own columns, their ids looked up once by a
 * scalar subquery: the planner then reads the page in order from posts_group_idx or
 * posts_author_idx and stops after `limit` rows, where a condition on the joined table made it
 * fetch and sort every post of the group or author. A mention is a condition here only when a
 * tag drives the page (see {@link buildFeedStatement}).
 */
function filterConditions(s: FeedShape): (SQL | undefined)[] {
  return [
    s.group ? eq(posts.groupId, sql`(select ${groups.id} from ${groups} where ${groups.slug} = ${P.group})`) : undefined,
    s.authorId ? eq(posts.authorId, P.authorId) : undefined,
    s.authorEmail ? eq(posts.authorId, sql`(select ${people.id} from ${people} where ${people.email} = ${P.authorEmail})`) : undefined,
    s.source ? eq(posts.source, P.source) : undefined,
    s.tag && s.mentioning ? sql`exists (select 1 from ${mentions} where ${mentions.postId} = ${posts.id} and ${mentions.personId} = ${P.mentioning})` : undefined,
  ];
}

/**
 * The posts that mention a person, each once (a post and several of its comments may), newest
 * first, read in order from mentions_feed_idx.
 */
function mentioning(db: Tx, cursor: boolean) {
  return db
    .selectDistinct({ postCreatedAt: mentions.postCreatedAt, postId: mentions.postId })
    .from(mentions)
    .where(and(eq(mentions.personId, P.mentioning), after(mentions.postCreatedAt, mentions.postId, cursor)))
    .orderBy(desc(mentions.postCreatedAt), desc(mentions.postId))
    .as('mentioned');
}

/**
 * The page query of one shape, with placeholders for the values, as a named statement. `rows`
 * is its LIMIT: a number is written into the SQL, null makes it a placeholder.
 *
 * A tag or a mention drives the page: it is read in the feed's order from post_tags_feed_idx
 * or mentions_feed_idx (each a copy of the post's created_at next to its id), each entry
 * joined to its post by id, and the page is ordered by the copy. Walking the feed instead and
 * probing post_tags for each post read thousands of posts for a tag on 1 post in 100; joining
 * on the copy as well as the id made the planner expect one row and pick plans for one.
 */
function buildFeedStatement(db: Database, s: FeedShape, rows: number | null, name: string): RawStatement<EsnPostRow> {
  const columns = { ...esnPostColumns, ...postDecoration() };
  let order: [AnyColumn, AnyColumn];
  let base;
  if (s.tag) {
    base = db.select(columns).from(postTags).innerJoin(posts, eq(posts.id, postTags.postId)).$dynamic();
    order = [postTags.postCreatedAt, postTags.postId];
  } else if (s.mentioning) {
    const m = mentioning(db, s.cursor);
    base = db.select(columns).from(m).innerJoin(posts, eq(posts.id, m.postId)).$dynamic();
    order = [m.postCreatedAt, m.postId];
  } else {
    base = db.select(columns).from(posts).$dynamic();
    order = [posts.createdAt, posts.id];
  }
  const query = base
    .innerJoin(groups, eq(groups.id, posts.groupId))
    .innerJoin(people, eq(people.id, posts.authorId))
    .where(
      and(
        // Not retracted, and not in a private group the reader is not in: the shared rule.
        postVisibleTo(sql.placeholder('viewer')),
        s.tag ? eq(postTags.tag, P.tag) : undefined,
        // The mention subquery has the cursor already.
        s.mentioning && !s.tag ? undefined : after(order[0], order[1], s.cursor),
        ...filterConditions(s),
      ),
    )
    .orderBy(desc(order[0]), desc(order[1]))
    // drizzle sends a number as a parameter; an SQL chunk (typed as a placeholder) is written as it is.
    .limit(rows === null ? P.limit : (sql.raw(String(rows)) as unknown as typeof P.limit));
  return rawStatement(db, name, query, keysOf(columns));
}

const keysOf = <T extends object>(o: T) => Object.keys(o) as (keyof T & string)[];

const statements = new WeakMap<Database, Map<string, RawStatement<EsnPostRow>>>();

/**
 * The page query of a shape (the page with its counts and files, see {@link postDecoration}),
 * built once per database handle: building it with drizzle on every request cost about as
 * much CPU as the rest of the request.
 *
 * A page of the default size has its LIMIT in the SQL, so that after five executions Postgres
 * settles on a generic plan (plan_cache_mode auto) and stops planning the statement, which
 * took it 1–2 ms a request; with a LIMIT parameter it assumes a tenth of the table is wanted,
 * judges the generic plan dear and plans every execution. Other page sizes share a statement
 * per shape with the LIMIT as a parameter, planned each time, so a client cannot make a
 * connection hold a statement for every size.
 */
function feedStatement(db: Database, s: FeedShape, limit: number) {
  const rows = limit === FEED_LIMIT_DEFAULT ? limit + 1 : null;
  const key = `${Object.entries(s).filter(([, on]) => on).map(([k]) => k).join('_') || 'all'}_${rows ?? 'n'}`;
  let byShape = statements.get(db);
  if (!byShape) statements.set(db, (byShape = new Map()));
  let stmt = byShape.get(key);
  if (!stmt) byShape.set(key, (stmt = buildFeedStatement(db, s, rows, `esn_feed_${key}`)));
  return stmt;
}

/**
 * One page of the feed, newest first, with the given filters. Retracted posts are left
 * out (their thread page still shows the tombstone). Each post comes with its latest
 * `comments` comments that are not retracted (in time order) and their total, likes (and
 * whether `viewerId` liked it), tags and its withheld-reply count.
 */
export async function listFeedFiltered(
  db: Database,
  opts: {
    limit: number;
    cursor?: FeedCursor | null;
    filter?: FeedFilter;
    viewerId: string | null;
    /**
     * Comments per post, 0 to {@link FEED_COMMENTS_MAX}.
     * @defaultValue {@link FEED_COMMENTS_DEFAULT}
     */
    comments?: number;
  },
): Promise<{ items: EsnPostView[]; next: FeedCursor | null }> {
  const c = opts.cursor;
  const f = opts.filter ?? {};
  const comments = opts.comments ?? FEED_COMMENTS_DEFAULT;
  if (!Number.isInteger(comments) || comments < 0 || comments > FEED_COMMENTS_MAX) throw new RangeError(`comments must be an integer 0–${FEED_COMMENTS_MAX}`);
  const authorId = f.author && 'id' in f.author ? f.author.id : undefined;
  const authorEmail = f.author && 'email' in f.author ? f.author.email.toLowerCase() : undefined;
  const stmt = feedStatement(db, {
    cursor: Boolean(c),
    group: f.group !== undefined,
    authorId: authorId !== undefined,
    authorEmail: authorEmail !== undefined,
    source: f.source !== undefined,
    tag: f.tag !== undefined,
    mentioning: f.mentioning !== undefined,
  }, opts.limit);
  const rows = await stmt.execute({
    limit: opts.limit + 1,
    viewer: opts.viewerId,
    cursorAt: c?.createdAt,
    cursorId: c?.id,
    group: f.group,
    authorId,
    authorEmail,
    source: f.source,
    tag: f.tag?.toLowerCase(),
    mentioning: f.mentioning,
  });
  const page = rows.slice(0, opts.limit);
  const last = page[page.length - 1];
  return { items: await toEsnPostViews(db, page, comments), next: rows.length > opts.limit && last ? { createdAt: new Date(last.createdAt), id: last.id } : null };
}

function postStatement(db: Database): RawStatement<EsnPostRow> {
  const columns = { ...esnPostColumns, ...postDecoration() };
  const query = db
    .select(columns)
    .from(posts)
    .innerJoin(groups, eq(groups.id, posts.groupId))
    .innerJoin(people, eq(people.id, posts.authorId))
    .where(and(eq(posts.id, sql.placeholder('id')), groupVisibleTo(posts.groupId, sql.placeholder('viewer'))));
  return rawStatement(db, 'esn_post_visible', query, keysOf(columns));
}
const postStatements = new WeakMap<Database, RawStatement<EsnPostRow>>();

/**
 * One post (a tombstone when retracted) with everything {@link listFeedFiltered} shows, all its
 * comments, and `trimmed_text` where the viewer wrote the mail; undefined, as for no post at
 * all, when it is in a private group the viewer is not a member of.
 */
export async function getEsnPostView(db: Database, id: string, viewerId: string | null): Promise<EsnPostView | undefined> {
  let stmt = postStatements.get(db);
  if (!stmt) postStatements.set(db, (stmt = postStatement(db)));
  const rows = await stmt.execute({ id, viewer: viewerId });
  const view = (await toEsnPostViews(db, rows, 'all'))[0];
  const shown = view && (await withModeration(db, view, viewerId));
  return shown && withTrimmedText(db, shown, viewerId);
}

/**
 * The reactions the person gave to each of `postIds` (posts without any are absent). Kept out
 * of the post views so a feed page stays the same for every reader (feed-cache.ts).
 */
export async function reactionsAmong(db: Database, personId: string, postIds: string[]): Promise<Map<string, ReactionKind[]>> {
  const out = new Map<string, ReactionKind[]>();
  if (postIds.length === 0) return out;
  const rows = await db
    .select({ postId: reactions.postId, kind: reactions.kind })
    .from(reactions)
    .where(and(eq(reactions.personId, personId), inArray(reactions.postId, postIds)))
    .orderBy(reactions.kind);
  for (const r of rows) if (isReactionKind(r.kind)) out.set(r.postId, [...(out.get(r.postId) ?? []), r.kind]);
  return out;
}

const likedStatements = new WeakMap<Database, RawStatement<{ postId: string }>>();

/** Which of `postIds` the person liked: what a cached feed page needs to fill in `liked_by_me`. */
export async function likedAmong(db: Database, personId: string, postIds: string[]): Promise<Set<string>> {
  if (postIds.length === 0) return new Set();
  let stmt = likedStatements.get(db);
  if (!stmt) {
    const query = db
      .select({ postId: reactions.postId })
      .from(reactions)
      .where(and(eq(reactions.personId, sql.placeholder('person')), eq(reactions.kind, 'like'), sql`${reactions.postId} = any(${sql.placeholder('ids')}::uuid[])`));
    likedStatements.set(db, (stmt = rawStatement(db, 'esn_liked_among', query, ['postId'])));
  }
  const rows = await stmt.execute({ person: personId, ids: postIds });
  return new Set(rows.map((r) => r.postId));
}
