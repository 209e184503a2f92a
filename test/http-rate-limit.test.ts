import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createLogger } from '@blend/runtime';
import { buildApp, createRateLimitRedis } from '@blend/api';
import { personWithToken, startTestApi, type TestApi } from './support/api';
import { freePort } from './support/ports';

// HTTP rate limits (docs/SECURITY.md B31) against the real Redis: a person over the limit gets
// 429 with Retry-After in Blend's error shape, another person keeps their own bucket, sign-ins,
// signed links and made-up tokens are limited per address, probes never; and with Redis gone
// the API still answers (fail open, with a log line).

const PER_MINUTE = 5;
const LOGIN_PER_MINUTE = 3;
let api: TestApi;
let rateRedis: Redis;
let alice = '';
let bob = '';

beforeAll(async () => {
  rateRedis = createRateLimitRedis('redis://127.0.0.1:6379');
  api = await startTestApi({
    rateLimits: { redis: rateRedis, prefix: `rl${randomBytes(4).toString('hex')}`, perMinute: PER_MINUTE, loginPerMinute: LOGIN_PER_MINUTE },
  });
  alice = (await personWithToken(api.t.db, { email: 'alice@corp.test' })).token;
  bob = (await personWithToken(api.t.db, { email: 'bob@corp.test' })).token;
});

afterAll(async () => {
  await api?.close();
  rateRedis?.disconnect();
});

/** A request from its own client address, so that the tests' buckets do not mix. */
const call = (o: { url: string; method?: 'GET' | 'POST'; token?: string; from: string; payload?: string; headers?: Record<string, string> }) =>
  api.app.inject({
    method: o.method ?? 'GET',
    url: o.url,
    remoteAddress: o.from,
    headers: { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...o.headers },
    ...(o.payload !== undefined ? { payload: o.payload } : {}),
  });

describe('HTTP rate limits', () => {
  it('answers 429 with Retry-After and the JSON error shape past the limit, per person', async () => {
    for (let i = 0; i < PER_MINUTE; i++) expect((await call({ url: '/api/v1/me', token: alice, from: '10.1.0.1' })).statusCode).toBe(200);
    const over = await call({ url: '/api/v1/me', token: alice, from: '10.1.0.1' });
    expect(over.statusCode).toBe(429);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(over.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(over.json()).toEqual({ error: { code: 'RATE_LIMITED', message: expect.stringContaining('too many requests') } });
    // Another person behind the same address has a bucket of their own.
    expect((await call({ url: '/api/v1/me', token: bob, from: '10.1.0.1' })).statusCode).toBe(200);
    // Alice from another address is still Alice.
    expect((await call({ url: '/api/v1/me', token: alice, from: '10.1.0.2' })).statusCode).toBe(429);
    // Without a credential the address is the bucket.
    expect((await call({ url: '/api/v1/groups', from: '10.1.0.3' })).statusCode).toBe(401);
  });

  it('never limits health probes and metrics', async () => {
    for (let i = 0; i < PER_MINUTE * 3; i++) {
      expect((await call({ url: '/healthz', from: '10.2.0.1' })).statusCode).toBe(200);
      expect((await call({ url: '/metrics', from: '10.2.0.1' })).statusCode).toBe(200);
    }
  });

  it('allows only a few sign-in attempts per address', async () => {
    const form = { method: 'POST' as const, url: '/web/login', from: '10.3.0.1', payload: 'token=not-a-real-token-at-all', headers: { 'content-type': 'application/x-www-form-urlencoded' } };
    for (let i = 0; i < LOGIN_PER_MINUTE; i++) expect((await call(form)).statusCode).not.toBe(429);
    const over = await call(form);
    expect(over.statusCode).toBe(429);
    expect(over.headers['retry-after']).toBeDefined();
    // Another address may still try.
    expect((await call({ ...form, from: '10.3.0.2' })).statusCode).not.toBe(429);
  });

  it('allows only a few signed-link requests per address', async () => {
    for (let i = 0; i < LOGIN_PER_MINUTE; i++) expect((await call({ url: `/links/opt-in?t=guess${i}.x`, from: '10.4.0.1' })).statusCode).toBe(400);
    const over = await call({ url: '/links/opt-in?t=guess.x', from: '10.4.0.1' });
    expect(over.statusCode).toBe(429);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    // Someone who opened a link from a mail gets a page saying to wait, not JSON.
    expect(over.headers['content-type']).toMatch(/^text\/html/);
    expect(over.body).toContain('Wait a minute');
    expect((await call({ url: '/links/unsubscribe?t=guess.x', method: 'POST', from: '10.4.0.1' })).statusCode).toBe(429);
  });

  it('counts made-up tokens as failed sign-ins of the address, so new tokens do not open new buckets', async () => {
    for (let i = 0; i < LOGIN_PER_MINUTE; i++) {
      expect((await call({ url: '/api/v1/me', token: `made-up-token-${i}-${randomBytes(8).toString('hex')}`, from: '10.5.0.1' })).statusCode).toBe(401);
    }
    const next = await call({ url: '/api/v1/me', token: `made-up-token-${randomBytes(8).toString('hex')}`, from: '10.5.0.1' });
    expect(next.statusCode).toBe(429);
    expect(next.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    // A person at another address is not affected.
    expect((await call({ url: '/api/v1/me', token: bob, from: '10.5.0.2' })).statusCode).toBe(200);
  });

  it('lets requests through and logs it when Redis does not answer', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    // Nothing listens on this port: the limiter's Redis never connects.
    const dead = createRateLimitRedis(`redis://127.0.0.1:${await freePort()}`);
    const log = createLogger('api', 'info', sink);
    const app = buildApp(api.deps({ log, rateLimits: { redis: dead, prefix: 'dead', perMinute: 1, loginPerMinute: 1 } }));
    try {
      for (let i = 0; i < 4; i++) {
        const res = await app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${alice}` } });
        expect(res.statusCode).toBe(200);
        expect(res.headers['retry-after']).toBeUndefined();
      }
      for (let i = 0; i < 3; i++) expect((await app.inject({ method: 'GET', url: '/links/opt-in?t=x.y' })).statusCode).toBe(400);
      expect((await app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: 'Bearer made-up-token-123456' } })).statusCode).toBe(401);
      expect((await app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: 'Bearer made-up-token-123457' } })).statusCode).toBe(401);
      await expect.poll(() => lines.some((l) => l.includes('HTTP rate limits not enforced while Redis does not answer')), { timeout: 10_000 }).toBe(true);
    } finally {
      await app.close();
      dead.disconnect();
    }
  });
});
