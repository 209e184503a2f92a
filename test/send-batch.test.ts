import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, inArray } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import { addOutbound, claimOutbound, schema } from '@blend/db';
import { createSmtpTransport } from '@blend/mail';
import { addressingFrom } from '@blend/config';
import { createLogger } from '@blend/runtime';
import { newMessageId } from '@blend/core';
import { LiveFirst, sendBatch } from '@blend/worker';
import { createQueues, enqueueSendBatches, rowsInLiveBatches, sendBatchJobId, type Queues } from '@blend/queue';
import { waitFor } from './support/database';
import { clearRecipientReply, fetchRawMessages, headerValues } from './support/mail-server';
import { startScriptedSmtpStack, type ScriptedSmtpStack } from './support/scripted-smtp-stack';
import type { Stack } from './support/stack';

// Sends of outbox rows written together (a batch of digests): one `send-batch` job claims its
// rows in one statement and records the accepted ones `sent` in grouped writes. Against
// Postfix's scripted listener (127.0.0.1:2526), which answers a recipient with the access(5)
// reply the test scripted and otherwise delivers into Dovecot, as test/outbound-smtp.test.ts.
let s: Stack;
let redis: Redis;
let queues: Queues;
let greylisted: string;
let gone: string;

const tag = () => randomBytes(4).toString('hex');

let env: ScriptedSmtpStack | undefined;

beforeAll(async () => {
  env = await startScriptedSmtpStack();
  ({ s, redis, queues, greylisted, gone } = env);
}, 60_000);

afterAll(() => env?.stop(), 60_000);

/** Outbox rows to these addresses, as a digest batch writes them (not queued). */
async function rows(to: string[], subject: string) {
  const out: { id: string; messageId: string; to: string }[] = [];
  for (const [i, address] of to.entries()) {
    const id = randomUUID();
    const messageId = newMessageId(id, addressingFrom(s.config));
    await addOutbound(s.db.db, { id, kind: 'digest', toAddress: address, messageId, subject: `${subject} ${i}`, textBody: `${subject} ${i}\n` });
    out.push({ id, messageId, to: address });
  }
  return out;
}

async function states(ids: string[]) {
  const r = await s.db.db.select().from(schema.outboundMessages).where(inArray(schema.outboundMessages.id, ids));
  return new Map(r.map((x) => [x.id, x]));
}

/** The copies of one of our mails in the people's mailbox, by Message-ID. */
async function copies(messageId: string) {
  return (await fetchRawMessages(s.people.imapUrl)).filter((m) => headerValues(m.source, 'Message-ID').includes(`<${messageId}>`));
}

const deps = () => ({ db: s.db.db, log: createLogger('test', 'silent'), transport: createSmtpTransport(s.config.BLEND_SMTP_URL), addressing: addressingFrom(s.config), secret: s.config.BLEND_SECRET });

