/**
 * A populated feed for the digest benchmark, written with set-based SQL (generate_series):
 * groups, authors, readers who belong to or follow one group each, and a history of posts and
 * comments before the readers' last digest (T0) plus the new activity after it.
 */
import type pg from 'pg';

export interface FeedOptions {
  people: number;
  /** Readers whose digest is due now (the first ones); the others are due tomorrow. */
  due: number;
  groups: number;
  /** Authors per group; they write everything and get no digest themselves. */
  authorsPerGroup: number;
  /** Seed of Postgres's random() (setseed), so the same options give the same feed. */
  seed: number;
}

export interface FeedFacts {
  readers: number;
  authors: number;
  groups: number;
  /** Posts and comments before T0 (not in any digest). */
  historyItems: number;
  /** Posts and comments after T0, by authors, in the readers' groups. */
  newPosts: number;
  newComments: number;
  /** Items each reader may see, from the data: min / mean / max. */
  itemsPerReader: { min: number; mean: number; max: number };
  /** Body text lengths of the new items (characters): min / mean / max. */
  textChars: { min: number; mean: number; max: number };
  /** When the readers' last digest was; all new activity is after it. */
  t0: Date;
  seconds: number;
}

/** Posts per group before T0, and comments on them. */
const HISTORY_POSTS = 40;
const HISTORY_COMMENTS = 160;
/** New posts per group after T0; the rest of a group's new items are comments. */
const NEW_POSTS = 4;
/** New items per group: 15–25 (mean ≈ 20 over 50 groups). */
const newItemsSql = (g: string) => `(15 + ${g} % 11)`;

// Sentences of office prose, glued at random into 200–800 character bodies.
const SUBJECTS = ['The Q3 roadmap review', 'Our onboarding flow', 'The billing migration', 'The customer advisory board', 'The support backlog',
  'The new pricing page', 'The hiring plan for Berlin', 'The data warehouse cut-over', 'The security audit', 'The mobile release',
  'The partner API', 'Our incident review process', 'The travel policy update', 'The OKR draft for next quarter', 'The design system work'];
const VERBS = ['is on track for', 'slipped by a week ahead of', 'needs a decision before', 'was discussed at', 'depends on the outcome of',
  'got positive feedback during', 'is blocked until', 'will be demoed at', 'should be ready for', 'came up again in'];
const OBJECTS = ['the leadership offsite', 'Friday\'s all-hands', 'the partner summit', 'the sprint review', 'the end of the quarter',
  'the next release train', 'the vendor renewal', 'the board meeting', 'the customer call on Thursday', 'the planning session'];
const TAILS = ['', ' — please add your comments to the doc', ', see the notes from Tuesday', '; Maya has the details', ' and we should loop in finance',
  ', any objections', ', thanks to everyone who helped', ' (numbers in the shared sheet)', ', so let us keep the scope small', ' if legal signs off in time'];
const FIRST = ['Alice', 'Bruno', 'Chloé', 'Dmitri', 'Elena', 'Farid', 'Greta', 'Hiro', 'Inès', 'Jonas', 'Kateřina', 'Liam', 'Maya', 'Nils', 'Olga',
  'Pablo', 'Quinn', 'Rosa', 'Søren', 'Tara', 'Umar', 'Vera', 'Wen', 'Ximena', 'Yusuf', 'Zoë', 'Amir', 'Beatriz', 'Conor', 'Daria'];
const LAST = ['Andersen', 'Bianchi', 'Chen', 'Dubois', 'Eriksen', 'Fischer', 'García', 'Haddad', 'Ivanova', 'Jansen', 'Kowalski', 'López', 'Müller',
  'Nakamura', 'Okafor', 'Petrov', 'Rossi', 'Schmidt', 'Tanaka', 'Weber'];
const TEAMS = ['Engineering', 'Sales', 'Support', 'Finance', 'Marketing', 'Design', 'Operations', 'People', 'Legal', 'Data'];
const ZONES = ['Europe/Berlin', 'Europe/London', 'America/New_York', 'Asia/Tokyo', 'UTC'];

const arr = (xs: string[]) => `array[${xs.map((x) => `'${x.replace(/'/g, "''")}'`).join(',')}]`;
const at = (xs: string[], i: string) => `(${arr(xs)})[1 + (${i}) % ${xs.length}]`;
const any = (xs: string[]) => `(${arr(xs)})[1 + floor(random() * ${xs.length})::int]`;

