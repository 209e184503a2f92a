import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Blend's Prometheus metrics, all prefixed `blend_`. One registry per process; in
 * `pnpm start` the three services share it, so every `/metrics` shows the whole process.
 */
export function createMetrics() {
  const registry = new Registry();
  // prom-client's defaults are already named process_* and nodejs_*: the prefix is only ours
  // (blend_process_cpu_seconds_total, blend_nodejs_heap_size_used_bytes).
  collectDefaultMetrics({ register: registry, prefix: 'blend_' });
  const m = {
    registry,
    inbound: new Counter({
      name: 'blend_inbound_messages_total',
      help: 'Inbound messages by final state and reason',
      labelNames: ['state', 'reason'] as const,
      registers: [registry],
    }),
    ingestLatency: new Histogram({
      name: 'blend_ingest_latency_seconds',
      help: 'From delivery to the mailbox (IMAP INTERNALDATE) to the committed post or comment',
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: 'blend_job_duration_seconds',
      help: 'Duration of queue jobs by queue and outcome',
      labelNames: ['queue', 'outcome'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers: [registry],
    }),
    trimmedShare: new Histogram({
      name: 'blend_trimmed_text_ratio',
      help: 'Share of a message body removed as quotes, signatures and footers',
      buckets: [0, 0.1, 0.25, 0.5, 0.75, 0.9, 1],
      registers: [registry],
    }),
    outbound: new Counter({
      name: 'blend_outbound_messages_total',
      help: 'Outbound sends by result (sent, failed, retry, cancelled)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    outboundQueued: new Counter({
      name: 'blend_outbound_written_total',
      help: 'Mails written to the outbox, by kind (mirror, notification, correction, digest, receipt)',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    digestRun: new Histogram({
      name: 'blend_digest_run_duration_seconds',
      help: 'Duration of one digest run (all people due at that moment)',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers: [registry],
    }),
    notifySweep: new Histogram({
      name: 'blend_notify_sweep_duration_seconds',
      help: 'Duration of one notification sweep (every notification due at that moment), by outcome (ok, failed)',
      labelNames: ['outcome'] as const,
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60],
      registers: [registry],
    }),
    notifyMails: new Counter({
      name: 'blend_notify_mails_total',
      help: 'Mails the notification sweep wrote to the outbox (notifications, mirrored comments, corrections)',
      registers: [registry],
    }),
    threadMerges: new Counter({
      name: 'blend_thread_merges_total',
      help: 'Posts that joined another thread: merged (a reply proved them one conversation), adopted (an early reply whose parent came), or left apart and why (other_group, retracted, not_participant, over_cap)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    bounces: new Counter({
      name: 'blend_bounces_total',
      help: 'Bounces of our outbound mail, hard or soft',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    imapConnected: new Gauge({
      name: 'blend_imap_connected',
      help: '1 while the poller holds a usable IMAP connection to the mailbox',
      labelNames: ['mailbox'] as const,
      registers: [registry],
    }),
    imapReconnects: new Counter({
      name: 'blend_imap_reconnects_total',
      help: 'IMAP connections replaced after a drop',
      labelNames: ['mailbox'] as const,
      registers: [registry],
    }),
    imapAuthFailures: new Counter({
      name: 'blend_imap_auth_failures_total',
      help: 'Failed IMAP logins (e.g. a rotated password)',
      labelNames: ['mailbox'] as const,
      registers: [registry],
    }),
    imapProcessed: new Counter({
      name: 'blend_imap_processed_total',
      help: 'IMAP messages flagged, moved or deleted after their ingest committed, by mailbox and action',
      labelNames: ['mailbox', 'action'] as const,
      registers: [registry],
    }),
    leaseHeld: new Gauge({
      name: 'blend_poller_lease_held',
      help: '1 while this poller holds the lease on the mailbox',
      labelNames: ['mailbox'] as const,
      registers: [registry],
    }),
    chatReplies: new Counter({
      name: 'blend_chat_replies_total',
      help: 'Messages from chat tools at the inbound endpoints, by tool and outcome: commented, withheld, duplicate, ignored (not a reply to a Blend thread), refused (bad signature or token)',
      labelNames: ['tool', 'outcome'] as const,
      registers: [registry],
    }),
    feedCache: new Counter({
      name: 'blend_api_feed_cache_requests_total',
      help: 'JSON feed pages served from the feed cache (hit), read and kept (miss), or read with the cache not in use (off: not listening for changes, or Cache-Control: no-cache)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;

let shared: Metrics | undefined;
/** The process-wide metrics (created on first use). */
export function processMetrics(): Metrics {
  shared ??= createMetrics();
  return shared;
}
