import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { runChecks, type Metrics } from '@blend/runtime';
import { postgresReady } from '@blend/db';
import { redisReady } from '@blend/queue';
import { alive, readyResponses } from './esn-responses';

/**
 * `/healthz`: the process is alive. `/readyz`: Postgres and Redis answer. `/metrics`: Prometheus,
 * behind `Authorization: Bearer BLEND_METRICS_TOKEN` when that is set: the API port faces people,
 * and the metrics tell how much mail is held and which mailboxes fail (docs/SECURITY.md I3).
 */
export function healthRoutes(app: FastifyInstance, deps: { pool: pg.Pool; redis: Redis; metrics: Metrics; metricsToken?: string }): void {
  app.get('/healthz', { schema: { tags: ['health'], summary: 'Liveness: the process answers', response: { 200: alive } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { tags: ['health'], summary: 'Readiness: Postgres and Redis answer within 2 s', response: readyResponses } }, async (_req, reply) => {
    const { ready, checks } = await runChecks({
      postgres: () => postgresReady(deps.pool),
      redis: () => redisReady(deps.redis),
    });
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });
  const expected = deps.metricsToken ? createHash('sha256').update(`Bearer ${deps.metricsToken}`).digest() : null;
  app.get('/metrics', async (req, reply) => {
    if (expected) {
      const given = createHash('sha256').update(req.headers.authorization ?? '').digest();
      if (!timingSafeEqual(given, expected)) {
        return reply.status(401).header('www-authenticate', 'Bearer realm="metrics"').send({ error: { code: 'UNAUTHORIZED', message: 'metrics need Authorization: Bearer BLEND_METRICS_TOKEN' } });
      }
    }
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
}
