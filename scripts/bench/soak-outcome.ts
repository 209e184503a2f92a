/**
 * What became of the soak benchmark's mail, from Blend's own rows: every delivered message
 * must have exactly one inbound row, in a final state, and every published one exactly one
 * post or comment. The expected Message-IDs go into a table of the run's throw-away database
 * so the checks are joins.
 */
import type pg from 'pg';

/** Create `soak_expected` (the run's Message-IDs); the database is dropped after the run. */
export async function recordExpected(pool: pg.Pool, messageIds: string[]): Promise<void> {
  await pool.query('create table soak_expected (message_id text primary key)');
  for (let i = 0; i < messageIds.length; i += 5000) {
    await pool.query('insert into soak_expected (message_id) select unnest($1::text[])', [messageIds.slice(i, i + 5000)]);
  }
}

export interface Progress {
  /** Rows of the run's messages stored by the poller. */
  stored: number;
  /** … of them no longer `received`. */
  final: number;
  /** posts + comments in the database, and rows published (posted/commented). */
  items: number;
  published: number;
}

export async function progress(pool: pg.Pool): Promise<Progress> {
  const { rows } = await pool.query<Progress>(
    `select count(i.id)::int as stored,
            count(i.id) filter (where i.state <> 'received')::int as final,
            (select count(*) from posts)::int + (select count(*) from comments)::int as items,
            (select count(*) from inbound_messages where state in ('posted', 'commented'))::int as published
       from soak_expected e join inbound_messages i on i.message_id = e.message_id`,
  );
  return rows[0]!;
}

export interface Outcome {
  expected: number;
  /** Rows for the run's messages, and how many distinct Message-IDs they carry. */
  rows: number;
  distinctIds: number;
  /** Messages delivered but with no row: lost. */
  missing: number;
  /** Message-IDs with more than one row (a second copy, e.g. `duplicate`). */
  multiRow: number;
  /** Final state (with reason) of the run's rows. */
  states: Record<string, number>;
  stillReceived: number;
  /** Published rows (posted/commented), the posts and comments they point to, and those items' distinct Message-IDs. */
  published: number;
  posts: number;
  comments: number;
  publishedIds: number;
  /** Posts and comments in the database that no row of the run points to (should be 0). */
  orphanItems: number;
  /** Rows of other mail (bounces, if any) by state. */
  other: Record<string, number>;
  /** Mail Blend wrote meanwhile (notices to people), by kind and state. */
  outbound: Record<string, number>;
  big: BigMailOutcome;
}

export interface BigMailOutcome {
  count: number;
  states: Record<string, number>;
  /** Attachments listed for them: stored (downloadable) or omitted with a reason. */
  stored: number;
  omitted: Record<string, number>;
  storedBytes: number;
}

const byState = (rows: { state: string; reason: string | null; n: number }[]) =>
  Object.fromEntries(rows.map((r) => [r.reason ? `${r.state} (${r.reason})` : r.state, r.n]));

/** @param bigIds Message-IDs of the messages with the large attachment */
export async function outcome(pool: pg.Pool, expected: number, bigIds: string[], bigFilePrefix: string): Promise<Outcome> {
  const q = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => (await pool.query<T>(sql, params)).rows;
  const [c] = await q<{ rows: number; ids: number; multi: number; received: number; published: number; pub_ids: number; posts: number; comments: number }>(
    `with mine as (select i.* from soak_expected e join inbound_messages i on i.message_id = e.message_id)
     select (select count(*) from mine)::int as rows,
            (select count(distinct message_id) from mine)::int as ids,
            (select count(*) from (select message_id from mine group by message_id having count(*) > 1) m)::int as multi,
            (select count(*) from mine where state = 'received')::int as received,
            (select count(*) from mine where state in ('posted', 'commented'))::int as published,
            (select count(distinct message_id) from mine where state in ('posted', 'commented'))::int as pub_ids,
            (select count(*) from posts p join mine m on p.inbound_id = m.id)::int as posts,
            (select count(*) from comments k join mine m on k.inbound_id = m.id)::int as comments`,
  );
  const [totals] = await q<{ items: number }>('select (select count(*) from posts)::int + (select count(*) from comments)::int as items');
  const states = await q<{ state: string; reason: string | null; n: number }>(
    `select i.state, i.reason, count(*)::int as n from soak_expected e join inbound_messages i on i.message_id = e.message_id
      group by 1, 2 order by n desc`,
  );
  const other = await q<{ state: string; reason: string | null; n: number }>(
    `select state, reason, count(*)::int as n from inbound_messages i
      where not exists (select 1 from soak_expected e where e.message_id = i.message_id) group by 1, 2 order by n desc`,
  );
  const outbound = await q<{ kind: string; state: string; n: number }>(
    'select kind, state::text, count(*)::int as n from outbound_messages group by 1, 2 order by n desc',
  );
  const bigStates = await q<{ state: string; reason: string | null; n: number }>(
    'select state, reason, count(*)::int as n from inbound_messages where message_id = any($1::text[]) group by 1, 2 order by n desc',
    [bigIds],
  );
  const files = await q<{ omitted: string | null; n: number; bytes: string }>(
    `select a.omitted, count(*)::int as n, coalesce(sum(b.size), 0)::text as bytes
       from attachments a left join attachment_blobs b on b.sha256 = a.sha256
      where a.filename like $1 group by 1`,
    [`${bigFilePrefix}%`],
  );
  return {
    expected,
    rows: c!.rows,
    distinctIds: c!.ids,
    missing: expected - c!.ids,
    multiRow: c!.multi,
    states: byState(states),
    stillReceived: c!.received,
    published: c!.published,
    posts: c!.posts,
    comments: c!.comments,
    publishedIds: c!.pub_ids,
    orphanItems: totals!.items - c!.posts - c!.comments,
    other: byState(other),
    outbound: Object.fromEntries(outbound.map((r) => [`${r.kind} ${r.state}`, r.n])),
    big: {
      count: bigIds.length,
      states: byState(bigStates),
      stored: files.filter((f) => f.omitted === null).reduce((a, f) => a + f.n, 0),
      omitted: Object.fromEntries(files.filter((f) => f.omitted !== null).map((f) => [f.omitted!, f.n])),
      storedBytes: files.filter((f) => f.omitted === null).reduce((a, f) => a + Number(f.bytes), 0),
    },
  };
}

/** Every message has one row, all final, and each published row one post or comment. */
export function nothingLost(o: Outcome): boolean {
  return (
    o.missing === 0 &&
    o.multiRow === 0 &&
    o.rows === o.expected &&
    o.stillReceived === 0 &&
    o.published === o.publishedIds &&
    o.posts + o.comments === o.publishedIds
  );
}