describe('send batches', () => {
  it('the worker sends a batch in which one recipient is refused for good: the others are sent and marked, that one fails', async () => {
    const ok = [0, 1, 2, 3].map(() => `reader-${tag()}@${s.people.domain}`);
    const batch = await rows([ok[0]!, ok[1]!, gone, ok[2]!, ok[3]!], 'Batch with a 550');
    const ids = batch.map((b) => b.id);
    await enqueueSendBatches(queues, ids, 20, { warn: () => undefined });

    const job = await waitFor(async () => {
      const j = await queues.send.getJob(sendBatchJobId(ids));
      return j && (await j.getState()) === 'completed' ? j : undefined;
    }, 'the batch job completed');
    expect(job.name).toBe('send-batch');
    expect(job.returnvalue).toEqual({ sent: 4, cancelled: 0, failed: 1, skipped: 0 });
    const after = await states(ids);
    for (const b of batch) {
      if (b.to === gone) {
        expect(after.get(b.id)).toMatchObject({ state: 'failed', attempts: 1, claimedUntil: null });
        expect(after.get(b.id)!.lastError).toMatch(/550 5\.1\.1 .*no such user here/);
      } else {
        expect(after.get(b.id)).toMatchObject({ state: 'sent', attempts: 0, claimedUntil: null, lastError: null });
        expect(after.get(b.id)!.sentAt).not.toBeNull();
      }
    }
    for (const b of batch.filter((x) => x.to !== gone)) {
      await waitFor(async () => ((await copies(b.messageId)).length === 1 ? true : undefined), `the mail to ${b.to} delivered`);
    }
    expect(await copies(batch.find((b) => b.to === gone)!.messageId)).toHaveLength(0);
  });

  it('a batch interrupted by a transient refusal records what was accepted, and its retry resends nothing already accepted', async () => {
    const ok = [0, 1, 2].map(() => `reader-${tag()}@${s.people.domain}`);
    const batch = await rows([ok[0]!, greylisted, ok[1]!, ok[2]!], 'Batch with a 451');
    const ids = batch.map((b) => b.id);
    const first = deps();
    try {
      // The attempt throws (so the job is retried with backoff) once every mail is settled.
      await expect(sendBatch({ outboundIds: ids }, first)).rejects.toThrow(/451 4\.3\.0/);
    } finally {
      first.transport.close();
    }
    const mid = await states(ids);
    for (const b of batch) {
      if (b.to === greylisted) expect(mid.get(b.id)).toMatchObject({ state: 'pending', attempts: 1, claimedUntil: null });
      else expect(mid.get(b.id)).toMatchObject({ state: 'sent', attempts: 0 });
    }

    await clearRecipientReply(greylisted);
    const retry = deps();
    try {
      expect(await sendBatch({ outboundIds: ids }, retry)).toEqual({ sent: 1, cancelled: 0, failed: 0, skipped: 3 });
      // A third run (a duplicate job, say) finds nothing to send.
      expect(await sendBatch({ outboundIds: ids }, retry)).toEqual({ sent: 0, cancelled: 0, failed: 0, skipped: 4 });
    } finally {
      retry.transport.close();
    }
    expect([...(await states(ids)).values()].map((r) => r.state)).toEqual(['sent', 'sent', 'sent', 'sent']);
    for (const b of batch) await waitFor(async () => ((await copies(b.messageId)).length >= 1 ? true : undefined), `the mail to ${b.to} delivered`);
    // Every SMTP exchange is over, and each mail arrived exactly once.
    for (const b of batch) expect(await copies(b.messageId), b.to).toHaveLength(1);
  });

  it('a row another attempt holds is left to it: the batch sends the rest and is retried for that row', async () => {
    const batch = await rows([`reader-${tag()}@${s.people.domain}`, `reader-${tag()}@${s.people.domain}`], 'Batch with a held row');
    const ids = batch.map((b) => b.id);
    expect(await claimOutbound(s.db.db, ids[1]!, 60_000)).toBeDefined();
    const d = deps();
    try {
      await expect(sendBatch({ outboundIds: ids }, d)).rejects.toThrow(/being sent by another attempt/);
      const mid = await states(ids);
      expect(mid.get(ids[0]!)!.state).toBe('sent');
      expect(mid.get(ids[1]!)).toMatchObject({ state: 'pending', attempts: 0 });
      // The claim ends (its holder died): the retry sends that one row.
      await s.db.db.update(schema.outboundMessages).set({ claimedUntil: new Date(Date.now() - 1000) }).where(eq(schema.outboundMessages.id, ids[1]!));
      expect(await sendBatch({ outboundIds: ids }, d)).toEqual({ sent: 1, cancelled: 0, failed: 0, skipped: 1 });
    } finally {
      d.transport.close();
    }
    for (const b of batch) await waitFor(async () => ((await copies(b.messageId)).length === 1 ? true : undefined), `the mail to ${b.to} delivered once`);
  });

  it('a batch composes no mail while a live ingest runs, and sends them all once it has ended', async () => {
    const batch = await rows([0, 1, 2].map(() => `reader-${tag()}@${s.people.domain}`), 'Batch behind live mail');
    const ids = batch.map((b) => b.id);
    const liveFirst = new LiveFirst(60_000);
    let endLive = () => undefined as void;
    const live = liveFirst.run(() => new Promise<void>((r) => (endLive = r)));
    const d = deps();
    const composed: string[] = [];
    const sendMail = d.transport.sendMail.bind(d.transport);
    d.transport.sendMail = ((mail: { messageId?: string }) => {
      composed.push(String(mail.messageId));
      return sendMail(mail as never);
    }) as typeof d.transport.sendMail;
    try {
      const sending = sendBatch({ outboundIds: ids }, { ...d, liveFirst });
      // Claimed (the claim is before the turns), nothing composed nor sent while the live ingest runs.
      await waitFor(async () => ([...(await states(ids)).values()].every((r) => r.claimedUntil !== null) ? true : undefined), 'the rows claimed');
      await new Promise((r) => setTimeout(r, 300));
      expect(composed).toEqual([]);
      expect([...(await states(ids)).values()].map((r) => r.state)).toEqual(['pending', 'pending', 'pending']);
      endLive();
      await live;
      expect(await sending).toEqual({ sent: 3, cancelled: 0, failed: 0, skipped: 0 });
      expect(composed).toHaveLength(3);
    } finally {
      d.transport.close();
    }
    for (const b of batch) await waitFor(async () => ((await copies(b.messageId)).length === 1 ? true : undefined), `the mail to ${b.to} delivered once`);
  });

  it('the reconciler sees the rows of a waiting batch job, so it does not queue them again one by one', async () => {
    // A queue prefix no worker reads: the batch job stays waiting.
    const idle = createQueues(redis, `${s.config.BLEND_QUEUE_PREFIX}-idle`);
    try {
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      await enqueueSendBatches(idle, [...ids, randomUUID()], 3, { warn: () => undefined });
      const held = await rowsInLiveBatches(idle.send);
      // The fourth row was queued alone (a batch of one is a plain `send` job).
      expect([...held].sort()).toEqual([...ids].sort());
      expect(await idle.send.getJobCounts('waiting')).toEqual({ waiting: 2 });
      // Kept from one call to the next, a batch job is read once: its rows never change.
      const known = new Map<string, readonly string[]>();
      const reads: string[] = [];
      const getJob = idle.send.getJob.bind(idle.send);
      idle.send.getJob = (id: string) => (reads.push(id), getJob(id));
      expect([...(await rowsInLiveBatches(idle.send, known))].sort()).toEqual([...ids].sort());
      expect([...(await rowsInLiveBatches(idle.send, known))].sort()).toEqual([...ids].sort());
      expect(reads).toEqual([sendBatchJobId(ids)]);
      // With the jobs of one row (read from their ids alone), the fourth row too, for the reconciler.
      expect((await rowsInLiveBatches(idle.send, known, true)).size).toBe(4);
      expect(reads).toHaveLength(1);
      // A job no longer live leaves it.
      await idle.send.obliterate({ force: true });
      expect(await rowsInLiveBatches(idle.send, known)).toEqual(new Set());
      expect(known.size).toBe(0);
    } finally {
      await idle.send.obliterate({ force: true });
      await idle.close();
    }
  });
});