/**
 * Fill an empty, migrated database. Readers: `reader<n>@corp.test`, daily digest, opted in,
 * last digest at T0 (20 h ago), next one due a minute ago; reader n belongs to group n mod G
 * and every third reader also follows it. Authors are people of their own (digest off), so
 * no reader's own item is left out of their digest.
 */
export async function populateFeed(pool: pg.Pool, o: FeedOptions): Promise<FeedFacts> {
  const started = performance.now();
  const c = await pool.connect();
  try {
    await c.query('begin');
    await c.query('select setseed($1)', [((o.seed % 1000) + 1) / 1001]);
    // A body of at most n characters, cut after a full sentence; temp functions live in this session.
    await c.query(`create function pg_temp.bench_text(n int) returns text language sql volatile as $$
      select regexp_replace(left(string_agg(s, ' '), n), '\\.[^.]*$', '.') from (
        select ${any(SUBJECTS)} || ' ' || ${any(VERBS)} || ' ' || ${any(OBJECTS)} || ${any(TAILS)} || '.' as s
        from generate_series(1, 14)) x $$`);
    const { rows: [clock] } = await c.query<{ now: Date; t0: Date }>(`select now() as now, now() - interval '20 hours' as t0`);
    const t0 = clock!.t0;
    await c.query(`insert into groups (slug, name, description)
      select 'bench-g' || g, ${at(TEAMS, 'g')} || ' ' || (g / ${TEAMS.length} + 1), 'Benchmark group ' || g
      from generate_series(0, $1::int - 1) g`, [o.groups]);
    // Authors: G × A people; author k of group g is author<g*A+k>.
    await c.query(`insert into people (email, name, opt_in, digest_frequency)
      select 'author' || i || '@corp.test', ${at(FIRST, 'i * 7')} || ' ' || ${at(LAST, 'i * 3')}, 'opted_in', 'off'
      from generate_series(0, $1::int - 1) i`, [o.groups * o.authorsPerGroup]);
    await c.query(`insert into people (email, name, opt_in, opt_in_changed_at, digest_frequency, digest_time, timezone, last_digest_at, next_digest_at)
      select 'reader' || i || '@corp.test', ${at(FIRST, 'i')} || ' ' || ${at(LAST, 'i / 30')}, 'opted_in', $2::timestamptz - interval '30 days',
             'daily', '08:00', ${at(ZONES, 'i')}, $2::timestamptz,
             case when i < $3::int then now() - interval '1 minute' else now() + interval '1 day' end
      from generate_series(0, $1::int - 1) i`, [o.people, t0, o.due]);
    const readerGroup = `(split_part(substr(p.email, 7), '@', 1)::int % ${o.groups})`;
    await c.query(`insert into group_members (group_id, person_id)
      select g.id, p.id from people p join groups g on g.slug = 'bench-g' || ${readerGroup} where p.email like 'reader%'`);
    await c.query(`insert into follows (person_id, group_id)
      select p.id, g.id from people p join groups g on g.slug = 'bench-g' || ${readerGroup}
      where p.email like 'reader%' and split_part(substr(p.email, 7), '@', 1)::int % 3 = 0`);

    // Posts: k < HISTORY_POSTS before T0 (every 8 h back), the rest spread over 3–12 h after it.
    const author = (g: string, k: string) => `(select id from people where email = 'author' || (${g} * ${o.authorsPerGroup} + (${k}) % ${o.authorsPerGroup}) || '@corp.test')`;
    await c.query(`insert into posts (group_id, author_id, title, body_text, body_html, source, subject_key, created_at)
      select gid, aid, title, t, '<p>' || t || '</p>', src::content_source, lower(title), at from (
        select g.id as gid, ${author('gi', 'k')} as aid,
               ${any(SUBJECTS)} || ': ' || ${any(['update', 'next steps', 'decision needed', 'notes', 'status', 'heads-up'])} as title,
               pg_temp.bench_text(330 + floor(random() * 481)::int + 0 * k) as t,
               case when random() < 0.5 then 'email' else 'esn' end as src,
               case when k < ${HISTORY_POSTS} then $1::timestamptz - (${HISTORY_POSTS} - k) * interval '8 hours' + random() * interval '4 hours'
                    else $1::timestamptz + (k - ${HISTORY_POSTS}) * interval '3 hours' + interval '3 hours' + random() * interval '1 hour' end as at
        from generate_series(0, $2::int - 1) gi
        cross join generate_series(0, ${HISTORY_POSTS + NEW_POSTS - 1}) k
        join groups g on g.slug = 'bench-g' || gi) x`, [t0, o.groups]);
    // Comments: history ones on history posts, before T0; new ones (15–25 items per group in
    // all) on the group's 4 new posts and its 2 newest older ones, after T0.
    await c.query(`create temporary table bench_posts on commit drop as
      select p.id, p.created_at, substr(g.slug, 8)::int as gi,
             row_number() over (partition by p.group_id order by p.created_at desc) as r
      from posts p join groups g on g.id = p.group_id`);
    await c.query(`insert into comments (post_id, author_id, body_text, body_html, source, created_at)
      select pid, aid, t, '<p>' || t || '</p>', src::content_source, at from (
        select bp.id as pid, ${author('bp.gi', 'j + 1')} as aid,
               pg_temp.bench_text(330 + floor(random() * 481)::int + 0 * j) as t,
               case when random() < 0.5 then 'email' else 'esn' end as src,
               case when j >= 1000 then bp.created_at + random() * ($1::timestamptz - bp.created_at)
                    else greatest(bp.created_at, $1::timestamptz) + random() * (now() - interval '5 minutes' - greatest(bp.created_at, $1::timestamptz)) end as at
        from generate_series(0, $2::int - 1) s(gx)
        cross join lateral (
          select 1000 + h as j, ${NEW_POSTS + 1} + h % ${HISTORY_POSTS} as r from generate_series(0, ${HISTORY_COMMENTS - 1}) h
          union all
          select n, 1 + n % ${NEW_POSTS + 2} from generate_series(0, ${newItemsSql('s.gx')} - ${NEW_POSTS} - 1) n
        ) pick
        join bench_posts bp on bp.gi = s.gx and bp.r = pick.r) x`, [t0, o.groups]);
    await c.query('commit');
  } catch (err) {
    await c.query('rollback');
    throw err;
  } finally {
    c.release();
  }
  await pool.query('analyze');
  return { ...(await feedFacts(pool)), seconds: (performance.now() - started) / 1000 };
}

