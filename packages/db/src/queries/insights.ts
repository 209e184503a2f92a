import { sql, type SQL } from 'drizzle-orm';
import type { Channel, ContributionFact, FirstContributionFact, InsightsGroup, MailKind, ReachFact } from '@blend/core';
import type { Tx } from '../client';

/**
 * The facts the participation insights are computed from (docs/ARCHITECTURE.md "Participation
 * insights"): one row per post or comment with its author, channel, group and time, and nothing
 * of its content. The channel is the `source` every post and comment row records when it is
 * written (NOT NULL, no default): `email` for what ingest made of a mail (kept when a merge turns
 * a post into a comment), `esn` for the web UI and the API, reported as `web`.
 *
 * Left out: retracted content and everything of erased people (their rows are tombstones, their
 * person row an `erased-<id>@invalid` placeholder), so an erased person is not even counted.
 */

export interface InsightsFilter {
  /** [from, to) */
  from: Date;
  to: Date;
  /** One group's id, or all groups. */
  groupId?: string | undefined;
}

const channel = (source: string): Channel => (source === 'email' ? 'email' : 'web');
const when = (x: unknown) => new Date(x as string);
const group = (column: SQL, f: InsightsFilter) => (f.groupId ? sql`and ${column} = ${f.groupId}::uuid` : sql``);
const notErased = (person: SQL) => sql`${person}.email <> 'erased-' || ${person}.id || '@invalid'`;

/** The groups a report covers: one, or all of them by name. */
export async function insightsGroups(tx: Tx, slug?: string): Promise<InsightsGroup[]> {
  const rows = await tx.execute<{ id: string; slug: string; name: string }>(
    sql`select id, slug, name from groups ${slug === undefined ? sql`` : sql`where slug = ${slug}`} order by name, slug`,
  );
  return rows.rows;
}

/** Every post and comment written in the range (by people not erased, not retracted). */
export async function contributionFacts(tx: Tx, f: InsightsFilter): Promise<ContributionFact[]> {
  const rows = await tx.execute<{ person_id: string; source: string; kind: 'post' | 'comment'; group_id: string; at: string }>(sql`
    select p.author_id as person_id, p.source, 'post' as kind, p.group_id, p.created_at as at
    from posts p join people a on a.id = p.author_id
    where p.deleted_at is null and p.created_at >= ${f.from} and p.created_at < ${f.to} and ${notErased(sql`a`)} ${group(sql`p.group_id`, f)}
    union all
    select c.author_id, c.source, 'comment', p.group_id, c.created_at
    from comments c join posts p on p.id = c.post_id join people a on a.id = c.author_id
    where c.deleted_at is null and c.created_at >= ${f.from} and c.created_at < ${f.to} and ${notErased(sql`a`)} ${group(sql`p.group_id`, f)}`);
  return rows.rows.map((r) => ({ personId: r.person_id, channel: channel(r.source), kind: r.kind, groupId: r.group_id, at: when(r.at) }));
}

/**
 * People whose first contribution ever (anywhere) falls in the range, with its channel and
 * group, and their first web contribution after it before the range ends.
 */
export async function firstContributionFacts(tx: Tx, f: InsightsFilter): Promise<FirstContributionFact[]> {
  const rows = await tx.execute<{ person_id: string; source: string; group_id: string; at: string; later_web_at: string | null }>(sql`
    with contrib as (
      select author_id, source, group_id, created_at, id from posts where deleted_at is null
      union all
      select c.author_id, c.source, p.group_id, c.created_at, c.id from comments c join posts p on p.id = c.post_id where c.deleted_at is null
    ), firsts as (
      select distinct on (author_id) author_id, source, group_id, created_at from contrib order by author_id, created_at, id
    )
    select f.author_id as person_id, f.source, f.group_id, f.created_at as at,
      min(w.created_at) as later_web_at
    from firsts f
    join people a on a.id = f.author_id
    left join contrib w on w.author_id = f.author_id and w.source = 'esn' and w.created_at > f.created_at and w.created_at < ${f.to}
    where f.created_at >= ${f.from} and f.created_at < ${f.to} and ${notErased(sql`a`)} ${group(sql`f.group_id`, f)}
    group by f.author_id, f.source, f.group_id, f.created_at`);
  return rows.rows.map((r) => ({ personId: r.person_id, channel: channel(r.source), groupId: r.group_id, at: when(r.at), laterWebAt: r.later_web_at === null ? null : when(r.later_web_at) }));
}

/** Outbox kinds reported as notifications: mentions and replies, and ESN comments mirrored to mail. */
const NOTIFICATION_KINDS = ['notification', 'mirror'];

const mailKind = (kind: string): MailKind => (kind === 'digest' ? 'digest' : 'notification');

/**
 * Digests and notification mails sent in the range, and the comments that answered them.
 * A reply is a comment by mail from the mail's recipient, on a thread the mail gave a reply
 * address for, written after the mail was sent and before that address expired, the address
 * having been used; a comment is counted once, for the latest such mail. With a group, only
 * mails about its threads count, and digests (which span groups) not at all.
 */
export async function reachFacts(tx: Tx, f: InsightsFilter): Promise<ReachFact[]> {
  const kinds = f.groupId ? NOTIFICATION_KINDS : ['digest', ...NOTIFICATION_KINDS];
  const kindList = sql.join(kinds.map((k) => sql`${k}`), sql`, `);
  const sent = await tx.execute<{ kind: string; person_id: string; at: string }>(sql`
    select o.kind, o.person_id, o.sent_at as at from outbound_messages o
    ${f.groupId ? sql`join posts p on p.id = o.post_id` : sql``}
    where o.state = 'sent' and o.kind in (${kindList}) and o.person_id is not null and o.sent_at >= ${f.from} and o.sent_at < ${f.to} ${group(sql`p.group_id`, f)}`);
  const replies = await tx.execute<{ kind: string; person_id: string; at: string }>(sql`
    select distinct on (c.id) o.kind, c.author_id as person_id, c.created_at as at
    from comments c
    join posts p on p.id = c.post_id
    join reply_tokens t on t.person_id = c.author_id and t.post_id = c.post_id and t.uses > 0 and c.created_at < t.expires_at
    join outbound_messages o on o.id = t.outbound_id and o.state = 'sent' and o.kind in (${kindList}) and o.sent_at <= c.created_at
    where c.source = 'email' and c.deleted_at is null and c.created_at >= ${f.from} and c.created_at < ${f.to} ${group(sql`p.group_id`, f)}
    order by c.id, o.sent_at desc`);
  return [
    ...sent.rows.map((r) => ({ kind: mailKind(r.kind), event: 'sent' as const, personId: r.person_id, at: when(r.at) })),
    ...replies.rows.map((r) => ({ kind: mailKind(r.kind), event: 'reply' as const, personId: r.person_id, at: when(r.at) })),
  ];
}
