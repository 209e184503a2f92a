import { assignEventPositions, getWebhookDelivery, markWebhookDelivery, pendingWebhookDeliveries, type Database } from '@blend/db';
import { webhookRequest, webhookSigningSecret } from '@blend/core';
import type { Logger } from '@blend/runtime';
import { enqueueWebhook, type WebhookJob } from '@blend/queue';
import type { Queue } from 'bullmq';
import { requestPinned, resolveWebhookTarget, type ResolveAll } from '@blend/outbound';

export interface WebhookDeps {
  db: Database;
  log: Logger;
  /** @defaultValue 10000 */
  timeoutMs?: number;
  /** BLEND_WEBHOOK_ALLOW_PRIVATE: receivers on loopback or private addresses are allowed. @defaultValue false */
  allowPrivate?: boolean;
  /** BLEND_SECRET then BLEND_SECRET_PREVIOUS: open the hooks' sealed signing secrets. */
  secrets?: readonly (string | undefined)[];
  /** For tests: how host names are resolved. */
  resolve?: ResolveAll;
  /** BLEND_PUBLIC_URL: the `source` of CloudEvents envelopes. */
  publicUrl?: string;
  /**
   * Called after a delivery succeeded: the next event of its thread may wait for it, so the
   * worker queues what is due now rather than at its next scan.
   */
  onDelivered?: () => Promise<unknown>;
}

/**
 * `webhook`: POST one delivery to its hook, signed, to an address checked as allowed
 * (`resolveWebhookTarget`). 2xx delivers it; 410 Gone stops it;
 * anything else is tried again later (the row's attempt count sets the backoff). The job
 * id includes the attempt number, so two workers scanning at once send an attempt once.
 */
export async function deliverWebhook(job: WebhookJob, deps: WebhookDeps): Promise<'delivered' | 'retry' | 'skipped'> {
  const d = await getWebhookDelivery(deps.db, job.deliveryId);
  if (!d || d.state !== 'pending' || d.attempts !== job.attempt) return 'skipped';
  const req = webhookRequest({ ...d.webhook, secret: webhookSigningSecret(d.webhook.secret, deps.secrets ?? []) }, d, new Date(), deps.publicUrl ? { source: deps.publicUrl } : {});
  let status: number | null = null;
  let error: string | null = null;
  try {
    // Checked again at every attempt: the name may point elsewhere since the hook was created.
    const target = await resolveWebhookTarget(req.url, { allowPrivate: deps.allowPrivate ?? false, ...(deps.resolve ? { resolve: deps.resolve } : {}) });
    status = await requestPinned(target, req, deps.timeoutMs ?? 10_000);
  } catch (err) {
    error = (err as Error).message;
  }
  const ok = status !== null && status >= 200 && status < 300;
  await markWebhookDelivery(deps.db, d.id, { ok, status, error: ok ? null : (error ?? `HTTP ${status}`), final: status === 410 });
  deps.log.info({ deliveryId: d.id, webhookId: d.webhook.id, status, ok }, 'webhook delivery');
  if (ok) await deps.onDelivered?.().catch((err: unknown) => deps.log.warn({ err }, 'webhook scan after a delivery failed; the periodic scan will queue it'));
  return ok ? 'delivered' : 'retry';
}

/**
 * Queue every delivery that is due (run every few seconds by each worker), and give newly
 * committed events their stream position for `GET /api/v1/events`.
 */
export async function scanWebhooks(db: Database, queue: Queue<WebhookJob>, baseDelayMs?: number): Promise<number> {
  await assignEventPositions(db);
  const due = await pendingWebhookDeliveries(db, { limit: 200, ...(baseDelayMs ? { baseDelayMs } : {}) });
  for (const d of due) await enqueueWebhook(queue, { deliveryId: d.id, attempt: d.attempts });
  return due.length;
}
