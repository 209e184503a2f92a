import { asc, gt, inArray, sql } from 'drizzle-orm';
import { events } from '../schema';
import type { Tx } from '../client';
import { assignEventPositions } from './events';
import { groupVisibleTo } from './groups';

/**
 * The live stream's reads (docs/ARCHITECTURE.md "Events", "Live updates"): the events committed
 * after a position, and, for a batch of them, which of a set of readers may see each one — in
 * one statement per batch, whatever the number of readers.
 */

export interface StreamEvent {
  id: string;
  position: number;
  type: string;
  payload: Record<string, unknown>;
}

/** Events placed after `after`, oldest first (placing newly committed ones first). */
export async function streamEventsAfter(db: Tx, after: number, limit = 500): Promise<StreamEvent[]> {
  await assignEventPositions(db);
  const rows = await db
    .select({ id: events.id, position: events.position, type: events.type, payload: events.payload })
    .from(events)
    .where(gt(events.position, after))
    .orderBy(asc(events.position))
    .limit(limit);
  return rows.map((r) => ({ id: r.id, position: r.position!, type: r.type, payload: r.payload as Record<string, unknown> }));
}

/** The latest placed position (0 for none): where a fresh reader starts. */
export async function latestEventPosition(db: Tx): Promise<number> {
  await assignEventPositions(db);
  const [row] = await db.select({ max: sql<string | null>`max(${events.position})` }).from(events);
  return Number(row?.max ?? 0);
}

/** The position of an event id (for `Last-Event-ID`), or null when it names none. */
export async function eventPositionOf(db: Tx, id: string): Promise<number | null> {
  const [row] = await db.select({ position: events.position }).from(events).where(inArray(events.id, [id]));
  return row?.position ?? null;
}

/**
 * Which of `viewers` may see which of `eventIds`, as pairs. The rules are the lists' own
 * (visibility.ts; docs/SECURITY.md, private groups): a new or changed post or a like only while
 * the post is visible to the reader, a comment only while it and its post are; a removal or a
 * merge to whoever may see the group (the item itself is gone, the reader's page may still show
 * it). Events with no group (a person erased) go to nobody.
 */
export async function streamVisibility(db: Tx, eventIds: readonly string[], viewers: readonly string[]): Promise<Array<{ eventId: string; viewer: string }>> {
  if (eventIds.length === 0 || viewers.length === 0) return [];
  const v = sql.raw('sv.viewer');
  const r = await db.execute<{ event_id: string; viewer: string }>(sql`
    select e.id as event_id, sv.viewer as viewer
    from ${events} e
    cross join unnest(${`{${viewers.join(',')}}`}::uuid[]) as sv(viewer)
    left join posts sp on sp.id = e.post_id
    left join comments sc on sc.id = e.comment_id
    where e.id = any(${`{${eventIds.join(',')}}`}::uuid[])
      and e.group_id is not null
      and ${groupVisibleTo(sql.raw('e.group_id'), v)}
      and (
        e.type in ('post.deleted', 'comment.deleted', 'post.merged')
        or (e.type in ('post.created', 'post.updated', 'reaction.created', 'reaction.deleted') and sp.deleted_at is null and sp.id is not null)
        or (e.type in ('comment.created', 'comment.updated') and sp.deleted_at is null and sc.deleted_at is null and sc.id is not null)
      )`);
  return r.rows.map((x) => ({ eventId: x.event_id, viewer: x.viewer }));
}

/**
 * Of the credentials open streams came with, those that no longer hold: API tokens revoked or
 * expired, web sessions revoked or past their expiry (docs/SECURITY.md B41). One statement for
 * every open stream; an erased person's tokens and sessions are gone, so theirs are listed too.
 */
export async function endedStreamCredentials(db: Tx, c: { tokenIds: readonly string[]; sessionIds: readonly string[] }): Promise<Set<string>> {
  const tokens = `{${c.tokenIds.join(',')}}`;
  const sessions = `{${c.sessionIds.join(',')}}`;
  const r = await db.execute<{ id: string }>(sql`
    select t.id::text as id from unnest(${tokens}::uuid[]) as t(id)
      where not exists (select 1 from api_tokens a where a.id = t.id and a.revoked_at is null and (a.expires_at is null or a.expires_at > now()))
    union all
    select s.id::text from unnest(${sessions}::uuid[]) as s(id)
      where not exists (select 1 from web_sessions w where w.id = s.id and w.revoked_at is null and w.expires_at > now())`);
  return new Set(r.rows.map((x) => x.id));
}
