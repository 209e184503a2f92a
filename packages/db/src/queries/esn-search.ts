import { sql, type SQL } from 'drizzle-orm';
import { HIGHLIGHT_START as START, HIGHLIGHT_STOP as STOP, highlightSegments, type HighlightSegment } from '@blend/core';
import type { Database } from '../client';
import type { FeedFilter } from './esn-feed';
import { commentVisibleTo, postVisibleTo } from './visibility';

/**
 * Search over posts and comments (docs/ARCHITECTURE.md "Search"). Each row is indexed in its own
 * language (`search_vector`, migration 0024); a query is stemmed in every language Blend tells
 * apart at once (`blend_search_query`). People's names and post titles also match by trigrams
 * (pg_trgm's word similarity), which catches a name however a stemmer treats it, part of a word
 * and small typos.
 */

/** Results on a page when the caller does not say. */
export const SEARCH_LIMIT_DEFAULT = 20;
/** The most results on one page. */
export const SEARCH_LIMIT_MAX = 100;
/**
 * Matches ranked per kind: the newest this many matching posts, and as many comments. Ranking
 * every match of a common word (a third of all posts) costs a rank per row; the newest matches
 * are what recency favours anyway. Filters (group, author, tag) narrow what they are taken from.
 */
export const SEARCH_CANDIDATES = 150;
/** Of which at most this many only for a title that looks like the query (a part of a word, a typo). */
export const SEARCH_TITLE_CANDIDATES = 25;
/**
 * The newest this many posts, and as many comments, are read in feed order and tested for the
 * words before a word's GIN entries are: a word in one row in ten fills the candidates within
 * them, where its GIN entries may be tens of thousands (docs/ARCHITECTURE.md "Search").
 */
export const SEARCH_WALK_ROWS = 1500;
/**
 * The walk is tried only for a query with a word in at least this share of the rows, as far as
 * Postgres's statistics know (a rarer word would not fill the candidates within the walk).
 */
export const SEARCH_WALK_SHARE = 0.05;
/** Relevance halves for every this many days of age (it is multiplied by 2^(-age/half-life)). */
export const SEARCH_HALF_LIFE_DAYS = 60;

/** Where a page of results ends: the last result's score and id. */
export interface SearchCursor {
  score: number;
  id: string;
}

export function encodeSearchCursor(c: SearchCursor): string {
  return Buffer.from(JSON.stringify(['s', c.score, c.id])).toString('base64url');
}

/** @returns the cursor, or null when it is not one this API issued. */
export function decodeSearchCursor(s: string): SearchCursor | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 3 || v[0] !== 's' || typeof v[1] !== 'number' || !Number.isFinite(v[1]) || typeof v[2] !== 'string') return null;
    if (!/^[0-9a-f-]{36}$/.test(v[2])) return null;
    return { score: v[1], id: v[2] };
  } catch {
    return null;
  }
}

export type { HighlightSegment };

export interface SearchHit {
  type: 'post' | 'comment';
  /** The post's or the comment's id. */
  id: string;
  /** The thread: the post itself, or the comment's post. */
  post_id: string;
  /** The thread's title. */
  title: string;
  group: { id: string; slug: string; name: string };
  author: { id: string; email: string; name: string };
  source: 'email' | 'esn';
  created_at: string;
  /** The text search configuration the text was indexed with (`english`, `german`, … `simple`). */
  language: string;
  /** Order of the results: relevance (ts_rank_cd, or trigram similarity) times 2^(-age/60 days), as a log. */
  score: number;
  /** The title and up to two passages of the text with the matches marked; plain text, never HTML. */
  highlight: { title: HighlightSegment[]; text: HighlightSegment[] };
}

interface HitRow {
  type: 'post' | 'comment';
  /** Null in the one row of a statement whose walk fell short (see searchContent). */
  id: string;
  posts_walk_full?: boolean | null;
  comments_walk_full?: boolean | null;
  post_id: string;
  title: string;
  group_id: string;
  group_slug: string;
  group_name: string;
  author_id: string;
  author_email: string;
  author_name: string;
  source: 'email' | 'esn';
  created_at: Date;
  language: string;
  score: number;
  title_marked: string;
  text_marked: string;
}

