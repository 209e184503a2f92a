import { sql } from 'drizzle-orm';
import type { Tx } from '../client';

/** Age in seconds of the oldest inbound message stored but not ingested yet (0 when none). */
export async function pollLagSeconds(db: Tx): Promise<number> {
  const r = await db.execute<{ age: number | null }>(sql`select extract(epoch from now() - min(received_at))::float as age from inbound_messages where state = 'received'`);
  return Number(r.rows[0]?.age ?? 0);
}

/** Held inbound messages per hold reason ('' for none). */
export async function heldCountsByReason(db: Tx): Promise<{ reason: string; n: number }[]> {
  const r = await db.execute<{ reason: string; n: number }>(sql`select coalesce(reason, '') as reason, count(*)::int as n from inbound_messages where state = 'held' group by reason`);
  return r.rows;
}

/** Notifications waiting for their time (coalescing window, quiet hours). */
export async function pendingNotificationCount(db: Tx): Promise<number> {
  const r = await db.execute<{ n: number }>(sql`select count(*)::int as n from notifications where state = 'pending'`);
  return r.rows[0]?.n ?? 0;
}

/** Outbound mails waiting to be sent. */
export async function pendingOutboundCount(db: Tx): Promise<number> {
  const r = await db.execute<{ n: number }>(sql`select count(*)::int as n from outbound_messages where state = 'pending'`);
  return r.rows[0]?.n ?? 0;
}

/** Share (0-1) of Postgres' NOTIFY queue in use. */
export async function notifyQueueUsage(db: Tx): Promise<number> {
  const r = await db.execute<{ usage: number }>(sql`select pg_notification_queue_usage()::float as usage`);
  return Number(r.rows[0]?.usage ?? 0);
}
