import { sql } from 'drizzle-orm';
import type { ActivityItem } from '@blend/core';
import type { Tx } from '../client';
import { groupVisibleTo } from './groups';
import { preparedSql } from './raw-statement';

/** A person whose digest is due (or asked for), locked for this run. */
export interface DigestPerson {
  id: string;
  email: string;
  name: string;
  digestFrequency: 'off' | 'hourly' | 'daily' | 'weekly';
  digestTime: string;
  digestWeekday: number;
  timezone: string;
  /** The person's language; null = the organisation's default. */
  language: string | null;
  lastDigestAt: Date | null;
  nextDigestAt: Date | null;
}

const personColumns = sql`id, email, name, digest_frequency as "digestFrequency", digest_time as "digestTime",
  digest_weekday as "digestWeekday", timezone, language, last_digest_at as "lastDigestAt", next_digest_at as "nextDigestAt"`;

type RawPerson = Omit<DigestPerson, 'lastDigestAt' | 'nextDigestAt'> & { lastDigestAt: string | Date | null; nextDigestAt: string | Date | null };
const toPerson = (r: RawPerson): DigestPerson => ({
  ...r,
  lastDigestAt: r.lastDigestAt ? new Date(r.lastDigestAt) : null,
  nextDigestAt: r.nextDigestAt ? new Date(r.nextDigestAt) : null,
});

/**
 * People whose digest is due at `now`, or who have no schedule yet, locked so that several
 * workers never build the same person's digest (rows another run holds are skipped).
 * Opted-out people and addresses paused after bounces get no digest.
 */
export async function lockDueDigestPeople(tx: Tx, now: Date, limit: number): Promise<DigestPerson[]> {
  const rows = await lockDueStatement(tx, { now, limit });
  return rows.rows.map(toPerson);
}

/** {@link lockDueDigestPeople}'s statement, once per batch of a digest run: built once, named. */
const lockDueStatement = preparedSql<RawPerson>(
  'blend_lock_due_digest_people',
  () => sql`
    select ${personColumns} from people
    where digest_frequency <> 'off' and opt_in <> 'opted_out' and mail_paused_at is null
      and (next_digest_at is null or next_digest_at <= ${sql.placeholder('now')}::timestamptz)
    order by next_digest_at nulls first
    limit ${sql.placeholder('limit')}::int
    for update skip locked`,
);

/** One person by address, locked, for `blend digest --now --person`. */
export async function lockDigestPerson(tx: Tx, email: string): Promise<DigestPerson | undefined> {
  const rows = await tx.execute<RawPerson>(sql`select ${personColumns} from people where email = ${email.toLowerCase()} for update`);
  return rows.rows.map(toPerson)[0];
}

export async function setDigestSchedule(tx: Tx, personId: string, s: { lastDigestAt: Date | null; nextDigestAt: Date | null }): Promise<void> {
  await tx.execute(sql`update people set last_digest_at = ${s.lastDigestAt}, next_digest_at = ${s.nextDigestAt} where id = ${personId}`);
}

/** {@link setDigestSchedule} for a whole batch in one statement. */
export async function setDigestSchedules(tx: Tx, rows: { personId: string; lastDigestAt: Date | null; nextDigestAt: Date | null }[]): Promise<void> {
  if (rows.length === 0) return;
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  await setSchedulesStatement(tx, { ids: rows.map((r) => r.personId), last: rows.map((r) => iso(r.lastDigestAt)), next: rows.map((r) => iso(r.nextDigestAt)) });
}

/** {@link setDigestSchedules}' statement: the same text whatever the batch's size, so built once and named. */
const setSchedulesStatement = preparedSql(
  'blend_set_digest_schedules',
  () => sql`
    update people set last_digest_at = s.last, next_digest_at = s.next
    from unnest(${sql.placeholder('ids')}::uuid[], ${sql.placeholder('last')}::timestamptz[], ${sql.placeholder('next')}::timestamptz[]) as s(id, last, next)
    where people.id = s.id`,
);

type RawItem = Omit<ActivityItem, 'at'> & { at: string | Date };

/**
 * What one person may see in a digest: posts and comments in (since, until] by others, in
 * threads of groups they follow or belong to, threads they started, took part in (by mail or
 * on the ESN) or follow, and anything that mentions them; nothing retracted, nothing from a
 * thread they muted. Newest first, at most `limit` items.
 */
export async function digestActivity(tx: Tx, personId: string, since: Date, until: Date, limit = 400): Promise<ActivityItem[]> {
  return (await digestActivityBatch(tx, [{ personId, since }], until, limit)).get(personId) ?? [];
}

/**
 * {@link digestActivity} for many people in one statement (a digest run's batch): the
 * activity of the window is read once, not once per person. Each person gets the items in
 * their own (since, until], newest first, at most `limit`.
 * @returns the items by person id; a person with nothing to see has no entry.
 */
