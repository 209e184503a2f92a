import { parseArgs } from 'node:util';
import { loadConfigSubset, mailSiteFrom } from '@blend/config';
import { createLogger } from '@blend/runtime';
import type { DbHandle } from '@blend/db';
import { warmTemplates } from '@blend/mail';
import { createProducerRedis, createQueues, enqueueAll } from '@blend/queue';
import { runDigestFor, runDueDigests, type DigestRunResult } from '@blend/outbound';
import { UsageError } from './cli-commands';

/**
 * `blend digest --now [--person EMAIL]`: build and queue the digests that are due now, or one
 * person's digest whatever their schedule (activity since their last digest; nothing is sent
 * when there is none). The worker's `send` processor delivers them.
 */
export async function digestNow(dbh: DbHandle, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { now: { type: 'boolean', default: false }, person: { type: 'string' }, json: { type: 'boolean', default: false } } });
  if (!values.now) throw new UsageError('digest needs --now (scheduled digests are run by the worker)');
  const cfg = loadConfigSubset(['REDIS_URL', 'BLEND_QUEUE_PREFIX', 'BLEND_ADDRESSING', 'BLEND_MAIL_DOMAIN', 'BLEND_MAIL_ADDRESS', 'BLEND_SECRET', 'BLEND_PUBLIC_URL', 'BLEND_DEFAULT_LANGUAGE', 'PORT', 'LOG_LEVEL']);
  const log = createLogger('blend-cli', cfg.LOG_LEVEL === 'info' ? 'warn' : cfg.LOG_LEVEL);
  await warmTemplates();
  const deps = { db: dbh.db, log, site: mailSiteFrom(cfg) };
  let result: DigestRunResult | undefined;
  if (values.person) {
    result = await runDigestFor(deps, values.person);
    if (!result) throw new UsageError(`no person ${values.person}`);
  } else {
    result = await runDueDigests(deps);
  }
  const redis = createProducerRedis(cfg.REDIS_URL);
  const queues = createQueues(redis, cfg.BLEND_QUEUE_PREFIX);
  try {
    await enqueueAll(queues, result.outbound, log);
  } finally {
    await queues.close();
    redis.disconnect();
  }
  if (values.json) console.log(JSON.stringify({ sent: result.sent, empty: result.empty, scheduled: result.scheduled, outbound: result.outbound }));
  else console.log(`digests queued: ${result.sent}; nothing new for: ${result.empty}; newly scheduled: ${result.scheduled}`);
  return 0;
}
