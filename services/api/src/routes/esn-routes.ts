import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Logger, Metrics } from '@blend/runtime';
import type { Addressing } from '@blend/core';
import type { Database } from '@blend/db';
import type { Queues } from '@blend/queue';
import type { FeedCache } from '../feed-cache';
import { webRoutes } from '../web';
import type { OidcSettings } from '../web/oidc-client';
import type { UploadSettings } from '../uploads';
import { esnFeedRoutes } from './esn-feed';
import { esnGroupRoutes } from './esn-groups';
import { esnPostRoutes } from './esn-posts';
import { esnPreferenceRoutes } from './esn-preferences';
import { esnSearchRoutes } from './esn-search';
import { esnPeopleSearchRoutes } from './esn-people-search';
import { esnWebhookRoutes } from './esn-webhooks';

export interface EsnDeps {
  db: Database;
  log: Logger;
  queues: Pick<Queues, 'ingest'>;
  secret: string;
  withheldRetentionDays: number;
  addressing: Addressing;
  publicUrl?: string;
  activity?: { coalesceMs?: number; correctionWindowMs?: number };
  /** Shared JSON feed pages (startApiService makes one; without it every page is read afresh). */
  feedCache?: FeedCache;
  metrics?: Metrics;
  /** BLEND_WEBHOOK_ALLOW_PRIVATE. */
  webhookAllowPrivate?: boolean;
  /** BLEND_GROUP_CREATION: who may create groups. @defaultValue 'admins' */
  groupCreation?: 'admins' | 'everyone';
  /** Files attached in the web composer (uploads.ts). */
  uploads?: UploadSettings;
  /** BLEND_OIDC_*: single sign-on for the web UI (web/oidc-pages.ts). */
  oidc?: OidcSettings;
}

/**
 * The OpenAPI document, built by @fastify/swagger from the route schemas: JSON at
 * `/docs/json` (and `/docs/openapi.json`), Swagger UI at `/docs`. Only the JSON API
 * (`/api/…`, `/healthz`, `/readyz`) is described; the web pages are left out.
 */
function registerDocs(app: FastifyInstance): void {
  void app.register(swagger, {
    transform: ({ schema, url }) => ({ schema: /^\/(api\/|healthz|readyz)/.test(url) ? schema : { ...schema, hide: true }, url }),
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Blend API', version: '1', description: 'The ESN side of the email ↔ status bridge. Errors are `{ "error": { "code", "message" } }`.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'token from `pnpm blend people add`' } } },
    },
  });
  // No validator badge: it would load an image from a third party (and the CSP blocks it).
  void app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: false, validatorUrl: null } });
  void app.register(async (docs) => {
    docs.get('/docs/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  });
}

/**
 * Everything of the ESN side: its JSON API under /api/v1, the docs and the web pages.
 * Registered as plugins after @fastify/swagger so that their schemas land in the document.
 */
export function registerEsn(app: FastifyInstance, deps: EsnDeps): void {
  registerDocs(app);
  void app.register(async (api) => {
    esnFeedRoutes(api, { ...deps, onFeedCache: (outcome) => deps.metrics?.feedCache.inc({ outcome }) });
    esnPostRoutes(api, deps);
    esnSearchRoutes(api, deps);
    esnPeopleSearchRoutes(api, deps);
    esnGroupRoutes(api, deps);
    esnPreferenceRoutes(api, deps);
    esnWebhookRoutes(api, deps);
  });
  webRoutes(app, deps);
}
