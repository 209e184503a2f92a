import { and, inArray, isNotNull, lt, sql } from 'drizzle-orm';
import type { Tx } from '../client';
import { events, inboundMessages, notifications, outboundMessages, webhookDeliveries } from '../schema';
import { purgeEndedWebSessions } from './web-sessions';
import { RETENTION_LOCK } from '../migrate';

export interface RetentionPolicy {
  /** Raw mail of processed messages is purged after this many days. */
  rawDays: number;
  /** Withheld mail (kept for a late opt-in) is purged after this many days. */
  withheldDays: number;
  /** Finished outbound rows are deleted after this many days. */
  outboundDays: number;
  /** Events and finished webhook deliveries are deleted after this many days. @defaultValue 30 */
  eventDays?: number;
}

/**
 * Take the retention lock for the rest of the transaction, without waiting.
 * @returns false when another worker holds it.
 */
export async function tryRetentionLock(tx: Tx): Promise<boolean> {
  const got = await tx.execute<{ ok: boolean }>(sql`select pg_try_advisory_xact_lock(${RETENTION_LOCK}) as ok`);
  return Boolean(got.rows[0]?.ok);
}

/**
 * Purge what the retention policy says has expired. Rows of inbound mail stay (their state
 * and reason are the record); only the raw source goes. The audit log is never purged.
 * Runs on the database clock.
 */
export async function purgeExpired(tx: Tx, p: RetentionPolicy): Promise<{ raw: number; withheld: number; outbound: number; events: number }> {
  const daysAgo = (d: number) => sql`now() - ${`${d} days`}::interval`;
  const raw = await tx
    .update(inboundMessages)
    .set({ raw: null })
    .where(
      and(
        isNotNull(inboundMessages.raw),
        // Not `held`: a held mail waits for a person or IT and keeps its source however long that takes.
        inArray(inboundMessages.state, ['posted', 'commented', 'liked', 'command', 'rejected', 'duplicate', 'failed']),
        lt(inboundMessages.receivedAt, daysAgo(p.rawDays)),
      ),
    )
    .returning({ id: inboundMessages.id });
  const withheld = await tx
    .update(inboundMessages)
    .set({ raw: null, subject: null })
    .where(and(isNotNull(inboundMessages.raw), inArray(inboundMessages.state, ['withheld']), lt(inboundMessages.receivedAt, daysAgo(p.withheldDays))))
    .returning({ id: inboundMessages.id });
  const outbound = await tx
    .delete(outboundMessages)
    .where(and(inArray(outboundMessages.state, ['sent', 'cancelled', 'failed', 'bounced']), lt(outboundMessages.createdAt, daysAgo(p.outboundDays))))
    .returning({ id: outboundMessages.id });
  // Notifications that became mail (or were dropped) go with the outbound rows.
  await tx.delete(notifications).where(and(inArray(notifications.state, ['sent', 'dropped']), lt(notifications.createdAt, daysAgo(p.outboundDays))));
  // Web sessions that have ended are of no use to anyone (docs/SECURITY.md S1).
  await purgeEndedWebSessions(tx);
  const expiredEvents = await purgeExpiredEvents(tx, p.eventDays ?? 30);
  return { raw: raw.length, withheld: withheld.length, outbound: outbound.length, events: expiredEvents };
}

/**
 * The events outbox and its deliveries past BLEND_EVENT_RETENTION_DAYS (docs/ARCHITECTURE.md
 * "Events"): delivered and failed deliveries go, then events no hook still waits for. Kept
 * whatever their age: an event with a pending delivery, one not yet given a stream position,
 * the latest event of each thread (the next one's sequence follows it) and the latest of the
 * whole stream (the next position follows it, so a pull cursor never goes back).
 * @returns how many events were deleted.
 */
async function purgeExpiredEvents(tx: Tx, days: number): Promise<number> {
  const cutoff = sql`now() - ${`${days} days`}::interval`;
  await tx.delete(webhookDeliveries).where(and(inArray(webhookDeliveries.state, ['delivered', 'failed']), lt(webhookDeliveries.createdAt, cutoff)));
  const gone = await tx
    .delete(events)
    .where(
      and(
        lt(events.createdAt, cutoff),
        isNotNull(events.position),
        sql`not exists (select 1 from ${webhookDeliveries} d where d.event_id = ${events.id} and d.state = 'pending')`,
        sql`(${events.threadId} is null or exists (select 1 from ${events} later where later.thread_id = ${events.threadId} and later.sequence > ${events.sequence}))`,
        sql`${events.position} < (select max(top.position) from ${events} top)`,
      ),
    )
    .returning({ id: events.id });
  return gone.length;
}
