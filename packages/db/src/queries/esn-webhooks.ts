import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import { EVENT_TYPES, type EventType, type WebhookFilter, type WebhookFormat } from '@blend/core';
import type { Tx } from '../client';
import { events, webhookDeliveries, webhooks } from '../schema';

/** The event types a hook may take (README "Events"). */
export const WEBHOOK_EVENTS = EVENT_TYPES;
export type WebhookEventName = EventType;

export type WebhookRow = typeof webhooks.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;

export async function createWebhook(
  db: Tx,
  h: { url: string; events: WebhookEventName[]; format: WebhookFormat; secret: string; filter?: WebhookFilter },
): Promise<WebhookRow> {
  const [row] = await db.insert(webhooks).values(h).returning();
  return row!;
}

/** Every hook's id and stored (sealed, or from before sealing, plain) signing secret, for `blend mailbox rekey`. */
export async function listWebhookSecrets(db: Tx): Promise<{ id: string; secret: string }[]> {
  return db.select({ id: webhooks.id, secret: webhooks.secret }).from(webhooks).orderBy(asc(webhooks.createdAt));
}

export async function setWebhookSecret(db: Tx, id: string, stored: string): Promise<void> {
  await db.update(webhooks).set({ secret: stored }).where(eq(webhooks.id, id));
}

/** @returns whether a hook with this id existed. Its deliveries go with it. */
export async function deleteWebhook(db: Tx, id: string): Promise<boolean> {
  const rows = await db.delete(webhooks).where(eq(webhooks.id, id)).returning({ id: webhooks.id });
  return rows.length > 0;
}

/** Every hook (without its secret) with its most recent deliveries, newest first. */
export async function listWebhooksWithDeliveries(db: Tx, opts: { deliveriesPerHook: number }) {
  const hooks = await db.select().from(webhooks).orderBy(asc(webhooks.createdAt));
  if (hooks.length === 0) return [];
  const recent = await db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        inArray(webhookDeliveries.webhookId, hooks.map((h) => h.id)),
        sql`${webhookDeliveries.id} in (select d.id from webhook_deliveries d where d.webhook_id = ${webhookDeliveries.webhookId} order by d.created_at desc limit ${opts.deliveriesPerHook})`,
      ),
    )
    .orderBy(desc(webhookDeliveries.createdAt));
  return hooks.map((h) => ({
    id: h.id,
    url: h.url,
    events: h.events,
    format: h.format,
    filter: h.filter,
    active: h.active,
    created_at: h.createdAt.toISOString(),
    deliveries: recent
      .filter((d) => d.webhookId === h.id)
      .map((d) => ({
        id: d.id,
        event: d.event,
        event_id: d.eventId,
        state: d.state,
        attempts: d.attempts,
        last_status: d.lastStatus,
        last_error: d.lastError,
        created_at: d.createdAt.toISOString(),
        delivered_at: d.deliveredAt?.toISOString() ?? null,
      })),
  }));
}

/** A delivery with what is needed to send it. */
export interface PendingWebhookDelivery {
  id: string;
  event: string;
  payload: Record<string, unknown>;
  attempts: number;
  createdAt: Date;
  webhook: { id: string; url: string; format: string; secret: string };
}

const pendingColumns = {
  id: webhookDeliveries.id,
  event: webhookDeliveries.event,
  // A delivery reads its event as it is now (edits and removals rewrite it, docs/SECURITY.md B35).
  payload: sql<Record<string, unknown>>`coalesce(${events.payload}, ${webhookDeliveries.payload})`,
  attempts: webhookDeliveries.attempts,
  createdAt: webhookDeliveries.createdAt,
  webhook: { id: webhooks.id, url: webhooks.url, format: webhooks.format, secret: webhooks.secret },
};

/**
 * Pending deliveries of active hooks that are due, oldest first. Attempt n (0-based) is
 * due `(2^n - 1) * baseDelayMs` after the event, so retries back off exponentially
 * without a schedule column. A delivery waits while the same hook still has an earlier event
 * of the same thread pending, so a receiver that was down gets each thread in order.
 * @param opts.baseDelayMs @defaultValue 30000
 */
export async function pendingWebhookDeliveries(db: Tx, opts: { limit: number; baseDelayMs?: number }): Promise<PendingWebhookDelivery[]> {
  const base = opts.baseDelayMs ?? 30_000;
  return db
    .select(pendingColumns)
    .from(webhookDeliveries)
    .innerJoin(webhooks, eq(webhooks.id, webhookDeliveries.webhookId))
    .leftJoin(events, eq(events.id, webhookDeliveries.eventId))
    .where(
      and(
        eq(webhookDeliveries.state, 'pending'),
        eq(webhooks.active, true),
        sql`${webhookDeliveries.createdAt} + (power(2, least(${webhookDeliveries.attempts}, 20)) - 1) * ${base} * interval '1 millisecond' <= now()`,
        sql`not exists (select 1 from webhook_deliveries earlier join events earlier_event on earlier_event.id = earlier.event_id
          where earlier.webhook_id = ${webhookDeliveries.webhookId} and earlier.state = 'pending'
            and earlier_event.thread_id = ${events.threadId} and earlier_event.sequence < ${events.sequence})`,
      ),
    )
    .orderBy(asc(webhookDeliveries.createdAt))
    .limit(opts.limit);
}

/** One delivery by id (for a job keyed by delivery), whatever its state. */
export async function getWebhookDelivery(db: Tx, id: string): Promise<(PendingWebhookDelivery & { state: string }) | undefined> {
  const [row] = await db
    .select({ ...pendingColumns, state: webhookDeliveries.state })
    .from(webhookDeliveries)
    .innerJoin(webhooks, eq(webhooks.id, webhookDeliveries.webhookId))
    .leftJoin(events, eq(events.id, webhookDeliveries.eventId))
    .where(eq(webhookDeliveries.id, id))
    .limit(1);
  return row;
}

/**
 * Record one attempt. A 2xx answer makes it `delivered`; otherwise it stays `pending`
 * for another try, or becomes `failed` when `final` (e.g. 410 Gone) or after `maxAttempts`.
 * @param outcome.maxAttempts @defaultValue 8
 */
export async function markWebhookDelivery(
  db: Tx,
  id: string,
  outcome: { ok: boolean; status: number | null; error: string | null; final?: boolean; maxAttempts?: number },
): Promise<void> {
  const max = outcome.maxAttempts ?? 8;
  const failedState = outcome.final ? sql`'failed'` : sql`case when ${webhookDeliveries.attempts} + 1 >= ${max} then 'failed' else 'pending' end`;
  await db
    .update(webhookDeliveries)
    .set({
      attempts: sql`${webhookDeliveries.attempts} + 1`,
      lastStatus: outcome.status,
      lastError: outcome.error === null ? null : outcome.error.slice(0, 500),
      state: outcome.ok ? 'delivered' : failedState,
      deliveredAt: outcome.ok ? new Date() : null,
    })
    .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.state, 'pending')));
}