/** The filters of the feed (esn-feed.ts) as conditions on the thread's post and the matching row `x`. */
function filters(f: FeedFilter, x: 'posts' | 'comments', groupId: string | null): SQL[] {
  const out: SQL[] = [];
  if (f.group !== undefined) {
    // The group's id as a value (see searchContent), so the planner knows how few rows it has.
    out.push(sql`posts.group_id = ${groupId}::uuid`);
    // A comment carries its post's group (kept by triggers, migration 0031): the group's newest
    // comments are read from comments_group_feed_idx, where reading them through the group's
    // posts fetched every comment of the group to find the newest matches.
    if (x === 'comments') out.push(sql`comments.group_id = ${groupId}::uuid`);
  }
  if (f.author && 'id' in f.author) out.push(sql`${sql.raw(x)}.author_id = ${f.author.id}::uuid`);
  if (f.author && 'email' in f.author) out.push(sql`${sql.raw(x)}.author_id = (select id from people where email = ${f.author.email.toLowerCase()})`);
  if (f.source !== undefined) out.push(sql`${sql.raw(x)}.source = ${f.source}`);
  if (f.tag !== undefined) out.push(sql`exists (select 1 from post_tags t where t.post_id = posts.id and t.tag = ${f.tag.toLowerCase()})`);
  if (f.mentioning !== undefined) out.push(sql`exists (select 1 from mentions m where m.post_id = posts.id and m.person_id = ${f.mentioning}::uuid)`);
  return out;
}

const and = (conds: SQL[]) => sql.join(conds.length ? conds : [sql`true`], sql` and `);

interface Meaning {
  tsq: string | null;
  group_id: string | null;
  /** The largest share of the rows one of the query's words is in, as far as the statistics know. */
  posts_share: number | null;
  comments_share: number | null;
  named: string[];
  sims: number[];
}

/**
 * What a query means, as values for the search statement: its words in every language, the
 * group's id, how common its words are, and the people whose names match. A named statement
 * ($1 the query, $2 the group's slug), prepared once per connection: planning it (pg_stats is a
 * view joining four catalogs) cost several times what running it does.
 */
const MEANING = `
  with q as (select blend_search_query($1) as tsq),
  -- The query's words among the most common words Postgres's statistics keep of each table's
  -- search_vector (ANALYZE samples them): the largest share of rows one of them is in, null when
  -- none is among them.
  words as (select distinct replace(w[1], '''''', '''') as lexeme from q, regexp_matches(q.tsq::text, '''((?:[^'']|'''')+)''', 'g') as w),
  shares as (
    select s.tablename, (select max(e.share) from unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) as e(lexeme, share)
      where e.lexeme in (select lexeme from words)) as share
    from pg_stats s where s.schemaname = current_schema() and s.tablename in ('posts', 'comments') and s.attname = 'search_vector')
  select (select tsq from q)::text as tsq, (select id from groups where slug = $2) as group_id,
    (select share from shares where tablename = 'posts') as posts_share, (select share from shares where tablename = 'comments') as comments_share,
    coalesce(array_agg(id order by id), '{}') as named, coalesce(array_agg(word_similarity($1, name) order by id), '{}') as sims
  from people where $1 <% name`;

/**
 * How the search's transaction is planned, for its statements only (`set local`):
 * - no parallel workers: starting one took longer than the GIN branch it was planned for (a
 *   surname's, estimated at a thousand rows, finds none).
 * - no JIT compilation: the statement is planned anew for every request, and its estimated cost
 *   varies with what ANALYZE sampled; past `jit_above_cost` Postgres would compile it every time.
 * - within a group, a random page read costs what the rows read in index order cost once they
 *   are in memory (1.1, the usual value for data in memory or on SSDs): the walk's newest 1,500
 *   rows are most of a group's, and at the default (4) Postgres read all of the group's rows and
 *   sorted them whenever it estimated that few of them match, instead of reading the newest in
 *   index order until the 150th match (docs/ARCHITECTURE.md "Search").
 */
