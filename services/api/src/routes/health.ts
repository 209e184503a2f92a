import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { runChecks, type Metrics } from '@blend/config';
import { postgresReady } from '@blend/db';
import { redisReady } from '@blend/queue';

/** `/healthz`: the process is alive. `/readyz`: Postgres and Redis answer. `/metrics`: Prometheus. */
export function healthRoutes(app: FastifyInstance, deps: { pool: pg.Pool; redis: Redis; metrics: Metrics }): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
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
