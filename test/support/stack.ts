import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { addressingFrom, loadConfig, mailSiteFrom, type Config } from '@blend/config';
import { createLogger, processMetrics } from '@blend/runtime';
import { buildApp, chatIntegrationsFrom } from '@blend/api';
import { issueApiToken, upsertPerson } from '@blend/db';
import { startPollerService, type MailboxPoller, type PollerService } from '@blend/poller';
import { runDigestFor, type DigestRunResult } from '@blend/outbound';
import { createProducerRedis, createQueues, enqueueSend } from '@blend/queue';
import { startWorkerService } from '@blend/worker';
import { createTestDatabase, waitFor, type TestDatabase } from './database';
import { createMailDomain, type MailDomain } from './mail-server';
import { TEST_ORG_DOMAINS, testResolver } from './dns';

type Running = { stop(): Promise<void> };

/**
 * A whole Blend installation for one test file, on the real local servers: its own
 * database, its own mail domain (and so its own IMAP mailbox) and its own queue prefix.
 * The API is driven with `inject()`, so no port is opened. With `BLEND_ADDRESSING: 'plus'`
 * in the overrides the mail domain has no catch-all: Blend uses the one mailbox `bridge@`
 * (BLEND_MAIL_ADDRESS) and its sub-addresses.
 */
export interface Stack {
  config: Config;
  db: TestDatabase;
  mail: MailDomain;
  /**
   * A second mail domain for the people of the organisation (an org domain with SPF for
   * 127.0.0.1): every address at it lands in `people.imapUrl`, so tests read the mail
   * Blend sends to people.
   */
  people: MailDomain;
  app: FastifyInstance;
  startPoller(): Promise<void>;
  /** The running poller's mailbox watcher (throws when the poller is stopped). */
  poller(): MailboxPoller;
  stopPoller(): Promise<void>;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  /** Create an opted-in (by default) person and return their API token. */
  person(email: string, opts?: { name?: string; optIn?: boolean }): Promise<string>;
  get<T = unknown>(url: string, token: string): Promise<{ status: number; body: T }>;
  /** Build one person's digest now, whatever their schedule, and queue its mail (as `blend digest --now --person`). */
  digestNow(email: string): Promise<DigestRunResult | undefined>;
  stop(): Promise<void>;
}

