import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createProducerRedis, createQueues, type Queues } from '@blend/queue';
import { clearRecipientReply, SCRIPTED_SMTP_URL, scriptRecipientReply } from './mail-server';
import { startStack, type Stack } from './stack';

/** A stack whose worker sends through Postfix's scripted listener, with two scripted recipients. */
export interface ScriptedSmtpStack {
  s: Stack;
  redis: Redis;
  queues: Queues;
  /** Answered `451 4.3.0` (a temporary refusal). */
  greylisted: string;
  /** Answered `550 5.1.1` (a permanent refusal). */
  gone: string;
  stop(): Promise<void>;
}

/**
 * Blend's stack sending through Postfix's scripted listener (127.0.0.1:2526, scripts/services.sh),
 * which answers a recipient with whatever access(5) reply a test put in its map and otherwise
 * delivers like 2525: to Dovecot over LMTP, each test domain into its own mailbox. The two
 * recipients are scripted before the worker's pool opens its first session: an smtpd session
 * keeps the map it started with, and a pooled session that only ever got 250s stays open.
 * (Removing a reply works mid-test: the listener hangs up after the error it gave.)
 */
export async function startScriptedSmtpStack(): Promise<ScriptedSmtpStack> {
  const s = await startStack({ BLEND_SMTP_URL: SCRIPTED_SMTP_URL, BLEND_POLL_INTERVAL_MS: '1000' });
  const redis = createProducerRedis(s.config.REDIS_URL);
  redis.on('error', () => undefined);
  const queues = createQueues(redis, s.config.BLEND_QUEUE_PREFIX);
  const tag = () => randomBytes(4).toString('hex');
  const greylisted = `greylisted-${tag()}@${s.people.domain}`;
  const gone = `gone-${tag()}@${s.people.domain}`;
  await scriptRecipientReply(greylisted, '451 4.3.0 try again later');
  await scriptRecipientReply(gone, '550 5.1.1 no such user here');
  return {
    s,
    redis,
    queues,
    greylisted,
    gone,
    async stop() {
      await Promise.all([greylisted, gone].map((a) => clearRecipientReply(a)));
      await queues.close();
      redis.disconnect();
      await s.stop();
    },
  };
}
