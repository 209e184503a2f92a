import type { Config, Logger } from '@blend/config';
import { createDb, ensureSchema } from '@blend/db';
import { parseImapUrl } from '@blend/mail';
import { createProducerRedis, createQueues } from '@blend/queue';
import { MailboxPoller } from './mailbox-poller';

export { MailboxPoller } from './mailbox-poller';

/** Start the poller service for the mailbox in BLEND_IMAP_URL. */
export async function startPollerService(config: Config, log: Logger): Promise<{ stop(): Promise<void>; poller: MailboxPoller }> {
  const dbh = createDb(config.DATABASE_URL, { onError: (err) => log.warn({ err }, 'idle Postgres client error') });
  await ensureSchema(dbh.db, dbh.pool, config.BLEND_MIGRATE_ON_START);
  const redis = createProducerRedis(config.REDIS_URL);
  redis.on('error', (err) => log.warn({ err: { message: err.message } }, 'redis connection error'));
  const queues = createQueues(redis, config.BLEND_QUEUE_PREFIX);
  const poller = new MailboxPoller({
    target: parseImapUrl(config.BLEND_IMAP_URL),
    db: dbh.db,
    ingestQueue: queues.ingest,
    log,
    pollIntervalMs: config.BLEND_POLL_INTERVAL_MS,
    idleRestartMs: config.BLEND_IDLE_RESTART_MS,
    maxMessageBytes: config.BLEND_MAX_MESSAGE_BYTES,
    doneFlag: config.BLEND_IMAP_DONE_FLAG,
    batchSize: config.BLEND_IMAP_BATCH_SIZE,
  });
  await poller.start();
  log.info('poller started');
  return {
    poller,
    stop: async () => {
      await poller.stop();
      await queues.close();
      redis.disconnect();
      await dbh.close();
      log.info('poller stopped');
    },
  };
}