export async function startStack(
  overrides: Record<string, string> = {},
  opts: {
    poller?: boolean;
    /** Settings that depend on the stack's mailboxes (e.g. an IMAP URL through another server), applied last. */
    env?: (mail: MailDomain, people: MailDomain) => Record<string, string>;
  } = {},
): Promise<Stack> {
  const db = await createTestDatabase();
  const plus = overrides.BLEND_ADDRESSING === 'plus';
  const mail = await createMailDomain({ catchAll: !plus });
  const people = await createMailDomain();
  const prefix = `bt${randomBytes(4).toString('hex')}`;
  const config = loadConfig({
    DATABASE_URL: db.url,
    REDIS_URL: 'redis://127.0.0.1:6379',
    BLEND_IMAP_URL: mail.imapUrl,
    BLEND_SMTP_URL: mail.smtpUrl,
    ...(plus ? { BLEND_MAIL_ADDRESS: mail.user } : { BLEND_MAIL_DOMAIN: mail.domain }),
    BLEND_SECRET: randomBytes(32).toString('hex'),
    BLEND_QUEUE_PREFIX: prefix,
    BLEND_POLL_INTERVAL_MS: '5000',
    BLEND_WORKER_HEALTH_PORT: '0',
    BLEND_POLLER_HEALTH_PORT: '0',
    BLEND_ORG_DOMAINS: `${TEST_ORG_DOMAINS},${people.domain}`,
    LOG_LEVEL: process.env.BLEND_TEST_LOG_LEVEL ?? 'silent',
    // Publish receipts would add mail (and bounces from unroutable test senders) to tests
    // about other things; test/back-to-email.test.ts turns them on.
    BLEND_RECEIPTS_FIRST: '0',
    ...overrides,
    ...opts.env?.(mail, people),
  });
  const log = createLogger('test', config.LOG_LEVEL);
  const redis = createProducerRedis(config.REDIS_URL);
  redis.on('error', () => undefined);
  const queues = createQueues(redis, prefix);
  const app = buildApp({ db: db.db, pool: db.pool, redis, log, queues, secret: config.BLEND_SECRET, withheldRetentionDays: config.BLEND_WITHHELD_RETENTION_DAYS, metrics: processMetrics(), addressing: addressingFrom(config),
    activity: { coalesceMs: config.BLEND_NOTIFY_COALESCE_MS, correctionWindowMs: config.BLEND_CORRECTION_WINDOW_MS },
    webhookAllowPrivate: config.BLEND_WEBHOOK_ALLOW_PRIVATE,
    integrations: chatIntegrationsFrom(config),
    streamMaxConnections: config.BLEND_STREAM_MAX_CONNECTIONS,
    ...(config.BLEND_PUBLIC_URL ? { publicUrl: config.BLEND_PUBLIC_URL } : {}),
  });
  let worker: Running | null = null;
  let poller: PollerService | null = null;

  const stack: Stack = {
    config,
    db,
    mail,
    people,
    app,
    startWorker: async () => {
      worker ??= await startWorkerService(config, log, { resolver: testResolver([people.domain]) });
    },
    stopWorker: async () => {
      await worker?.stop();
      worker = null;
    },
    startPoller: async () => {
      if (poller) return;
      poller = await startPollerService(config, log);
      const p = poller;
      await waitFor(async () => p.poller?.state === 'connected', 'the poller to take the lease and connect', 15_000, 50);
    },
    poller: () => {
      const p = poller?.poller;
      if (!p) throw new Error('the poller is not running');
      return p;
    },
    stopPoller: async () => {
      await poller?.stop();
      poller = null;
    },
    person: async (email, p = {}) => {
      const { person } = await upsertPerson(db.db, { email, name: p.name ?? email.split('@')[0]!, optIn: p.optIn ?? true });
      return issueApiToken(db.db, person.id, 'test');
    },
    get: async <T>(url: string, token: string) => {
      const res = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
      return { status: res.statusCode, body: res.json() as T };
    },
    digestNow: async (email) => {
      const run = await runDigestFor({ db: db.db, log, site: mailSiteFrom(config) }, email);
      for (const id of run?.outbound ?? []) await enqueueSend(queues.send, id);
      return run;
    },
    stop: async () => {
      // Each step is timed: a slow shutdown is a finding, so say which step it was.
      const timed = async (what: string, fn: () => Promise<unknown>) => {
        const t0 = Date.now();
        await fn();
        if (Date.now() - t0 > 5_000) process.stderr.write(`stack.stop: ${what} took ${Date.now() - t0} ms\n`);
      };
      await timed('poller', () => stack.stopPoller());
      await timed('worker', () => stack.stopWorker());
      await timed('api', () => app.close());
      await queues.close();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      await db.drop();
    },
  };
  await stack.startWorker();
  if (opts.poller !== false) await stack.startPoller();
  return stack;
}

/**
 * The environment for running one of the stack's services as a separate process (the
 * real entry points), sharing its database, mailbox and queues. Sender authentication is
 * off there: the child process has no test DNS.
 */
export function serviceEnv(s: Stack, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: s.config.DATABASE_URL,
    REDIS_URL: s.config.REDIS_URL,
    BLEND_IMAP_URL: s.config.BLEND_IMAP_URL,
    BLEND_SMTP_URL: s.config.BLEND_SMTP_URL,
    BLEND_ADDRESSING: s.config.BLEND_ADDRESSING,
    ...(s.config.BLEND_MAIL_DOMAIN ? { BLEND_MAIL_DOMAIN: s.config.BLEND_MAIL_DOMAIN } : {}),
    ...(s.config.BLEND_MAIL_ADDRESS ? { BLEND_MAIL_ADDRESS: s.config.BLEND_MAIL_ADDRESS } : {}),
    BLEND_SECRET: s.config.BLEND_SECRET,
    BLEND_QUEUE_PREFIX: s.config.BLEND_QUEUE_PREFIX,
    BLEND_SENDER_AUTH: 'none',
    BLEND_ORG_DOMAINS: 'corp.test',
    BLEND_WORKER_HEALTH_PORT: '0',
    BLEND_POLLER_HEALTH_PORT: '0',
    BLEND_RECEIPTS_FIRST: s.config.BLEND_RECEIPTS_FIRST.toString(),
    ...extra,
  };
}
