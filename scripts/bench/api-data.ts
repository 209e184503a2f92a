/**
 * A large feed for the API benchmark, written with set-based SQL (generate_series): groups,
 * people, posts over the last ~14 months, comments (most spread at random, a fifth on a few
 * busy threads), tags, likes, the inbound rows of the mails behind email-sourced items (some
 * withheld replies among them) and a few attachments.
 */
import type pg from 'pg';

export interface ApiDataOptions {
  posts: number;
  comments: number;
  groups: number;
  people: number;
  /** Seed of Postgres's random() (setseed), so the same options give the same feed. */
  seed: number;
}

export interface ApiDataFacts {
  posts: number;
  comments: number;
  groups: number;
  people: number;
  tags: number;
  taggedPosts: number;
  likes: number;
  inbound: number;
  withheld: number;
  attachments: number;
  /** Comments per post: mean and max. */
  commentsPerPost: { mean: number; max: number };
  /** Body text lengths in characters: mean (min–max) of posts and of comments. */
  postChars: { min: number; mean: number; max: number };
  commentChars: { min: number; mean: number; max: number };
  /** The database's size after ANALYZE (bytes). */
  dbBytes: number;
  seconds: number;
}

/** Posts with `i % HOT_EVERY = 7` are the busy threads that get {@link HOT_SHARE} of the comments. */
const HOT_EVERY = 100;
const HOT_SHARE = 0.2;
/** Rows written per statement. */
const CHUNK = 25_000;
/** Distinct pieces of prose per kind; items pick one by a hash of their number. */
const TEXTS = 2000;
const TAGS = ['roadmap', 'q3', 'q4', 'hiring', 'release', 'incident', 'security', 'billing', 'design', 'customers', 'sales', 'support',
  'infra', 'mobile', 'api', 'data', 'finance', 'legal', 'travel', 'offsite', 'onboarding', 'pricing', 'partners', 'okr', 'allhands',
  'berlin', 'london', 'tokyo', 'newyork', 'docs', 'perf', 'migration', 'vendor', 'audit', 'marketing', 'events', 'training', 'benefits',
  'kudos', 'announcement'];

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

const arr = (xs: string[]) => `array[${xs.map((x) => `'${x.replace(/'/g, "''")}'`).join(',')}]`;
const at = (xs: string[], i: string) => `(${arr(xs)})[1 + (${i}) % ${xs.length}]`;
const any = (xs: string[]) => `(${arr(xs)})[1 + floor(random() * ${xs.length})::int]`;
/** A well-mixed non-negative int from an int expression (Knuth's multiplicative hash). */
const mix = (e: string, salt: number) => `((((${e})::bigint + ${salt}) * 2654435761) % 4294967296 >> 8)::int`;

