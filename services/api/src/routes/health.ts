import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { runChecks, type Metrics } from '@blend/config';
import { postgresReady } from '@blend/db';
import { redisReady } from '@blend/queue';
import { alive, readyResponses } from './esn-responses';

/** `/healthz`: the process is alive. `/readyz`: Postgres and Redis answer. `/metrics`: Prometheus. */
export function healthRoutes(app: FastifyInstance, deps: { pool: pg.Pool; redis: Redis; metrics: Metrics }): void {
  app.get('/healthz', { schema: { tags: ['health'], summary: 'Liveness: the process answers', response: { 200: alive } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { tags: ['health'], summary: 'Readiness: Postgres and Redis answer within 2 s', response: readyResponses } }, async (_req, reply) => {
    const { ready, checks } = await runChecks({
      postgres: () => postgresReady(deps.pool),
      redis: () => redisReady(deps.redis),
    });
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });
  app.get('/metrics', async (_req, reply) =>
    reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()),
  );
}
