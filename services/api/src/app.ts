import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Logger, Metrics } from '@blend/runtime';
import type { Addressing, Language } from '@blend/core';
import type { Database } from '@blend/db';
import type { Queues } from '@blend/queue';
import type { FeedCache } from './feed-cache';
import { registerScrapeGauges } from './scrape-metrics';
import { instrumentHttp } from './http-metrics';
import { installErrorHandler } from './errors';
import { registerSecurityHeaders } from './security-headers';
import { registerRateLimits, type RateLimitSettings } from './rate-limits';
import { adminRoutes } from './routes/admin';
import { moderationRoutes } from './routes/moderation';
import { adminSourceRoutes } from './routes/admin-source';
import { insightsRoutes } from './routes/insights';
import { attachmentRoutes } from './routes/attachments';
import { registerEsn } from './routes/esn-routes';
import { healthRoutes } from './routes/health';
import { integrationRoutes, type ChatIntegrationSettings } from './routes/integrations';
import { linkRoutes } from './routes/links';
import { meRoutes } from './routes/me';
import { queuesDashboardRoutes } from './routes/queues-dashboard';
import { retractRoutes } from './routes/retract';
import { tokenRoutes } from './routes/tokens';
import { streamRoutes } from './routes/stream';
import { StreamHub } from './stream';
import type { OidcSettings } from './web/oidc-client';
import type { UploadSettings } from './uploads';

export interface AppDeps {
  db: Database;
  pool: pg.Pool;
  redis: Redis;
  log: Logger;
  /** Producers for the work the API causes (released mail); all four are shown at /admin/queues. */
  queues: Pick<Queues, 'ingest' | 'ingestBacklog' | 'send' | 'webhook' | 'digest' | 'notify'>;
  metrics: Metrics;
  /** BLEND_SECRET: verifies the signed links in Blend's mails. */
  secret: string;
  previousSecret?: string;
  withheldRetentionDays: number;
  /** Blend's addresses (BLEND_ADDRESSING…): a group's inbound address is built from it. */
  addressing: Addressing;
  /** BLEND_PUBLIC_URL, for links in webhooks and ActivityStreams ids (else the request's host). */
  publicUrl?: string;
  /** Windows of activity mail (BLEND_NOTIFY_COALESCE_MS, BLEND_CORRECTION_WINDOW_MS). */
  activity?: { coalesceMs?: number; correctionWindowMs?: number };
  /** BLEND_METRICS_TOKEN: `/metrics` answers only with `Authorization: Bearer` this token. */
  metricsToken?: string;
  /** BLEND_WEBHOOK_ALLOW_PRIVATE: webhooks may point at loopback or private addresses. */
  webhookAllowPrivate?: boolean;
  /** BLEND_GROUP_CREATION: who may create groups. @defaultValue 'admins' */
  groupCreation?: 'admins' | 'everyone';
  /** Files attached in the web composer: the mail attachment limits and virus scanner (uploads.ts). @defaultValue DEFAULT_ATTACHMENT_LIMITS, no scanning */
  uploads?: UploadSettings;
  /** BLEND_DEFAULT_LANGUAGE: the web pages' language when neither the person nor the browser chooses one. @defaultValue 'en' */
  defaultLanguage?: Language;
  /** Shared JSON feed pages, kept while changes are heard (see feed-cache.ts). */
  feedCache?: FeedCache;
  /** BLEND_RATE_LIMIT_*: HTTP rate limits counted in Redis; without it nothing is limited (tests). */
  rateLimits?: Omit<RateLimitSettings, 'log'>;
  /** BLEND_TRUST_PROXY: whose X-Forwarded-* headers count (client address, https, host). @defaultValue false */
  trustProxy?: boolean | number | string[];
  /** BLEND_OIDC_*: single sign-on for the web UI; unset: token sign-in only. */
  oidc?: OidcSettings;
  /** Chat tools' way back in (BLEND_SLACK_SIGNING_SECRET, BLEND_MATTERMOST_TOKEN, …); each endpoint is off without its secret. */
  integrations?: ChatIntegrationSettings;
  /** The live stream's fan-out (stream.ts); without it one is made with `streamMaxConnections`. */
  stream?: StreamHub;
  /** BLEND_STREAM_MAX_CONNECTIONS: open `GET /api/v1/stream` connections per process. @defaultValue 1000 */
  streamMaxConnections?: number;
}

/**
 * BLEND_TRUST_PROXY as Fastify takes it. A hop count trusts the nearest N peers whoever they
 * are (as Express does; Fastify itself treats a bare number as trusting nobody), so it is safe
 * only when nothing but the proxy can reach the API (docs/SECURITY.md S1).
 */
function fastifyTrustProxy(setting: AppDeps['trustProxy']): boolean | string[] | ((addr: string, hop: number) => boolean) {
  if (typeof setting === 'number') return (_addr, hop) => hop < setting;
  return setting ?? false;
}

/** The API as a Fastify instance; tests drive it with `app.inject()`, so no port is opened. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    trustProxy: fastifyTrustProxy(deps.trustProxy),
    // Unknown query or body properties are an error, not silently dropped.
    ajv: { customOptions: { removeAdditional: false } },
  });
  installErrorHandler(app);
  instrumentHttp(app, deps.metrics);
  registerSecurityHeaders(app, { ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}) });
  if (deps.rateLimits) registerRateLimits(app, { ...deps.rateLimits, log: deps.log });
  const hub = deps.stream ?? new StreamHub({ db: deps.db, log: deps.log }, { maxConnections: deps.streamMaxConnections ?? 1000 });
  // Before the server stops taking connections: open streams would keep it waiting.
  app.addHook('preClose', async () => hub.close());
  // A change made through this API reaches open streams at once, not at the next NOTIFY or poll.
  app.addHook('onResponse', async (req) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') hub.changed();
  });
  const cache = deps.feedCache;
  if (cache) {
    // Read your own writes: a change made through this API is forgotten before its answer
    // leaves, not when its NOTIFY comes back a moment later.
    app.addHook('onSend', async (req, _reply, payload) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') cache.changed();
      return payload;
    });
  }
  void app.register(formbody);
  registerScrapeGauges(deps.metrics, deps);
  // The ESN API (incl. GET /api/v1/feed and /api/v1/posts/:id, which replace routes/feed.ts), /docs and /web.
  registerEsn(app, deps);
  // Registered as a plugin after the OpenAPI plugin, so that these routes are in the document too.
  void app.register(async (r) => {
    healthRoutes(r, deps);
    meRoutes(r, deps);
    tokenRoutes(r, deps);
    retractRoutes(r, deps);
    adminRoutes(r, deps);
    moderationRoutes(r, deps);
    adminSourceRoutes(r, deps);
    insightsRoutes(r, deps);
    linkRoutes(r, deps);
    attachmentRoutes(r, deps);
    streamRoutes(r, { db: deps.db, hub });
  });
  // The BullMQ dashboard at /admin/queues (admin role; session cookie or bearer token).
  queuesDashboardRoutes(app, deps);
  // Replies from chat tools: raw-body parsers of their own, so they are a plugin apart.
  integrationRoutes(app, deps);
  return app;
}
