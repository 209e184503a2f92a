import { promises as dns } from 'node:dns';
import { conversionOptions, conversionSettings, dkimSettings, mailSiteFrom, oauthSettings, smtpAuthOf, type Config } from '@blend/config';
import { processMetrics, startHealthServer, type Logger } from '@blend/runtime';
import { DEFAULT_CONFIDENTIAL_MARKERS } from '@blend/core';
import { createDb, openServiceDatabase, postgresReady, purgeExpired, tryRetentionLock } from '@blend/db';
import { QueueName, createQueues, createWorkerRedis, redisReady } from '@blend/queue';
import { cachingResolver, clamdScanner, createSmtpTransport, smtpLoginOf, warmTemplates, type DnsResolver } from '@blend/mail';
import { scheduleDigests, scheduleNotifySweep } from '@blend/queue';
import { reconcileInbound, reconcileOutbound, releaseRateHeld } from './reconcile';
import { lowerPriority, processLiveFirst, startDigestWorker, startIngestWorker, startNotifyWorker, startSendWorker, startWebhookWorker, type IngestDeps } from './worker';
import { scanWebhooks } from './jobs/webhook';
import type { MailSite } from '@blend/outbound';
import { MemoryBudget } from './memory-budget';
import { ParsePool } from './parse-pool';

export { ingest, MAX_INGEST_TRIES, type IngestDeps, type IngestOutcome } from './jobs/ingest';
export { ingestBatch, type BatchOutcome } from './jobs/ingest-batch';
export { LiveFirst } from './live-first';
export { MemoryBudget } from './memory-budget';
export { DEFAULT_PARSE_TIMEOUT_MS, ParseLimitError, ParsePool, type ParsePoolOptions } from './parse-pool';
export { COMPOSED_BYTES, send, sendBatch } from './jobs/send';
export { reconcileInbound, reconcileOutbound, releaseRateHeld } from './reconcile';
export { startIngestWorker, startNotifyWorker, startSendWorker, startWebhookWorker } from './worker';
export { deliverWebhook, scanWebhooks } from './jobs/webhook';
export { sweepNotifications } from './jobs/notify';

export interface RunningService {
  stop(): Promise<void>;
}

/**
 * Start the worker service: migrate (or check) the schema, run the BullMQ processors and
 * the reconciler. `stop()` closes the workers first, then Redis and Postgres.
 */
