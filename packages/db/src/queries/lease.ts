import { and, eq, sql } from 'drizzle-orm';
import type { Tx } from '../client';
import { mailboxLeases, pollerProcesses } from '../schema';

/** What the holder reports with each renewal, for `blend mailbox list`. */
export interface LeaseStatus {
  state: string;
  lastError: string | null;
  lastSyncAt: Date | null;
}

/**
 * Take or renew the lease on a mailbox for `ttlMs`. Succeeds when nobody holds it, when
 * `holder` already does, or when the previous holder's lease has expired. The holder's
 * connection state rides along (a renewal is written every few seconds anyway).
 * @returns whether `holder` holds the lease now.
 */
export async function acquireLease(db: Tx, mailbox: string, holder: string, ttlMs: number, status?: LeaseStatus): Promise<boolean> {
  const ttl = sql`now() + ${`${ttlMs} milliseconds`}::interval`;
  const reported = status ? { state: status.state, lastError: status.lastError, lastSyncAt: status.lastSyncAt } : { state: null, lastError: null, lastSyncAt: null };
  const rows = await db
    .insert(mailboxLeases)
    .values({ mailbox, holder, expiresAt: ttl, ...reported })
    .onConflictDoUpdate({
      target: mailboxLeases.mailbox,
      set: {
        holder,
        expiresAt: ttl,
        ...reported,
        acquiredAt: sql`case when ${mailboxLeases.holder} = ${holder} then ${mailboxLeases.acquiredAt} else now() end`,
      },
      setWhere: sql`${mailboxLeases.holder} = ${holder} or ${mailboxLeases.expiresAt} < now()`,
    })
    .returning({ holder: mailboxLeases.holder });
  return rows[0]?.holder === holder;
}

/** Give the lease up (on a clean stop), so another poller takes over at once. */
export async function releaseLease(db: Tx, mailbox: string, holder: string): Promise<void> {
  await db.delete(mailboxLeases).where(and(eq(mailboxLeases.mailbox, mailbox), eq(mailboxLeases.holder, holder)));
}

export async function leaseHolder(db: Tx, mailbox: string): Promise<string | undefined> {
  const rows = await db.select({ holder: mailboxLeases.holder }).from(mailboxLeases).where(eq(mailboxLeases.mailbox, mailbox));
  return rows[0]?.holder;
}

/**
 * This poller process is alive: write its row, forget processes not seen for an hour, and
 * count the processes seen within `ttlMs` (this one included).
 */
export async function pollerHeartbeat(db: Tx, holder: string, ttlMs: number): Promise<number> {
  await db
    .insert(pollerProcesses)
    .values({ holder, seenAt: sql`now()` })
    .onConflictDoUpdate({ target: pollerProcesses.holder, set: { seenAt: sql`now()` } });
  await db.delete(pollerProcesses).where(sql`${pollerProcesses.seenAt} < now() - interval '1 hour'`);
  const rows = await db.execute<{ n: number }>(sql`select count(*)::int as n from ${pollerProcesses} where ${pollerProcesses.seenAt} > now() - ${`${ttlMs} milliseconds`}::interval`);
  return Math.max(1, rows.rows[0]?.n ?? 1);
}

/** A poller process stops: the others count without it at once. */
export async function pollerGone(db: Tx, holder: string): Promise<void> {
  await db.delete(pollerProcesses).where(eq(pollerProcesses.holder, holder));
}
