import { and, asc, eq, getTableColumns, lte, sql } from 'drizzle-orm';
import type { Tx } from '../client';
import { outboundMessages, people } from '../schema';

export type OutboundRow = typeof outboundMessages.$inferSelect;
export type NewOutbound = typeof outboundMessages.$inferInsert;

/**
 * Write a mail to the outbox (in the caller's transaction). A `dedupeKey` that was used
 * before makes this a no-op: "at most one notice per person per week" is a key.
 * @returns the new row's id, or null when the key was already used.
 */
export async function addOutbound(tx: Tx, values: NewOutbound): Promise<string | null> {
  const rows = await tx
    .insert(outboundMessages)
    .values(values)
    .onConflictDoNothing({ target: outboundMessages.dedupeKey })
    .returning({ id: outboundMessages.id });
  return rows[0]?.id ?? null;
}

export async function getOutbound(db: Tx, id: string): Promise<OutboundRow | undefined> {
  return db.query.outboundMessages.findFirst({ where: eq(outboundMessages.id, id) });
}

export async function finishOutbound(
  db: Tx,
  id: string,
  outcome: { state: 'sent' | 'failed' | 'bounced' | 'cancelled'; error?: string | null },
): Promise<void> {
  await db
    .update(outboundMessages)
    .set({
      state: outcome.state,
      lastError: outcome.error ?? null,
      claimedUntil: null,
      ...(outcome.state === 'sent' ? { sentAt: new Date() } : {}),
    })
    .where(eq(outboundMessages.id, id));
}

/**
 * Claim a pending row for one send attempt (until `now + ms`, on the database clock), and
 * say whether its address is paused after bounces: one round trip. A second run of the same
 * job (a stalled job taken over while the first still talks to the SMTP server) gets nothing
 * and retries later.
 * @returns the row, or undefined when it is not pending or another attempt holds it.
 */
export async function claimOutbound(db: Tx, id: string, ms: number): Promise<(OutboundRow & { paused: boolean }) | undefined> {
  const rows = await db
    .update(outboundMessages)
    .set({ claimedUntil: sql`now() + ${`${ms} milliseconds`}::interval` })
    .where(
      and(
        eq(outboundMessages.id, id),
        eq(outboundMessages.state, 'pending'),
        sql`(${outboundMessages.claimedUntil} is null or ${outboundMessages.claimedUntil} < now())`,
      ),
    )
    .returning({
      ...getTableColumns(outboundMessages),
      paused: sql<boolean>`exists (select 1 from ${people} where ${people.email} = ${outboundMessages.toAddress} and ${people.mailPausedAt} is not null)`,
    });
  return rows[0];
}

/** A row's state only (why a claim found nothing). */
export async function outboundState(db: Tx, id: string): Promise<string | undefined> {
  const rows = await db.select({ state: outboundMessages.state }).from(outboundMessages).where(eq(outboundMessages.id, id)).limit(1);
  return rows[0]?.state;
}

export async function countOutboundAttempt(db: Tx, id: string, error: string): Promise<void> {
  await db
    .update(outboundMessages)
    .set({ attempts: sql`${outboundMessages.attempts} + 1`, lastError: error.slice(0, 500), claimedUntil: null })
    .where(eq(outboundMessages.id, id));
}

/** Pending outbox rows older than `olderThan`, for the reconciler. */
export async function pendingOutbound(db: Tx, olderThan: Date, limit = 1000): Promise<{ id: string }[]> {
  return db
    .select({ id: outboundMessages.id })
    .from(outboundMessages)
    .where(and(eq(outboundMessages.state, 'pending'), lte(outboundMessages.createdAt, olderThan)))
    .orderBy(asc(outboundMessages.createdAt))
    .limit(limit);
}

/** Whether mail to this address is paused after repeated hard bounces. */
export async function isMailPaused(db: Tx, address: string): Promise<boolean> {
  const rows = await db
    .select({ paused: people.mailPausedAt })
    .from(people)
    .where(eq(people.email, address.toLowerCase()))
    .limit(1);
  return Boolean(rows[0]?.paused);
}

/**
 * Record a bounce of one of our mails (found by its VERP token). After `pauseAfter` hard
 * bounces to the same address, mail to it is paused (Mailman uses 5; RELIABILITY F20).
 * @returns whether the address is now paused.
 */
export async function recordBounce(tx: Tx, outboundId: string, hard: boolean, detail: string, pauseAfter = 3): Promise<boolean> {
  // A delay notice (4.x.x) only says the MTA is still trying: the row stays as it is (sent),
  // so the mail is not sent a second time.
  const rows = await tx
    .update(outboundMessages)
    .set(hard ? { state: 'bounced', lastError: detail.slice(0, 500) } : { lastError: detail.slice(0, 500) })
    .where(eq(outboundMessages.id, outboundId))
    .returning({ to: outboundMessages.toAddress });
  const to = rows[0]?.to;
  if (!to || !hard) return false;
  const bounced = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(outboundMessages)
    .where(and(eq(outboundMessages.toAddress, to), eq(outboundMessages.state, 'bounced')));
  if ((bounced[0]?.n ?? 0) < pauseAfter) return false;
  await tx.update(people).set({ mailPausedAt: new Date() }).where(and(eq(people.email, to), sql`${people.mailPausedAt} is null`));
  return true;
}