async function feedFacts(pool: pg.Pool): Promise<Omit<FeedFacts, 'seconds'>> {
  const { rows: [t] } = await pool.query<{ t0: Date }>(`select min(last_digest_at) as t0 from people where email like 'reader%'`);
  const t0 = t!.t0;
  const q = async (text: string, values: unknown[] = []) => (await pool.query(text, values)).rows[0] as Record<string, string>;
  const counts = await q(`select
      (select count(*) from people where email like 'reader%') as readers,
      (select count(*) from people where email like 'author%') as authors,
      (select count(*) from groups) as groups,
      (select count(*) from posts where created_at <= $1) + (select count(*) from comments where created_at <= $1) as history,
      (select count(*) from posts where created_at > $1) as new_posts,
      (select count(*) from comments where created_at > $1) as new_comments`, [t0]);
  // What a reader may see: the new items of their group (they author nothing).
  const perGroup = await q(`with items as (
        select group_id as gid from posts where created_at > $1
        union all select p.group_id from comments c join posts p on p.id = c.post_id where c.created_at > $1),
      per_group as (select gid, count(*) as n from items group by gid)
      select min(n) as min, avg(n) as mean, max(n) as max from group_members gm join per_group pg on pg.gid = gm.group_id`, [t0]);
  const chars = await q(`select min(l) as min, avg(l) as mean, max(l) as max from (
      select length(body_text) as l from posts where created_at > $1
      union all select length(body_text) from comments where created_at > $1) x`, [t0]);
  const num = (v: string | undefined) => Number(v);
  return {
    readers: num(counts.readers), authors: num(counts.authors), groups: num(counts.groups),
    historyItems: num(counts.history), newPosts: num(counts.new_posts), newComments: num(counts.new_comments),
    itemsPerReader: { min: num(perGroup.min), mean: num(perGroup.mean), max: num(perGroup.max) },
    textChars: { min: num(chars.min), mean: num(chars.mean), max: num(chars.max) },
    t0,
  };
}