export function searchSettings(inGroup: boolean): string {
  return `begin; set local jit = off; set local max_parallel_workers_per_gather = 0${inGroup ? '; set local random_page_cost = 1.1' : ''}`;
}

/**
 * One page of results for `q`, best first, among what `viewerId` may see (the conditions of
 * visibility.ts, as in the feed): never a retracted, un-mirrored or erased post or comment, nor a
 * comment on a post the reader may not see.
 */
export async function searchContent(
  db: Database,
  opts: { q: string; viewerId: string; limit: number; cursor?: SearchCursor | null; filter?: FeedFilter },
): Promise<{ items: SearchHit[]; next: SearchCursor | null }> {
  const f = opts.filter ?? {};
  const client = await db.$client.connect();
  try {
    // The statements in a transaction of their own, with searchSettings (one round trip, as
    // is the commit). First the query's meaning, as values: the words in every language, the
    // people whose names match, and whether a word is common enough to look for in the newest
    // rows first (see searchStatement). Passed to the search as parameters, Postgres plans it
    // with them known.
    await client.query(searchSettings(f.group !== undefined));
    const meaning = await client.query<Meaning>({ name: 'blend_search_meaning', text: MEANING, values: [opts.q, f.group ?? null] });
    const m = meaning.rows[0]!;
    const dialect = (db as unknown as { dialect: { sqlToQuery(s: SQL): { sql: string; params: unknown[] } } }).dialect;
    const run = async (walks: Walks) => {
      const { sql: text, params } = dialect.sqlToQuery(searchStatement(opts, m, walks));
      return (await client.query<HitRow>(text, params)).rows;
    };
    // A walk that found fewer than SEARCH_CANDIDATES matches (a word rare in the group, the
    // newest rows hidden) leaves its kind to the planner in a second statement: the first then
    // ranks nothing and answers one row saying which walk fell short.
    const first = walksFor(opts, m);
    let all = await run(first);
    const short = all.length === 1 && all[0]!.id === null ? all[0]! : null;
    if (short) all = await run({ posts: first.posts && short.posts_walk_full === true, comments: first.comments && short.comments_walk_full === true });
    await client.query('commit');
    const rows = all.slice(0, opts.limit);
    const last = rows[rows.length - 1];
    return {
      items: rows.map(toHit),
      next: all.length > opts.limit && last ? { score: Number(last.score), id: last.id } : null,
    };
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Which kinds' newest rows are walked for the words (see {@link searchStatement}). */
interface Walks {
  posts: boolean;
  comments: boolean;
}

function shares(m: Meaning): { posts: number | null; comments: number | null } {
  return { posts: m.posts_share === null ? null : Number(m.posts_share), comments: m.comments_share === null ? null : Number(m.comments_share) };
}

/** A walk for each kind whose words are common in the statistics, unless a filter leaves too few of the newest rows. */
function walksFor(opts: { filter?: FeedFilter }, m: Meaning): Walks {
  const f = opts.filter ?? {};
  const share = shares(m);
  // An author, a tag or a mention leaves too few of the newest rows for the walk to fill the candidates.
  const narrow = f.author !== undefined || f.tag !== undefined || f.mentioning !== undefined;
  return { posts: !narrow && (share.posts ?? 0) >= SEARCH_WALK_SHARE, comments: !narrow && (share.comments ?? 0) >= SEARCH_WALK_SHARE };
}

/** The search statement for the query's meaning `m` and the walks to take (see {@link searchContent}). */
function searchStatement(
  opts: { q: string; viewerId: string; limit: number; cursor?: SearchCursor | null; filter?: FeedFilter },
  m: Meaning,
  walks: Walks,
): SQL {
  const f = opts.filter ?? {};
  const viewer = sql`${opts.viewerId}::uuid`;
  // The score is ln(relevance) + age term measured from a fixed epoch: the same order as
  // relevance × 2^(-age/half-life) measured from now, but it does not change as time passes, so
  // a cursor stays valid.
  const decay = Math.LN2 / (SEARCH_HALF_LIFE_DAYS * 86_400);
  const c = opts.cursor;
  const after = c ? sql`(s.score < ${c.score}::float8 or (s.score = ${c.score}::float8 and s.id < ${c.id}::uuid))` : sql`true`;
  const tsq = sql`${m.tsq}::tsquery`;
  const raw = sql`${opts.q}::text`;
  // sql.param: drizzle would spread a bare array into a list.
  const named = sql`${sql.param(m.named)}::uuid[]`;
  const nameSim = (author: SQL) => sql`coalesce((select n.sim from unnest(${named}, ${sql.param(m.sims)}::float4[]) as n(id, sim) where n.id = ${author}), 0)`;
  // The newest matches of the words, posts and comments alike. Left to itself the planner chose
  // between walking the feed index and reading the word's GIN entries by its statistics, and
  // both ways went wrong: within a group it read a common word's tens of thousands of GIN
  // entries to AND them with the group's rows, and it walked every post for a word it guessed
  // common that no post has (a surname). So the statement says which:
  // - a word common in the statistics: a walk of the newest SEARCH_WALK_ROWS rows in feed order
  //   (the group's, with a group filter), each tested for the words, that stops at the
  //   SEARCH_CANDIDATES-th match. When that many match they are the newest matches; when fewer
  //   do (a group where the word is rare) the statement ranks nothing and answers which walk fell
  //   short, and searchContent leaves that kind to the planner in a second one. Carried in this
  //   statement, that branch was planned and set up for every request though it seldom runs.
  // - a word the statistics count as less common: the planner chooses, its estimate being the
  //   word's share in the statistics.
  // - any other word: its GIN entries alone, in a subquery without order (`offset 0` keeps it
  //   one), so that the planner cannot walk the feed index hoping for an early end: it only
  //   guesses how common a word is that its statistics do not have.
  const walkSource = (x: 'posts' | 'comments') => {
    const cols = x === 'posts' ? sql`id, created_at, author_id, group_id, source, deleted_at, search_vector` : sql`id, created_at, post_id, author_id, group_id, source, deleted_at, search_vector`;
    const inGroup = m.group_id !== null ? sql` and group_id = ${m.group_id}::uuid` : sql``;
    // Named like the table, so that the visibility conditions and filters apply to it unchanged.
    return sql`(select ${cols} from ${sql.raw(x)} where deleted_at is null${inGroup}
          order by created_at desc, id desc limit ${SEARCH_WALK_ROWS}) ${sql.raw(x)}`;
  };
  const visible = (x: 'posts' | 'comments') => sql`${x === 'posts' ? postVisibleTo(viewer) : commentVisibleTo(viewer)} and ${and(filters(f, x, m.group_id))}`;
  const fromRows = (x: 'posts' | 'comments', rows: SQL) => (x === 'posts' ? rows : sql`${rows} join posts on posts.id = comments.post_id`);
  const walked = (x: 'posts' | 'comments') => sql`
    walked_${sql.raw(x)} as (
      select ${sql.raw(x)}.id, ${sql.raw(x)}.created_at from ${fromRows(x, walkSource(x))}
      where ${sql.raw(x)}.search_vector @@ ${tsq} and ${visible(x)}
      order by ${sql.raw(x)}.created_at desc limit ${SEARCH_CANDIDATES}
    ),`;
  const fromIndex = (x: 'posts' | 'comments') => sql`(select g.id, g.created_at from (
          select ${sql.raw(x)}.id, ${sql.raw(x)}.created_at from ${fromRows(x, sql.raw(x))}
          where ${sql.raw(x)}.search_vector @@ ${tsq} and ${visible(x)} offset 0) g
         order by g.created_at desc limit ${SEARCH_CANDIDATES})`;
  const fromPlanner = (x: 'posts' | 'comments') => sql`(select ${sql.raw(x)}.id, ${sql.raw(x)}.created_at from ${fromRows(x, sql.raw(x))}
          where ${sql.raw(x)}.search_vector @@ ${tsq} and ${visible(x)}
          order by ${sql.raw(x)}.created_at desc limit ${SEARCH_CANDIDATES})`;
  const share = shares(m);
  // When a walk found the newest SEARCH_CANDIDATES matches of the words, a candidate older than
  // the oldest of them cannot be among the newest SEARCH_CANDIDATES of the union below: the
  // other candidates (names, titles) are looked for only as far back as it. They are then read
  // in feed order down to it, where otherwise the planner ANDed a common title word's trigram
  // entries (thousands) with the group's posts, or walked on past it for a name that is rare.
  // When the walk fell short, none are looked for: the statement's answer is only that.
  const since = (x: 'posts' | 'comments') => walks[x]
    ? sql` and ${sql.raw(x)}.created_at >= (select case when count(*) = ${SEARCH_CANDIDATES} then min(b.created_at) else 'infinity'::timestamptz end from walked_${sql.raw(x)} b)`
    : sql``;
  // The titles' candidates after a walk: the posts down to the walk's oldest (so among the rows
  // it read), tested one by one in feed order, in a subquery of its own so that the planner does
  // not AND them with the trigram index's entries for a word in thousands of titles.
  const titleSource = walks.posts
    ? sql`(select id, created_at, author_id, group_id, source, deleted_at, title from posts
          where deleted_at is null${m.group_id !== null ? sql` and group_id = ${m.group_id}::uuid` : sql``}${since('posts')}
          order by created_at desc, id desc limit ${SEARCH_WALK_ROWS}) posts`
    : sql`posts`;
  // What people whose names match wrote, apart from the words (left out when no name matches):
  // in one condition ("matches or is by") each row walked past was read from the table to test
  // it, where alone the author is tested in posts_search_feed_idx and comments_search_feed_idx
  // (migrations 0032, 0031) without reading the table.
  const postsByName = m.named.length > 0 ? sql`
        union
        (select posts.id, posts.created_at from posts
          where posts.author_id = any(${named}) and ${postVisibleTo(viewer)} and ${and(filters(f, 'posts', m.group_id))}${since('posts')}
          order by posts.created_at desc limit ${SEARCH_CANDIDATES})` : sql``;
  const commentsByName = m.named.length > 0 ? sql`
        union
        (select comments.id, comments.created_at
          from comments join posts on posts.id = comments.post_id
          where comments.author_id = any(${named})
            and ${commentVisibleTo(viewer)} and ${and(filters(f, 'comments', m.group_id))}${since('comments')}
          order by comments.created_at desc limit ${SEARCH_CANDIDATES})` : sql``;
  const byWords = (x: 'posts' | 'comments') => {
    // No words (only stop words): nothing matches them (and no share was found for them).
    if (m.tsq === null) return sql`(select ${sql.raw(x)}.id, ${sql.raw(x)}.created_at from ${sql.raw(x)} where false)`;
    if (share[x] === null) return fromIndex(x);
    if (!walks[x]) return fromPlanner(x);
    return sql`(select w.id, w.created_at from walked_${sql.raw(x)} w)`;
  };
  const anyWalk = walks.posts || walks.comments;
  const full = (x: 'posts' | 'comments') => sql`(select count(*) from walked_${sql.raw(x)}) = ${SEARCH_CANDIDATES}`;
  return sql`
    with ${walks.posts ? walked('posts') : sql``}${walks.comments ? walked('comments') : sql``} pc as (
      select u.id from (
        ${byWords('posts')}${postsByName}
        union
        -- Titles by trigrams apart: in the same condition as the words, Postgres computed the
        -- similarity for every post it walked past.
        (select posts.id, posts.created_at from ${titleSource}
          where ${raw} <% posts.title and ${postVisibleTo(viewer)} and ${and(filters(f, 'posts', m.group_id))}
          order by posts.created_at desc limit ${SEARCH_TITLE_CANDIDATES})
      ) u order by u.created_at desc limit ${SEARCH_CANDIDATES}
    ),
    cc as (
      select u.id from (
        ${byWords('comments')}${commentsByName}
      ) u order by u.created_at desc limit ${SEARCH_CANDIDATES}
    ),
    scored as (
      select 'post' as type, p.id, p.id as post_id, p.created_at,
        ln(coalesce(ts_rank_cd(p.search_vector, ${tsq}, 32), 0) + 0.3 * word_similarity(${raw}, p.title) + 0.2 * ${nameSim(sql`p.author_id`)} + 1e-6)
          + extract(epoch from p.created_at)::float8 * ${decay}::float8 as score
      from pc join posts p on p.id = pc.id
      union all
      select 'comment', c.id, c.post_id, c.created_at,
        ln(coalesce(ts_rank_cd(c.search_vector, ${tsq}, 32), 0) + 0.2 * ${nameSim(sql`c.author_id`)} + 1e-6)
          + extract(epoch from c.created_at)::float8 * ${decay}::float8
      from cc join comments c on c.id = cc.id
    ),
    ${anyWalk ? sql`walk as (
      select ${walks.posts ? full('posts') : sql`true`} as posts_walk_full, ${walks.comments ? full('comments') : sql`true`} as comments_walk_full
    ),` : sql``}
    page as (
      select * from scored s where ${after}${anyWalk ? sql` and (select posts_walk_full and comments_walk_full from walk)` : sql``}
      order by s.score desc, s.id desc limit ${opts.limit + 1}
    )
    select page.type, page.id, page.post_id, p.title, g.id as group_id, g.slug as group_slug, g.name as group_name,
      a.id as author_id, a.email as author_email, a.name as author_name,
      coalesce(c.source, p.source) as source, page.created_at, coalesce(c.language, p.language)::text as language, page.score,
      coalesce(ts_headline(p.language, replace(replace(p.title, ${START}, ''), ${STOP}, ''), ${tsq}, ${headlineOptions(true)}), p.title) as title_marked,
      coalesce(ts_headline(coalesce(c.language, p.language), replace(replace(coalesce(c.body_text, p.body_text), ${START}, ''), ${STOP}, ''), ${tsq}, ${headlineOptions(false)}),
        left(coalesce(c.body_text, p.body_text), 240)) as text_marked${anyWalk ? sql`, null::boolean as posts_walk_full, null::boolean as comments_walk_full` : sql``}
    from page
    join posts p on p.id = page.post_id
    left join comments c on page.type = 'comment' and c.id = page.id
    join groups g on g.id = p.group_id
    join people a on a.id = coalesce(c.author_id, p.author_id)${anyWalk ? sql`
    union all
    -- A walk fell short: nothing was ranked, and this row says which (see searchContent).
    select null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, walk.posts_walk_full, walk.comments_walk_full
    from walk where not (walk.posts_walk_full and walk.comments_walk_full)` : sql``}
    order by score desc, id desc`;
}

function headlineOptions(whole: boolean): string {
  const marks = `StartSel=${START}, StopSel=${STOP}, HighlightAll=${whole ? 'true' : 'false'}`;
  return whole ? marks : `${marks}, MaxFragments=2, MaxWords=30, MinWords=12, FragmentDelimiter=" … "`;
}

function toHit(r: HitRow): SearchHit {
  return {
    type: r.type,
    id: r.id,
    post_id: r.post_id,
    title: r.title,
    group: { id: r.group_id, slug: r.group_slug, name: r.group_name },
    author: { id: r.author_id, email: r.author_email, name: r.author_name },
    source: r.source,
    created_at: new Date(r.created_at).toISOString(),
    language: r.language,
    score: Number(r.score),
    highlight: { title: highlightSegments(r.title_marked), text: highlightSegments(r.text_marked) },
  };
}
