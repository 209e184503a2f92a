import { Gauge } from 'prom-client';
import type { Metrics } from '@blend/runtime';
import { heldCountsByReason, heldSummary, notifyQueueUsage, pendingNotificationCount, pendingOutboundCount, pollLagSeconds, type Database } from '@blend/db';
import { QueueName, type Queues } from '@blend/queue';
import type { FeedCache } from './feed-cache';

/**
 * Gauges computed when Prometheus scrapes: queue depths, poll lag (age of the oldest
 * message stored but not ingested) and how much mail is held for IT. Registered once per
 * registry, by the API.
 */
export function registerScrapeGauges(
  metrics: Metrics,
  deps: { db: Database; queues: Pick<Queues, 'ingest' | 'send'> & Partial<Pick<Queues, 'ingestBacklog' | 'webhook' | 'digest' | 'notify'>>; feedCache?: FeedCache },
): void {
  const registers = [metrics.registry];
  if (metrics.registry.getSingleMetric('blend_queue_depth')) return;
  new Gauge({
    name: 'blend_queue_depth',
    help: 'Jobs per queue and state',
    labelNames: ['queue', 'state'] as const,
    registers,
    async collect() {
      const queues = [[QueueName.ingest, deps.queues.ingest], [QueueName.ingestBacklog, deps.queues.ingestBacklog], ['send', deps.queues.send], ['webhook', deps.queues.webhook], ['digest', deps.queues.digest], ['notify', deps.queues.notify]] as const;
      for (const [name, q] of queues) {
        if (!q) continue;
        const counts = await q.getJobCounts('waiting', 'active', 'delayed', 'failed');
        for (const [state, n] of Object.entries(counts)) this.set({ queue: name, state }, n);
      }
    },
  });
  new Gauge({
    name: 'blend_poll_lag_seconds',
    help: 'Age of the oldest inbound message that is stored but not converted yet (0 when none)',
    registers,
    async collect() {
      this.set(await pollLagSeconds(deps.db));
    },
  });
  new Gauge({
    name: 'blend_inbound_held',
    help: 'Inbound messages held for a person or IT to act on (quarantine, confidentiality, outsiders)',
    labelNames: ['reason'] as const,
    registers,
    async collect() {
      this.reset();
      for (const row of await heldCountsByReason(deps.db)) this.set({ reason: row.reason }, row.n);
    },
  });
  new Gauge({
    name: 'blend_inbound_held_oldest_seconds',
    help: 'Age of the oldest held inbound message (0 when none): alert when mail waits on IT for too long',
    registers,
    async collect() {
      this.set((await heldSummary(deps.db)).oldestAgeSeconds);
    },
  });
  new Gauge({
    name: 'blend_notifications_pending',
    help: 'Notifications, mirrored comments and corrections waiting for their time (coalescing window, quiet hours)',
    registers,
    async collect() {
      this.set(await pendingNotificationCount(deps.db));
    },
  });
  new Gauge({
    name: 'blend_pg_notify_queue_usage',
    help: "Share (0-1) of Postgres' NOTIFY queue in use; it grows while a listening session (an API's feed cache) stops reading, and writes fail when it is full",
    registers,
    async collect() {
      this.set(await notifyQueueUsage(deps.db));
    },
  });
  if (deps.feedCache) {
    const cache = deps.feedCache;
    new Gauge({
      name: 'blend_api_feed_cache_active',
      help: "1 while this API process hears Postgres' feed change notifications and serves cached feed pages, 0 while it reads every page afresh",
      registers,
      collect() {
        this.set(cache.active ? 1 : 0);
      },
    });
  }
  new Gauge({
    name: 'blend_outbound_pending',
    help: 'Outbound mails waiting to be sent',
    registers,
    async collect() {
      this.set(await pendingOutboundCount(deps.db));
    },
  });
}
