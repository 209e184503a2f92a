import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { createLogger, createMetrics } from '@blend/runtime';
import { buildApp, type AppDeps } from '@blend/api';
import { authenticateApiToken, issueApiToken, openWebSession, upsertPerson, type Database } from '@blend/db';
import { createQueues, type Queues } from '@blend/queue';
import { createTestDatabase, type TestDatabase } from './database';

/** The API over a fresh database and the real Redis, for `app.inject()` tests. */
export interface TestApi {
  t: TestDatabase;
  app: FastifyInstance;
  redis: Redis;
  queues: Queues;
  /** The same dependencies with some replaced, for a second app in one test. */
  deps(overrides?: Partial<AppDeps>): AppDeps;
  close(): Promise<void>;
}

export async function startTestApi(overrides: Partial<AppDeps> = {}): Promise<TestApi> {
  const t = await createTestDatabase();
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  const queues = createQueues(redis, `${t.name}q`);
  const base: AppDeps = {
    db: t.db,
    pool: t.pool,
    redis,
    queues,
    metrics: createMetrics(),
    secret: 's'.repeat(32),
    withheldRetentionDays: 14,
    addressing: { mode: 'domain', domain: 'example.test' },
    log: createLogger('test', 'silent'),
    ...overrides,
  };
  const app = buildApp(base);
  return {
    t,
    app,
    redis,
    queues,
    deps: (more = {}) => ({ ...base, metrics: createMetrics(), ...more }),
    close: async () => {
      await app.close();
      await queues.close();
      redis.disconnect();
      await t.drop();
    },
  };
}

/** A person (opted in unless told otherwise) and an API token for `Authorization: Bearer`. */
export async function personWithToken(db: Database, p: { email: string; name?: string; optIn?: boolean; isAdmin?: boolean }): Promise<{ id: string; token: string }> {
  const { person } = await upsertPerson(db, { optIn: true, ...p });
  return { id: person.id, token: await issueApiToken(db, person.id) };
}

/**
 * A web session for the person a token belongs to, as `/web/login` opens one: the value of a
 * `Cookie` header (`blend_session=…`). The cookie holds a session secret, never the token.
 */
export async function sessionCookie(db: Database, token: string): Promise<string> {
  const found = await authenticateApiToken(db, token);
  if (!found) throw new Error('sessionCookie: unknown token');
  const s = await openWebSession(db, { personId: found.person.id, via: 'token', apiTokenId: found.tokenId });
  return `blend_session=${s.secret}`;
}
