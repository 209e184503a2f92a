import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { Redis } from 'ioredis';
import type { Logger } from '@blend/runtime';
import { PermanentError } from '@blend/core';

/** BLEND_RATE_LIMIT_*: requests per minute; 0 turns a limit off. */
export interface RateLimitSettings {
  /** Redis shared by all API processes, so every replica counts into the same buckets. */
  redis: Redis;
  /** Key prefix (BLEND_QUEUE_PREFIX), to share one Redis between installations. */
  prefix: string;
  /** Every limited request of one person (or one address, unauthenticated). @defaultValue 600 */
  perMinute: number;
  /** Sign-in attempts, signed-link pages and failed authentications, per client address. @defaultValue 10 */
  loginPerMinute: number;
  log: Logger;
}

/** How a route is limited: not at all, as a sign-in (strict, by address), or as ordinary use. */
export type RateClass = 'none' | 'sign_in' | 'general';

/** The class of a route, by method and URL pattern (the one place that decides it). */
export function rateClass(method: string, url: string): RateClass {
  // Probes and scrapes come often and from few addresses; they must never be refused.
  if (url === '/healthz' || url === '/readyz' || url === '/metrics') return 'none';
  // Anything that tries a secret: a token typed at the login form, the token in a signed link.
  // Single sign-on (/web/auth/…) is ordinary use: its answer is bound to the browser's own
  // state and PKCE verifier, so there is nothing to guess, and a whole office behind one
  // address signs in through it at nine in the morning.
  if (url.startsWith('/links/')) return 'sign_in';
  if (url === '/web/login' && method === 'POST') return 'sign_in';
  return 'general';
}

const BEARER = /^Bearer\s+(\S{1,500})$/i;
const SESSION = /(?:^|;\s*)blend_session=([^;]{1,500})/;

/** The credential a request presents (bearer token or session cookie), if any. */
export function presentedCredential(headers: { authorization?: string | undefined; cookie?: string | undefined }): string | null {
  const bearer = BEARER.exec(headers.authorization ?? '');
  if (bearer) return `bearer:${bearer[1]}`;
  const session = SESSION.exec(headers.cookie ?? '');
  return session ? `session:${session[1]}` : null;
}

/**
 * The bucket a request counts in: sign-ins by client address; other use by the credential it
 * presents (so people behind one NAT address do not share a bucket), else by address. The
 * credential is kept only as a short hash, never in Redis as it is.
 */
export function rateKey(cls: Exclude<RateClass, 'none'>, ip: string, credential: string | null): string {
  if (cls === 'sign_in' || !credential) return `${cls}:ip:${ip}`;
  return `${cls}:cred:${createHash('sha256').update(credential).digest('hex').slice(0, 32)}`;
}

/**
 * HTTP rate limits (docs/SECURITY.md B31), counted in Redis with @fastify/rate-limit. A
 * credential that does not authenticate counts as a failed sign-in of the client's address:
 * otherwise every made-up token would open a fresh bucket. While Redis does not answer,
 * requests are let through (fail open) and a line is logged: the limiter must not take the
 * API down with it. Call before any route is registered.
 */
export function registerRateLimits(app: FastifyInstance, s: RateLimitSettings): void {
  const limitOf = (cls: RateClass) => (cls === 'sign_in' ? s.loginPerMinute : cls === 'general' ? s.perMinute : 0);
  const classOf = (req: FastifyRequest) => rateClass(req.method, req.routeOptions.url ?? '');
  watchRedis(s.redis, s.log);
  void app.register(rateLimit, {
    global: true,
    hook: 'onRequest',
    timeWindow: 60_000,
    redis: s.redis,
    nameSpace: `${s.prefix}:http-rate:`,
    skipOnError: true,
    allowList: (req) => limitOf(classOf(req)) === 0,
    keyGenerator: (req) => {
      const cls = classOf(req);
      return rateKey(cls === 'none' ? 'general' : cls, req.ip, presentedCredential(req.headers));
    },
    max: (_req, key) => (key.startsWith('sign_in:') ? s.loginPerMinute : s.perMinute),
    errorResponseBuilder: (_req, ctx) => new PermanentError('RATE_LIMITED', `too many requests; try again in ${ctx.after}`),
  });
  if (s.loginPerMinute === 0) return;
  void app.register(async () => {
    // Failed authentications: counted after the answer, refused before the next one.
    const failures = app.createRateLimit({ max: s.loginPerMinute, keyGenerator: (req) => `auth_failed:ip:${req.ip}` });
    app.addHook('onRequest', async (req, reply) => {
      if (limitOf(classOf(req)) === 0 || !presentedCredential(req.headers)) return;
      const seen = await failures(req, { increment: false });
      if (seen.isAllowed || !seen.max || seen.remaining > 0) return;
      void reply.header('retry-after', String(Math.max(1, seen.ttlInSeconds)));
      throw new PermanentError('RATE_LIMITED', 'too many failed sign-ins from this address; try again in a minute');
    });
    app.addHook('onResponse', async (req, reply) => {
      if (reply.statusCode !== 401 || limitOf(classOf(req)) === 0 || !presentedCredential(req.headers)) return;
      await failures(req);
    });
  });
}

/**
 * The limiter's own Redis connection: a command fails at once while Redis is unreachable
 * (no offline queue) and after half a second when it hangs, so a request is never held up by
 * counting it. Redis 6.2+ as for the queues.
 */
export function createRateLimitRedis(url: string): Redis {
  return new Redis(url, { enableOfflineQueue: false, commandTimeout: 500, maxRetriesPerRequest: 0, connectTimeout: 3_000, retryStrategy: (times) => Math.min(times * 200, 5_000) });
}

/** One log line when the limiter's Redis goes away and one when it is back. */
function watchRedis(redis: Redis, log: Logger): void {
  let up = true;
  redis.on('ready', () => {
    if (!up) log.info('HTTP rate limits enforced again: Redis answers');
    up = true;
  });
  redis.on('error', (err: Error) => {
    if (up) log.warn({ err }, 'HTTP rate limits not enforced while Redis does not answer (requests are let through)');
    up = false;
  });
}
