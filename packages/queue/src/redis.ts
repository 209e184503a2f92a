import { Redis, type RedisOptions } from 'ioredis';

/**
 * A Redis connection for BullMQ workers: commands wait for a reconnect instead of
 * failing (`maxRetriesPerRequest: null`, as BullMQ requires for workers).
 */
export function createWorkerRedis(url: string, opts: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...opts });
}

/**
 * A Redis connection for producers and health checks: while Redis is down a command fails
 * after one reconnect attempt instead of waiting, so callers keep the row in Postgres and
 * let the reconciler enqueue it later.
 */
export function createProducerRedis(url: string, opts: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    connectTimeout: 3_000,
    retryStrategy: (times) => Math.min(times * 200, 5_000),
    ...opts,
  });
}

/** Readiness check: 'ok' when Redis answers PING. */
export async function redisReady(redis: Redis): Promise<string> {
  return (await redis.ping()) === 'PONG' ? 'ok' : 'unexpected answer';
}