export async function startWorkerService(
  config: Config,
  log: Logger,
  /** For tests: a DNS resolver for sender authentication instead of the system's; the parse threads' module. */
  overrides: { resolver?: DnsResolver; parseThreadModule?: URL } = {},
): Promise<RunningService> {
  // First, so the threads started from here on (the parse threads) run at the same priority.
  lowerPriority(config.BLEND_WORKER_NICE, log);
  if (config.BLEND_SENDER_AUTH === 'none') {
    log.warn('BLEND_SENDER_AUTH=none: senders are NOT authenticated; anyone can post as anyone. Use only for local trials.');
  }
  if (config.BLEND_SENDER_AUTH === 'trusted-mta' && config.BLEND_TRUSTED_RECEIVED_BY.length === 0) {
    log.warn(
      'BLEND_SENDER_AUTH=trusted-mta without BLEND_TRUSTED_RECEIVED_BY: an Authentication-Results header with your authserv-id is believed wherever it sits, ' +
        'so a sender can forge one for any mail your MTA does not stamp itself. Set BLEND_TRUSTED_RECEIVED_BY to your MTAs\' Received-by host names.',
    );
  }
  const dbh = await openServiceDatabase(config.DATABASE_URL, {
    migrate: config.BLEND_MIGRATE_ON_START,
    defaultGroup: config.BLEND_DEFAULT_GROUP,
    onIdleError: (err) => log.warn({ err }, 'idle Postgres client error'),
    // Everything but live mail uses this pool: while a live ingest runs, its next statements
    // wait (at most LiveFirst's maxWaitMs; docs/ARCHITECTURE.md "Processes and the flow").
    gate: () => processLiveFirst.gate(),
  });
  // Live mail has Postgres connections of its own, as it has Worker slots of its own: a
  // catch-up's batches ask for many connections at once, and new mail's statements would wait
  // behind theirs (docs/ARCHITECTURE.md "Processes and the flow").
  const liveDb = createDb(config.DATABASE_URL, { max: config.WORKER_CONCURRENCY, onError: (err) => log.warn({ err }, 'idle Postgres client error') });
  const redis = createWorkerRedis(config.REDIS_URL);
  redis.on('error', (err) => log.warn({ err }, 'redis connection error'));
  const queues = createQueues(redis, config.BLEND_QUEUE_PREFIX, (err) => log.debug({ err }, 'queue connection error'));
  const metrics = processMetrics();
  const workerOpts = { connection: redis, prefix: config.BLEND_QUEUE_PREFIX, concurrency: config.WORKER_CONCURRENCY, metrics, lockDurationMs: config.BLEND_JOB_LOCK_MS };
  const smtpLogin = smtpLoginOf(config.BLEND_SMTP_URL, smtpAuthOf(config), oauthSettings(config));
  const dkim = dkimSettings(config);
  const transport = createSmtpTransport(
    config.BLEND_SMTP_URL,
    { maxConnections: config.BLEND_SMTP_MAX_CONNECTIONS, maxMessages: config.BLEND_SMTP_MAX_MESSAGES },
    smtpLogin,
    dkim,
  );
  // Which signature receivers will look up; never the key (docs/SECURITY.md B32).
  if (dkim) log.info({ dkimDomain: dkim.domainName, dkimSelector: dkim.keySelector }, 'outgoing mail is signed with DKIM');
  // Email templates are compiled once (MJML is slow); rendering a mail is then fast.
  await warmTemplates();
  const site: MailSite = mailSiteFrom(config);
  const { addressing } = site;
  // Parsing and conversion run in threads that are stopped past the time limit (docs/SECURITY.md F9).
  const parsePool = new ParsePool({
    settings: conversionSettings(config),
    timeoutMs: config.BLEND_PARSE_TIMEOUT_MS,
    ...(config.BLEND_PARSE_THREADS ? { threads: config.BLEND_PARSE_THREADS } : {}),
    ...(overrides.parseThreadModule ? { threadModule: overrides.parseThreadModule } : {}),
  });
  await parsePool.warm();
  const ingestDeps: IngestDeps = {
    db: dbh.db,
    log,
    ...site,
    defaultGroup: config.BLEND_DEFAULT_GROUP,
    ...(config.BLEND_SECRET_PREVIOUS ? { previousSecret: config.BLEND_SECRET_PREVIOUS } : {}),
    senderAuth: {
      mode: config.BLEND_SENDER_AUTH,
      orgDomains: config.BLEND_ORG_DOMAINS,
      ...(config.BLEND_AUTHSERV_ID ? { authservId: config.BLEND_AUTHSERV_ID } : {}),
      trustedReceivedBy: config.BLEND_TRUSTED_RECEIVED_BY,
      // One DNS cache for all mails: bounded, answers kept at most 5 minutes (docs/SECURITY.md B42).
      resolver: overrides.resolver ?? cachingResolver(dns.resolve),
    },
    confidentialMarkers: config.BLEND_CONFIDENTIAL_MARKERS
      ? config.BLEND_CONFIDENTIAL_MARKERS.split(',').map((m) => m.trim()).filter(Boolean)
      : [...DEFAULT_CONFIDENTIAL_MARKERS],
    conversion: conversionOptions(config),
    rateLimits: {
      senderPerMinute: config.BLEND_RATE_SENDER_PER_MINUTE || Infinity,
      senderPerHour: config.BLEND_RATE_SENDER_PER_HOUR || Infinity,
      threadPerMinute: config.BLEND_RATE_THREAD_PER_MINUTE || Infinity,
      orgPerMinute: config.BLEND_RATE_ORG_PER_MINUTE || Infinity,
    },
    withheldRetentionDays: config.BLEND_WITHHELD_RETENTION_DAYS, orphanReplyGraceMs: config.BLEND_ORPHAN_REPLY_GRACE_MS,
    ...(config.BLEND_CLAMD_URL ? { scanner: clamdScanner(config.BLEND_CLAMD_URL) } : {}),
    attachmentLimits: {
      maxFileBytes: config.BLEND_ATTACHMENT_MAX_BYTES,
      maxTotalBytes: config.BLEND_ATTACHMENTS_MAX_TOTAL_BYTES,
      maxFiles: 50,
      ...(config.BLEND_ATTACHMENT_TYPES ? { allowedTypes: config.BLEND_ATTACHMENT_TYPES } : {}),
    },
    activity: { coalesceMs: config.BLEND_NOTIFY_COALESCE_MS, undoMinutes: config.BLEND_UNDO_MINUTES, receiptsFirst: config.BLEND_RECEIPTS_FIRST },
    memoryBudget: new MemoryBudget(config.BLEND_INGEST_MEMORY_BYTES),
    parsePool,
    metrics,
  };
  // BLEND_WORKER_QUEUES: the queues this process takes (docs/ARCHITECTURE.md "Processes and the flow").
  const takes = new Set<string>(config.BLEND_WORKER_QUEUES);
  const workers = [
    // Live mail and a catch-up's mail are two queues with one processor: the live Worker has
    // WORKER_CONCURRENCY slots of its own, the backlog's Worker one fewer (at least one), so a
    // backlog never takes the slot new mail needs (docs/ARCHITECTURE.md "Processes and the flow").
    takes.has(QueueName.ingest) && startIngestWorker({ ...ingestDeps, db: liveDb.db }, workerOpts, queues, QueueName.ingest),
    takes.has(QueueName.ingestBacklog) && startIngestWorker(ingestDeps, { ...workerOpts, concurrency: Math.max(1, config.WORKER_CONCURRENCY - 1) }, queues, QueueName.ingestBacklog),
    takes.has(QueueName.send) && startSendWorker({ db: dbh.db, log, transport, addressing, secret: config.BLEND_SECRET, attachmentsMaxTotalBytes: config.BLEND_ATTACHMENTS_MAX_TOTAL_BYTES }, { ...workerOpts, concurrency: config.BLEND_SEND_CONCURRENCY }),
    takes.has(QueueName.webhook) && startWebhookWorker(
      {
        db: dbh.db,
        log,
        allowPrivate: config.BLEND_WEBHOOK_ALLOW_PRIVATE,
        secrets: [config.BLEND_SECRET, config.BLEND_SECRET_PREVIOUS],
        ...(config.BLEND_PUBLIC_URL ? { publicUrl: config.BLEND_PUBLIC_URL } : {}),
        onDelivered: () => scanWebhooks(dbh.db, queues.webhook, config.BLEND_WEBHOOK_RETRY_BASE_MS),
      },
      workerOpts,
    ),
    takes.has(QueueName.digest) && startDigestWorker({ db: dbh.db, log, site, metrics }, workerOpts, queues, config.BLEND_SEND_BATCH),
    // Due notifications, mirrored comments and corrections become mail.
    takes.has(QueueName.notify) && startNotifyWorker({ db: dbh.db, log, site, metrics }, workerOpts, queues, config.BLEND_SEND_BATCH),
  ].filter((w) => w !== false);
  await scheduleDigests(queues.digest, config.BLEND_DIGEST_TICK_MS).catch((err: unknown) =>
    log.warn({ err }, 'could not register the digest schedule; another worker or the next start will'),
  );
  await scheduleNotifySweep(queues.notify, config.BLEND_NOTIFY_SWEEP_MS).catch((err: unknown) =>
    log.warn({ err }, 'could not register the notification sweep schedule; another worker or the next start will'),
  );
  const webhookTimer = setInterval(
    () => void scanWebhooks(dbh.db, queues.webhook, config.BLEND_WEBHOOK_RETRY_BASE_MS).catch((err: unknown) => log.warn({ err }, 'webhook scan failed')),
    2_000,
  );

  const grace = Math.max(5_000, Math.floor(config.BLEND_RECONCILE_INTERVAL_MS / 3));
  const reconcile = () =>
    Promise.all([
      reconcileInbound(dbh.db, queues.ingestBacklog, log, grace, [queues.ingest]),
      reconcileOutbound(dbh.db, queues.send, log, grace),
      releaseRateHeld(dbh.db, queues.ingest, log),
    ]).catch((err: unknown) =>
      log.warn({ err }, 'reconcile failed; will try again'),
    );
  await reconcile();
  const health = await startHealthServer({
    port: config.BLEND_WORKER_HEALTH_PORT,
    host: config.BLEND_HEALTH_HOST,
    registry: metrics.registry,
    checks: {
      // On the live pool, whose statements never wait for live mail to end.
      postgres: () => postgresReady(liveDb.pool),
      redis: () => redisReady(redis),
      workers: async () => (workers.every((w) => w.isRunning()) ? 'ok' : 'a processor is not running'),
      // With OAuth, a token endpoint that refuses or is down stops every send: say so here.
      ...(smtpLogin.kind === 'oauth2'
        ? {
            smtp_auth: async () => {
              const failed = smtpLogin.tokens.status().lastError;
              return failed ? `SMTP login failed: auth_failed: ${failed.reason}: ${failed.message}` : 'ok';
            },
          }
        : {}),
    },
  });
  const timer = setInterval(() => void reconcile(), config.BLEND_RECONCILE_INTERVAL_MS);
  // Retention once an hour; a transaction-level advisory lock lets one worker do it.
  const retention = async () => {
    try {
      const counts = await dbh.db.transaction(async (tx) => {
        if (!(await tryRetentionLock(tx))) return null;
        return purgeExpired(tx, {
          rawDays: config.BLEND_RAW_RETENTION_DAYS,
          withheldDays: config.BLEND_WITHHELD_RETENTION_DAYS,
          outboundDays: config.BLEND_OUTBOUND_RETENTION_DAYS,
          eventDays: config.BLEND_EVENT_RETENTION_DAYS,
        });
      });
      if (counts && counts.raw + counts.withheld + counts.outbound + counts.events > 0) log.info(counts, 'retention purged expired mail');
    } catch (err) {
      log.warn({ err }, 'retention run failed; will try again');
    }
  };
  const retentionTimer = setInterval(() => void retention(), 3_600_000);
  void retention();
  log.info({ concurrency: config.WORKER_CONCURRENCY, queues: [...takes], nice: config.BLEND_WORKER_NICE }, 'worker started');

  return {
    stop: async () => {
      clearInterval(timer);
      clearInterval(retentionTimer);
      clearInterval(webhookTimer);
      await health?.close();
      // Let jobs in flight finish (their transactions commit or roll back, nothing is half
      // written); after 15 s close anyway: an unfinished job's row stays `received` and is
      // picked up again by the reconciler.
      const closing = Promise.all(workers.map((w) => w.close()));
      const timedOut = await Promise.race([closing.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 15_000).unref())]);
      if (timedOut) {
        log.warn('jobs still running after 15 s; closing the workers anyway');
        await Promise.all(workers.map((w) => w.close(true)));
      }
      transport.close();
      await parsePool.close();
      await queues.close();
      redis.disconnect();
      await liveDb.close();
      await dbh.close();
      log.info('worker stopped');
    },
  };
}
