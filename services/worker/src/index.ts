import type { Config, Logger } from '@blend/config';
import { createDb, ensureSchema, ensureGroup } from '@blend/db';
import { createQueues, createWorkerRedis } from '@blend/queue';
import { createSmtpTransport } from '@blend/mail';
import { reconcileInbound, reconcileOutbound } from './reconcile';
import { startIngestWorker, startSendWorker } from './worker';

export { ingest } from './jobs/ingest';
export { send } from './jobs/send';
export { reconcileInbound, reconcileOutbound } from './reconcile';
export { startIngestWorker, startSendWorker } from './worker';

export interface RunningService {
  stop(): Promise<void>;
}

/**
 * Start the worker service: migrate (or check) the schema, run the BullMQ processors and
 * the reconciler. `stop()` closes the workers first, then Redis and Postgres (STYLE.md).
 */
export async function startWorkerService(config: Config, log: Logger): Promise<RunningService> {
  const dbh = createDb(config.DATABASE_URL, { onError: (err) => log.warn({ err }, 'idle Postgres client error') });
  await ensureSchema(dbh.db, dbh.pool, config.BLEND_MIGRATE_ON_START);
  await ensureGroup(dbh.db, config.BLEND_DEFAULT_GROUP);
  const redis = createWorkerRedis(config.REDIS_URL);
  redis.on('error', (err) => log.warn({ err: { message: err.message } }, 'redis connection error'));
  const queues = createQueues(redis, config.BLEND_QUEUE_PREFIX);
  const workerOpts = { connection: redis, prefix: config.BLEND_QUEUE_PREFIX, concurrency: config.WORKER_CONCURRENCY };
  const transport = createSmtpTransport(config.BLEND_SMTP_URL);
  const workers = [
    startIngestWorker(
      { db: dbh.db, log, bridgeDomain: config.BLEND_MAIL_DOMAIN, defaultGroup: config.BLEND_DEFAULT_GROUP },
      workerOpts,
      queues,
    ),
    startSendWorker({ db: dbh.db, log, transport, domain: config.BLEND_MAIL_DOMAIN, secret: config.BLEND_SECRET }, workerOpts),
  ];

  const reconcile = () =>
    Promise.all([reconcileInbound(dbh.db, queues.ingest, log), reconcileOutbound(dbh.db, queues.send, log)]).catch((err: unknown) =>
      log.warn({ err }, 'reconcile failed; will try again'),
    );
  await reconcile();
  const timer = setInterval(() => void reconcile(), 30_000);
  log.info({ concurrency: config.WORKER_CONCURRENCY }, 'worker started');

  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all(workers.map((w) => w.close()));
      transport.close();
      await queues.close();
      redis.disconnect();
      await dbh.close();
      log.info('worker stopped');
    },
  };
}
