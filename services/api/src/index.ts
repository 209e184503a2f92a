import { addressingFrom, type Config } from '@blend/config';
import { processMetrics, type Logger } from '@blend/runtime';
import { listenForFeedChanges, openServiceDatabase } from '@blend/db';
import { createProducerRedis, createQueues } from '@blend/queue';
import { clamdScanner } from '@blend/mail';
import { buildApp } from './app';
import { chatIntegrationsFrom } from './routes/integrations';
import { createRateLimitRedis } from './rate-limits';
import { FEED_CACHE_MAX_AGE_MS, FeedCache } from './feed-cache';
import { StreamHub } from './stream';

export { buildApp, type AppDeps } from './app';
export { chatIntegrationsFrom } from './routes/integrations';
export { FeedCache } from './feed-cache';
export { createRateLimitRedis } from './rate-limits';

/** Start the API service on HOST:PORT. */
export async function startApiService(config: Config, log: Logger): Promise<{ stop(): Promise<void>; url: string }> {
  const dbh = await openServiceDatabase(config.DATABASE_URL, {
    migrate: config.BLEND_MIGRATE_ON_START,
    defaultGroup: config.BLEND_DEFAULT_GROUP,
    onIdleError: (err) => log.warn({ err }, 'idle Postgres client error'),
  });
  const redis = createProducerRedis(config.REDIS_URL);
  redis.on('error', (err) => log.warn({ err }, 'redis connection error'));
  const queues = createQueues(redis, config.BLEND_QUEUE_PREFIX, (err) => log.debug({ err }, 'queue connection error'));
  const rateRedis = createRateLimitRedis(config.REDIS_URL);
  const metrics = processMetrics();
  const feedCache = config.BLEND_FEED_CACHE_MB > 0 ? new FeedCache({ maxBytes: config.BLEND_FEED_CACHE_MB * 1024 * 1024, maxAgeMs: FEED_CACHE_MAX_AGE_MS }) : undefined;
  // The live stream shares the feed cache's LISTEN connection; it also polls slowly, so it works without it.
  const stream = new StreamHub({ db: dbh.db, log }, { maxConnections: config.BLEND_STREAM_MAX_CONNECTIONS });
  const listener = listenForFeedChanges(config.DATABASE_URL, {
    onChange: () => {
      feedCache?.changed();
      stream.changed();
    },
    onListening: (on) => {
      if (!feedCache) return;
      feedCache.setListening(on);
      log.info({ listening: on }, on ? 'feed cache on: listening for changes' : 'feed cache off until changes are heard again');
    },
    onError: (err) => log.warn({ err: { message: err.message } }, 'feed change listener lost its connection'),
  });
  const app = buildApp({
    feedCache,
    stream,
    db: dbh.db,
    pool: dbh.pool,
    redis,
    log,
    queues,
    rateLimits: { redis: rateRedis, prefix: config.BLEND_QUEUE_PREFIX, perMinute: config.BLEND_RATE_LIMIT_PER_MINUTE, loginPerMinute: config.BLEND_RATE_LIMIT_LOGIN_PER_MINUTE },
    metrics,
    addressing: addressingFrom(config),
    ...(config.BLEND_PUBLIC_URL ? { publicUrl: config.BLEND_PUBLIC_URL } : {}),
    secret: config.BLEND_SECRET,
    ...(config.BLEND_SECRET_PREVIOUS ? { previousSecret: config.BLEND_SECRET_PREVIOUS } : {}),
    withheldRetentionDays: config.BLEND_WITHHELD_RETENTION_DAYS,
    webhookAllowPrivate: config.BLEND_WEBHOOK_ALLOW_PRIVATE,
    groupCreation: config.BLEND_GROUP_CREATION,
    // The web composer's files: the limits and the scanner of mail attachments (docs/SECURITY.md B43).
    uploads: {
      limits: {
        maxFileBytes: config.BLEND_ATTACHMENT_MAX_BYTES,
        maxTotalBytes: config.BLEND_ATTACHMENTS_MAX_TOTAL_BYTES,
        maxFiles: 50,
        ...(config.BLEND_ATTACHMENT_TYPES ? { allowedTypes: config.BLEND_ATTACHMENT_TYPES } : {}),
      },
      ...(config.BLEND_CLAMD_URL ? { scanner: clamdScanner(config.BLEND_CLAMD_URL) } : {}),
    },
    defaultLanguage: config.BLEND_DEFAULT_LANGUAGE,
    trustProxy: config.BLEND_TRUST_PROXY,
    integrations: chatIntegrationsFrom(config),
    ...(config.BLEND_OIDC_ISSUER && config.BLEND_OIDC_CLIENT_ID
      ? {
          oidc: {
            issuer: config.BLEND_OIDC_ISSUER,
            clientId: config.BLEND_OIDC_CLIENT_ID,
            ...(config.BLEND_OIDC_CLIENT_SECRET ? { clientSecret: config.BLEND_OIDC_CLIENT_SECRET } : {}),
            createPeople: config.BLEND_OIDC_CREATE_PEOPLE,
            orgDomains: config.BLEND_ORG_DOMAINS,
          },
        }
      : {}),
    ...(config.BLEND_METRICS_TOKEN ? { metricsToken: config.BLEND_METRICS_TOKEN } : {}),
    activity: { coalesceMs: config.BLEND_NOTIFY_COALESCE_MS, correctionWindowMs: config.BLEND_CORRECTION_WINDOW_MS },
  });
  const url = await app.listen({ port: config.PORT, host: config.HOST });
  return {
    url,
    stop: async () => {
      await app.close();
      await listener?.stop();
      await queues.close();
      redis.disconnect();
      rateRedis.disconnect();
      await dbh.close();
      log.info('api stopped');
    },
  };
}