/** Fill an empty, migrated database; `person0@corp.test` is the benchmark's viewer. */
export async function populateApiData(pool: pg.Pool, o: ApiDataOptions): Promise<ApiDataFacts> {
  const started = performance.now();
  const c = await pool.connect();
  try {
    await c.query('begin');
    await c.query('select setseed($1)', [((o.seed % 1000) + 1) / 1001]);
    // At most n characters of office prose, cut after a full sentence; temp objects live in this session.
    await c.query(`create function pg_temp.bench_text(n int) returns text language sql volatile as $$
      select regexp_replace(left(string_agg(s, ' '), n), '\\.[^.]*$', '.') from (
        select ${any(SUBJECTS)} || ' ' || ${any(VERBS)} || ' ' || ${any(OBJECTS)} || ${any(TAILS)} || '.' as s
        from generate_series(1, 1 + n / 60)) x $$`);
    // Posts 150–2,000 characters (mean ≈ 750), comments 30–800 (mean ≈ 300); most are short.
    await c.query(`create temporary table bench_text on commit drop as
      select i, pg_temp.bench_text(150 + floor(power(random(), 2) * 1850)::int) as post,
                pg_temp.bench_text(30 + floor(power(random(), 1.6) * 770)::int) as comment
      from generate_series(0, ${TEXTS - 1}) i`);
    await c.query('alter table bench_text add primary key (i)');

    await c.query(`insert into groups (slug, name, description)
      select 'bench-g' || g, ${at(TEAMS, 'g')} || ' ' || (g / ${TEAMS.length} + 1), 'Benchmark group ' || g
      from generate_series(0, $1::int - 1) g`, [o.groups]);
    await c.query(`insert into people (email, name, opt_in, opt_in_changed_at, digest_frequency)
      select 'person' || i || '@corp.test', ${at(FIRST, 'i')} || ' ' || ${at(LAST, 'i / 30')}, 'opted_in', now() - interval '400 days', 'off'
      from generate_series(0, $1::int - 1) i`, [o.people]);
    await c.query(`create temporary table bench_people on commit drop as
      select split_part(substr(email, 7), '@', 1)::int as i, id, email from people where email like 'person%@corp.test'`);
    await c.query('alter table bench_people add primary key (i)');
    await c.query(`create temporary table bench_groups on commit drop as
      select substr(slug, 8)::int as i, id from groups where slug like 'bench-g%'`);
    await c.query('alter table bench_groups add primary key (i)');

    // Post n (0 = newest) is about 6 minutes older than post n-1: 100,000 posts cover ~14 months.
    // A twentieth were edited, a few hundredth retracted (tombstones the feed leaves out).
    // The prose is English: its language is given, not guessed (migration 0024's trigger guesses
    // only when a row comes without one), which saves minutes of writing and changes no read.
    // In slices of CHUNK rows: every row also gets its search vector and GIN entries (migration
    // 0024), and one statement for all of them ran past the pool's 60 s query timeout.
    for (let from = 0; from < o.posts; from += CHUNK) {
      await c.query(`insert into posts (group_id, author_id, title, body_text, body_html, source, subject_key, created_at, edited_at, deleted_at, language)
        select g.id, p.id, x.title, t.post, '<p>' || t.post || '</p>', x.src::content_source, lower(x.title), x.at,
               case when x.n % 20 = 3 then x.at + interval '2 hours' end, case when x.n % 300 = 11 then x.at + interval '1 day' end, 'english'::regconfig
        from (select n, ${any(SUBJECTS)} || ': ' || ${any(['update', 'next steps', 'decision needed', 'notes', 'status', 'heads-up'])} as title,
                     case when random() < 0.5 then 'email' else 'esn' end as src,
                     now() - n * interval '6 minutes' - random() * interval '5 minutes' as at
              from generate_series($2::int, least($2::int + ${CHUNK}, $1::int) - 1) n) x
        join bench_groups g on g.i = ${mix('x.n', 1)} % ${o.groups}
        join bench_people p on p.i = ${mix('x.n', 2)} % ${o.people}
        join bench_text t on t.i = ${mix('x.n', 3)} % ${TEXTS}`, [o.posts, from]);
    }
    await c.query(`create temporary table bench_posts on commit drop as
      select (row_number() over (order by created_at desc) - 1)::int as i, id, created_at, source from posts`);
    await c.query('alter table bench_posts add primary key (i)');

    // Comments: most on a post picked at random, the rest on the busy threads (1 post in 100),
    // within 3 days of the post and never in the future; a few edited or retracted.
    const hot = Math.floor(o.comments * HOT_SHARE);
    const hotPosts = Math.max(1, Math.floor(o.posts / HOT_EVERY));
    for (let from = 0; from < o.comments; from += CHUNK) {
      await c.query(`insert into comments (post_id, author_id, body_text, body_html, source, created_at, edited_at, deleted_at, language)
        select bp.id, p.id, t.comment, '<p>' || t.comment || '</p>', x.src::content_source, y.at,
               case when x.n % 50 = 5 then y.at + interval '10 minutes' end, case when x.n % 200 = 9 then y.at + interval '1 hour' end, 'english'::regconfig
        from (select n, case when n < $2::int then 7 + ${HOT_EVERY} * floor(random() * ${hotPosts})::int else floor(random() * $3::int)::int end as pi,
                     case when random() < 0.5 then 'email' else 'esn' end as src, random() as r
              from generate_series($4::int, least($4::int + ${CHUNK}, $1::int) - 1) n) x
        join bench_posts bp on bp.i = x.pi
        cross join lateral (select bp.created_at + x.r * least(now() - bp.created_at, interval '3 days') as at) y
        join bench_people p on p.i = ${mix('x.n', 4)} % ${o.people}
        join bench_text t on t.i = ${mix('x.n', 5)} % ${TEXTS}`, [o.comments, hot, o.posts, from]);
    }

    // Tags: 3 posts in 10 have 1–3 of 40 tags.
    await c.query(`insert into post_tags (post_id, tag, post_created_at)
      select bp.id, (${arr(TAGS)})[1 + (${mix('bp.i', 6)} + k * 13) % ${TAGS.length}], bp.created_at
      from bench_posts bp cross join generate_series(1, 1 + bp.i % 3) k
      where ${mix('bp.i', 7)} % 10 < 3
      on conflict do nothing`);
    // Likes: 0–11 per post (mean ≈ 2.75), by distinct people; the viewer (person 0) likes some.
    await c.query(`insert into reactions (post_id, person_id, kind, created_at)
      select bp.id, p.id, 'like', bp.created_at + interval '1 hour'
      from bench_posts bp
      cross join lateral generate_series(0, floor(power(random(), 3) * 12)::int - 1 + 0 * bp.i) k
      join bench_people p on p.i = (${mix('bp.i', 8)} + k * 37) % ${o.people}`);

    // The mails behind email-sourced posts and comments (their raw source already removed by
    // retention), and a withheld reply (a sender not opted in) on 1 post in 40.
    await c.query(`insert into inbound_messages (mailbox, uid_validity, uid, size, message_id, dedupe_key, state, post_id, comment_id, from_address, subject, internal_date, received_at, processed_at)
      select 'imap://bench@127.0.0.1:143/INBOX', 1, row_number() over (), 4000 + ${mix('row_number() over ()', 9)} % 40000,
             '<bench-' || row_number() over () || '@corp.test>', 'mid:<bench-' || row_number() over () || '@corp.test>',
             x.state::inbound_state, x.post_id, x.comment_id, x.email, x.subject, x.at, x.at, x.at + interval '2 seconds'
      from (
        select 'posted' as state, p.id as post_id, null::uuid as comment_id, a.email, p.title as subject, p.created_at as at
          from posts p join people a on a.id = p.author_id where p.source = 'email'
        union all
        select 'commented', cm.post_id, cm.id, a.email, 'Re: thread', cm.created_at
          from comments cm join people a on a.id = cm.author_id where cm.source = 'email'
        union all
        select 'withheld', bp.id, null, 'outsider' || bp.i || '@partner.test', 'Re: thread', bp.created_at + interval '5 hours'
          from bench_posts bp where ${mix('bp.i', 10)} % 40 = 0
      ) x`);
    // A file on 1 post in 30, from 5 distinct contents.
    await c.query(`insert into attachment_blobs (sha256, content, size)
      select encode(sha256(convert_to('bench-blob-' || k, 'UTF8')), 'hex'), convert_to(repeat('bench-blob-' || k, 200), 'UTF8'), length(repeat('bench-blob-' || k, 200))
      from generate_series(0, 4) k`);
    await c.query(`insert into attachments (post_id, sha256, filename, declared_type, size, position, created_at)
      select bp.id, encode(sha256(convert_to('bench-blob-' || (bp.i % 5), 'UTF8')), 'hex'), 'notes-' || bp.i || '.pdf', 'application/pdf', 2400, 0, bp.created_at
      from bench_posts bp where ${mix('bp.i', 11)} % 30 = 0`);
    await c.query('commit');
  } catch (err) {
    await c.query('rollback');
    throw err;
  } finally {
    c.release();
  }
  await pool.query('vacuum analyze');
  return { ...(await apiDataFacts(pool)), seconds: (performance.now() - started) / 1000 };
}