export async function digestActivityBatch(
  tx: Tx,
  people: { personId: string; since: Date }[],
  until: Date,
  limit = 400,
): Promise<Map<string, ActivityItem[]>> {
  const out = new Map<string, ActivityItem[]>();
  // One statement reads the window from its oldest `since` for everyone in it, so people whose
  // windows start far apart (a digest turned back on after months) get statements of their own.
  const sorted = [...people].sort((a, b) => a.since.getTime() - b.since.getTime());
  for (let i = 0; i < sorted.length; ) {
    let j = i + 1;
    while (j < sorted.length && sorted[j]!.since.getTime() - sorted[i]!.since.getTime() <= WINDOW_SPREAD_MS) j++;
    await activityOf(tx, sorted.slice(i, j), until, limit, out);
    i = j;
  }
  return out;
}

/** Largest difference of `since` within one statement of {@link digestActivityBatch}. */
const WINDOW_SPREAD_MS = 8 * 86_400_000;

async function activityOf(tx: Tx, people: { personId: string; since: Date }[], until: Date, limit: number, out: Map<string, ActivityItem[]>): Promise<void> {
  const from = people[0]!.since;
  // `key` is the item's own id (the post's or the comment's), so items join on (kind, key).
  // Visibility is decided for the threads of the window only (`wp`), with joins rather than
  // a test per post of the whole feed.
  const rows = await tx.execute<RawItem & { personId: string }>(sql`
    with me as materialized (
      select * from unnest(${sql.param(people.map((p) => p.personId))}::uuid[], ${sql.param(people.map((p) => p.since.toISOString()))}::timestamptz[]) as t(id, since)
    ),
    win as materialized (
      select 'post' as kind, p.id as key, p.id as "postId", null::uuid as "commentId", p.author_id, p.source, p.body_text as text, p.created_at as at
      from posts p
      where p.created_at > ${from} and p.created_at <= ${until} and p.deleted_at is null
      union all
      select 'comment', c.id, c.post_id, c.id, c.author_id, c.source, c.body_text, c.created_at
      from comments c
      where c.created_at > ${from} and c.created_at <= ${until} and c.deleted_at is null
    ),
    wp as materialized (
      select p.id, p.author_id, p.group_id from posts p
      where p.deleted_at is null and p.id in (select "postId" from win)
    ),
    seen as (
      select me.id as person_id, wp.id as post_id from me join wp on wp.author_id = me.id
      union select f.person_id, wp.id from follows f join me on me.id = f.person_id join wp on wp.group_id = f.group_id
      union select gm.person_id, wp.id from group_members gm join me on me.id = gm.person_id join wp on wp.group_id = gm.group_id
      union select f.person_id, f.post_id from follows f join me on me.id = f.person_id join wp on wp.id = f.post_id
      union select tp.person_id, tp.post_id from thread_participants tp join me on me.id = tp.person_id join wp on wp.id = tp.post_id
      union select c.author_id, c.post_id from comments c join me on me.id = c.author_id join wp on wp.id = c.post_id where c.deleted_at is null
    ),
    mentioned as materialized (
      select m.person_id, 'post' as kind, m.post_id as key from mentions m join me on me.id = m.person_id where m.comment_id is null
      union
      select m.person_id, 'comment', m.comment_id from mentions m join me on me.id = m.person_id where m.comment_id is not null
    ),
    cand as (
      select s.person_id, i.kind, i.key from seen s join win i on i."postId" = s.post_id
      union
      select person_id, kind, key from mentioned
    ),
    ranked as (
      select me.id as "personId", i.kind, i."postId", i."commentId", p.title as "threadTitle", g.name as "groupName",
             a.name as "authorName", a.email as "authorEmail", i.source, i.text, i.at, mm.person_id is not null as "mentionsMe",
             row_number() over (partition by me.id order by i.at desc) as n
      from cand c
      join me on me.id = c.person_id
      join win i on i.kind = c.kind and i.key = c.key
      join posts p on p.id = i."postId" and p.deleted_at is null
      join groups g on g.id = p.group_id
      join people a on a.id = i.author_id
      left join mentioned mm on mm.person_id = me.id and mm.kind = i.kind and mm.key = i.key
      where i.at > me.since and i.author_id <> me.id
        -- A private group's threads only for its members, whatever brought them here (docs/SECURITY.md, private groups).
        and ${groupVisibleTo(sql`p.group_id`, sql`me.id`)}
        and not exists (select 1 from thread_mutes tm where tm.post_id = i."postId" and tm.person_id = me.id)
    )
    select "personId", kind, "postId", "commentId", "threadTitle", "groupName", "authorName", "authorEmail", source, text, at, "mentionsMe"
    from ranked where n <= ${limit}
    order by "personId", at desc`);
  for (const { personId, ...r } of rows.rows) {
    const item = { ...r, at: new Date(r.at) };
    const list = out.get(personId);
    if (list) list.push(item);
    else out.set(personId, [item]);
  }
}
