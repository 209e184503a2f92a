import { oauthSettings, parseAfterAction, type Config } from '@blend/config';
import { processMetrics, startHealthServer, type Logger } from '@blend/runtime';
import { openServiceDatabase, postgresReady } from '@blend/db';
import { imapTargetOf } from '@blend/mail';
import { createProducerRedis, createQueues, redisReady } from '@blend/queue';
import type { MailboxLease } from './lease';
import type { MailboxPoller } from './mailbox-poller';
import { MailboxWatchers } from './mailbox-watchers';

export { MailboxPoller, type PollerOptions } from './mailbox-poller';
export { MailboxLease } from './lease';
export { MailboxWatch } from './mailbox-watch';
export { MailboxWatchers } from './mailbox-watchers';

export interface PollerService {
  stop(): Promise<void>;
  /** The watcher of BLEND_IMAP_URL while this process holds its lease, else null. */
  readonly poller: MailboxPoller | null;
  /** The lease of BLEND_IMAP_URL. */
  readonly lease: MailboxLease;
  /** Every mailbox this process watches (BLEND_IMAP_URL and the enabled `watched_mailboxes`). */
  watchers: MailboxWatchers;
  healthUrl: string | null;
}

/**
 * Start the poller service for BLEND_IMAP_URL and every enabled mailbox added with
 * `blend mailbox add`. Each mailbox has its own lease: this process polls the ones it
 * holds and stands by for the others, so several pollers can run for failover.
 */
export async function startPollerService(config: Config, log: Logger): Promise<PollerService> {
  const dbh = await openServiceDatabase(config.DATABASE_URL, {
    migrate: config.BLEND_MIGRATE_ON_START,
    onIdleError: (err) => log.warn({ err }, 'idle Postgres client error'),
  });
  const redis = createProducerRedis(config.REDIS_URL);
  redis.on('error', (err) => log.warn({ err }, 'redis connection error'));
  const queues = createQueues(redis, config.BLEND_QUEUE_PREFIX, (err) => log.debug({ err }, 'queue connection error'));
  const metrics = processMetrics();
  const defaultAfter = parseAfterAction(config.BLEND_IMAP_AFTER);
  const watchers = new MailboxWatchers({
    db: dbh.db,
    ingestQueue: queues.ingest,
    backlogQueue: queues.ingestBacklog,
    log,
    metrics,
    pollIntervalMs: config.BLEND_POLL_INTERVAL_MS,
    idleRestartMs: config.BLEND_IDLE_RESTART_MS,
    maxMessageBytes: config.BLEND_MAX_MESSAGE_BYTES,
    doneFlag: config.BLEND_IMAP_DONE_FLAG,
    batchSize: config.BLEND_IMAP_BATCH_SIZE,
    batchBytes: config.BLEND_IMAP_BATCH_BYTES,
    primary: { target: imapTargetOf(config.BLEND_IMAP_URL, config.BLEND_IMAP_AUTH, oauthSettings(config)), after: defaultAfter, source: 'env' },
    defaultAfter,
    secrets: [config.BLEND_SECRET, config.BLEND_SECRET_PREVIOUS],
    refreshMs: config.BLEND_MAILBOX_REFRESH_MS,
  });
  await watchers.start();
  const health = await startHealthServer({
    port: config.BLEND_POLLER_HEALTH_PORT,
    host: config.BLEND_HEALTH_HOST,
    registry: metrics.registry,
    checks: () => ({
      postgres: () => postgresReady(dbh.pool),
      redis: () => redisReady(redis),
      ...watchers.checks(),
    }),
  });
  log.info({ health: health?.url, mailboxes: watchers.keys().length }, 'poller started');
  return {
    get poller() {
      return watchers.primary.poller;
    },
    get lease() {
      return watchers.primary.lease;
    },
    watchers,
    healthUrl: health?.url ?? null,
    stop: async () => {
      await watchers.stop();
      await health?.close();
      await queues.close();
      redis.disconnect();
      await dbh.close();
      log.info('poller stopped');
    },
  };
}
