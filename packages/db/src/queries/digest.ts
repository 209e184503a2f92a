import { sql } from 'drizzle-orm';
import type { ActivityItem } from '@blend/core';
import type { Tx } from '../client';

/** A person whose digest is due (or asked for), locked for this run. */
export interface DigestPerson {
  id: string;
  email: string;
  name: string;
  digestFrequency: 'off' | 'hourly' | 'daily' | 'weekly';
  digestTime: string;
  digestWeekday: number;
  timezone: string;
  lastDigestAt: Date | null;
  nextDigestAt: Date | null;
}

const personColumns = sql`id, email, name, digest_frequency as "digestFrequency", digest_time as "digestTime",
  digest_weekday as "digestWeekday", timezone, last_digest_at as "lastDigestAt", next_digest_at as "nextDigestAt"`;

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
  const rows = await tx.execute<RawPerson>(sql`
    select ${personColumns} from people
    where digest_frequency <> 'off' and opt_in <> 'opted_out' and mail_paused_at is null
      and (next_digest_at is null or next_digest_at <= ${now})
    order by next_digest_at nulls first
    limit ${limit}
    for update skip locked`);
  return rows.rows.map(toPerson);
}

/** One person by address, locked, for `blend digest --now --person`. */
export async function lockDigestPerson(tx: Tx, email: string): Promise<DigestPerson | undefined> {
  const rows = await tx.execute<RawPerson>(sql`select ${personColumns} from people where email = ${email.toLowerCase()} for update`);
  return rows.rows.map(toPerson)[0];
}

export async function setDigestSchedule(tx: Tx, personId: string, s: { lastDigestAt: Date | null; nextDigestAt: Date | null }): Promise<void> {
  await tx.execute(sql`update people set last_digest_at = ${s.lastDigestAt}, next_digest_at = ${s.nextDigestAt} where id = ${personId}`);
}

type RawItem = Omit<ActivityItem, 'at'> & { at: string | Date };

/**
 * What one person may see in a digest: posts and comments in (since, until] by others, in
 * threads of groups they follow or belong to, threads they started, took part in (by mail or
 * on the ESN) or follow, and anything that mentions them; nothing retracted, nothing from a
 * thread they muted. Newest first, at most `limit` items.
 */
export async function digestActivity(tx: Tx, personId: string, since: Date, until: Date, limit = 400): Promise<ActivityItem[]> {
  const rows = await tx.execute<RawItem>(sql`
    with me as (select ${personId}::uuid as id),
    threads as (
      select p.id from posts p, me
      where p.deleted_at is null
        and not exists (select 1 from thread_mutes tm where tm.post_id = p.id and tm.person_id = me.id)
        and (p.author_id = me.id
          or p.group_id in (select group_id from follows where person_id = me.id and group_id is not null)
          or p.group_id in (select group_id from group_members where person_id = me.id)
          or exists (select 1 from follows f where f.person_id = me.id and f.post_id = p.id)
          or exists (select 1 from thread_participants tp where tp.post_id = p.id and tp.person_id = me.id)
          or exists (select 1 from comments c2 where c2.post_id = p.id and c2.author_id = me.id and c2.deleted_at is null))
    ),
    items as (
      select 'post' as kind, p.id as "postId", null::uuid as "commentId", p.author_id, p.source, p.body_text as text, p.created_at as at,
             exists (select 1 from mentions m, me where m.post_id = p.id and m.comment_id is null and m.person_id = me.id) as "mentionsMe"
      from posts p
      where p.created_at > ${since} and p.created_at <= ${until} and p.deleted_at is null
      union all
      select 'comment', c.post_id, c.id, c.author_id, c.source, c.body_text, c.created_at,
             exists (select 1 from mentions m, me where m.comment_id = c.id and m.person_id = me.id)
      from comments c
      where c.created_at > ${since} and c.created_at <= ${until} and c.deleted_at is null
    )
    select i.kind, i."postId", i."commentId", p.title as "threadTitle", g.name as "groupName",
           a.name as "authorName", a.email as "authorEmail", i.source, i.text, i.at, i."mentionsMe"
    from items i
    join posts p on p.id = i."postId" and p.deleted_at is null
    join groups g on g.id = p.group_id
    join people a on a.id = i.author_id, me
    where i.author_id <> me.id
      and (i."postId" in (select id from threads) or i."mentionsMe")
      and not exists (select 1 from thread_mutes tm where tm.post_id = i."postId" and tm.person_id = me.id)
    order by i.at desc
    limit ${limit}`);
  return rows.rows.map((r) => ({ ...r, at: new Date(r.at) }));
}