/** What the data holds, read from the database. */
export async function apiDataFacts(pool: pg.Pool): Promise<Omit<ApiDataFacts, 'seconds'>> {
  const { rows: [r] } = await pool.query<Record<string, string>>(`select
      (select count(*) from posts) as posts, (select count(*) from comments) as comments,
      (select count(*) from groups where slug like 'bench-g%') as groups, (select count(*) from people) as people,
      (select count(*) from post_tags) as tags, (select count(distinct post_id) from post_tags) as tagged,
      (select count(*) from reactions) as likes, (select count(*) from inbound_messages) as inbound,
      (select count(*) from inbound_messages where state = 'withheld') as withheld, (select count(*) from attachments) as attachments,
      (select max(n) from (select count(*) as n from comments group by post_id) x) as max_comments,
      (select min(length(body_text)) from posts) as p_min, (select avg(length(body_text)) from posts) as p_mean, (select max(length(body_text)) from posts) as p_max,
      (select min(length(body_text)) from comments) as c_min, (select avg(length(body_text)) from comments) as c_mean, (select max(length(body_text)) from comments) as c_max,
      pg_database_size(current_database()) as bytes`);
  const n = (k: string) => Number(r![k]);
  return {
    posts: n('posts'), comments: n('comments'), groups: n('groups'), people: n('people'),
    tags: n('tags'), taggedPosts: n('tagged'), likes: n('likes'), inbound: n('inbound'), withheld: n('withheld'), attachments: n('attachments'),
    commentsPerPost: { mean: n('comments') / Math.max(1, n('posts')), max: n('max_comments') },
    postChars: { min: n('p_min'), mean: n('p_mean'), max: n('p_max') },
    commentChars: { min: n('c_min'), mean: n('c_mean'), max: n('c_max') },
    dbBytes: n('bytes'),
  };
}
