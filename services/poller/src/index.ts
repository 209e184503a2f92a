import { processMetrics, startHealthServer, type Config, type Logger } from '@blend/config';
import { createDb, ensureSchema, postgresReady } from '@blend/db';
import { parseImapUrl } from '@blend/mail';
import { createProducerRedis, createQueues, redisReady } from '@blend/queue';
import { MailboxLease } from './lease';
import { MailboxPoller } from './mailbox-poller';

export { MailboxPoller } from './mailbox-poller';
export { MailboxLease } from './lease';

export interface PollerService {
  stop(): Promise<void>;
  /** The watcher while this process holds the lease, else null. */
  readonly poller: MailboxPoller | null;
  lease: MailboxLease;
  healthUrl: string | null;
}

/**
 * Start the poller service for the mailbox in BLEND_IMAP_URL. It polls only while it holds
 * the mailbox lease, so several pollers can run for failover.
 */
export async function startPollerService(config: Config, log: Logger): Promise<PollerService> {
  const dbh = createDb(config.DATABASE_URL, { onError: (err) => log.warn({ err }, 'idle Postgres client error') });
  await ensureSchema(dbh.db, dbh.pool, config.BLEND_MIGRATE_ON_START);
  const redis = createProducerRedis(config.REDIS_URL);
  redis.on('error', (err) => log.warn({ err: { message: err.message } }, 'redis connection error'));
  const queues = createQueues(redis, config.BLEND_QUEUE_PREFIX, (err) => log.debug({ err: { message: err.message } }, 'queue connection error'));
  const metrics = processMetrics();
  const target = parseImapUrl(config.BLEND_IMAP_URL);
  let poller: MailboxPoller | null = null;
  const lease = new MailboxLease({
    db: dbh.db,
    mailbox: target.key,
    log: log.child({ mailbox: target.key }),
    onAcquired: async () => {
      poller = new MailboxPoller({
        target,
        db: dbh.db,
        ingestQueue: queues.ingest,
        log,
        metrics,
        pollIntervalMs: config.BLEND_POLL_INTERVAL_MS,
        idleRestartMs: config.BLEND_IDLE_RESTART_MS,
        maxMessageBytes: config.BLEND_MAX_MESSAGE_BYTES,
        doneFlag: config.BLEND_IMAP_DONE_FLAG,
        batchSize: config.BLEND_IMAP_BATCH_SIZE,
      });
      metrics.leaseHeld.set({ mailbox: target.key }, 1);
      await poller.start();
    },
    onLost: async () => {
      metrics.leaseHeld.set({ mailbox: target.key }, 0);
      const p = poller;
      poller = null;
      await p?.stop();
    },
  });
  lease.start();
  const health = await startHealthServer({
    port: config.BLEND_POLLER_HEALTH_PORT,
    registry: metrics.registry,
    checks: {
      postgres: () => postgresReady(dbh.pool),
      redis: () => redisReady(redis),
      // A standby poller is ready; the holder is ready only with a working IMAP session.
      imap: async () => {
        if (!lease.held || !poller) return 'ok';
        if (poller.state === 'connected') return 'ok';
        return poller.state === 'auth_failed' ? `IMAP login failed: ${poller.lastError ?? ''}`.trim() : `IMAP ${poller.state}`;
      },
    },
  });
  log.info({ health: health?.url }, 'poller started');
  return {
    get poller() {
      return poller;
    },
    lease,
    healthUrl: health?.url ?? null,
    stop: async () => {
      await lease.stop();
      await health?.close();
      await queues.close();
      redis.disconnect();
      await dbh.close();
      log.info('poller stopped');
    },
  };
}
