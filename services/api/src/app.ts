import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Logger } from '@blend/config';
import type { Database } from '@blend/db';
import { installErrorHandler } from './errors';
import { feedRoutes } from './routes/feed';
import { healthRoutes } from './routes/health';

export interface AppDeps {
  db: Database;
  pool: pg.Pool;
  redis: Redis;
  log: Logger;
}

/** The API as a Fastify instance; tests drive it with `app.inject()`, so no port is opened. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    // Unknown query or body properties are an error, not silently dropped.
    ajv: { customOptions: { removeAdditional: false } },
  });
  installErrorHandler(app);
  healthRoutes(app, deps);
  feedRoutes(app, deps);
  return app;
}
