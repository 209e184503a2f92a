import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type pg from 'pg';

async function check(name: string, fn: () => Promise<unknown>, timeoutMs = 2_000): Promise<[string, string]> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return [name, 'ok'];
  } catch (err) {
    return [name, (err as Error).message || 'error'];
  } finally {
    clearTimeout(timer);
  }
}

/** `/healthz`: the process is alive. `/readyz`: Postgres and Redis answer. */
export function healthRoutes(app: FastifyInstance, deps: { pool: pg.Pool; redis: Redis }): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const checks = Object.fromEntries(
      await Promise.all([check('postgres', () => deps.pool.query('select 1')), check('redis', () => deps.redis.ping())]),
    );
    const ready = Object.values(checks).every((v) => v === 'ok');
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });
}
