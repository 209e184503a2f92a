import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import { addOutbound, claimOutbound, findPersonByEmail, schema, setOptIn } from '@blend/db';
import { createSmtpTransport } from '@blend/mail';
import { addressingFrom } from '@blend/config';
import { createLogger } from '@blend/runtime';
import { issueBounceToken, newMessageId } from '@blend/core';
import { send } from '@blend/worker';
import { enqueueSend, sendJobId, type Queues } from '@blend/queue';
import { waitFor } from './support/database';
import { clearRecipientReply, fetchRawMessages, headerValues } from './support/mail-server';
import { startScriptedSmtpStack, type ScriptedSmtpStack } from './support/scripted-smtp-stack';
import type { Stack } from './support/stack';

// Outbound mail against the real Postfix and Dovecot (docs/SECURITY.md F19, F20, B10). The worker
// sends through Postfix's scripted listener (127.0.0.1:2526, scripts/services.sh), which
// answers a recipient with whatever access(5) reply the test put in its map, and otherwise
// delivers like 2525: to Dovecot over LMTP, each test domain into its own mailbox.
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

/** An outbox row and its `send` job, as ingest writes and queues them. */
async function outbox(to: string, subject: string) {
  const id = randomUUID();
  const messageId = newMessageId(id, addressingFrom(s.config));
  await addOutbound(s.db.db, { id, kind: 'test', toAddress: to, messageId, subject, textBody: `${subject}\n` });
  await enqueueSend(queues.send, id);
  return { id, messageId };
}

async function row(id: string) {
  const rows = await s.db.db.select().from(schema.outboundMessages).where(eq(schema.outboundMessages.id, id));
  return rows[0]!;
}

const rowIn = (id: string, state: string, what: string, timeoutMs = 20_000) =>
  waitFor(async () => {
    const r = await row(id);
    return r.state === state ? r : undefined;
  }, what, timeoutMs);

/** The copies of one of our mails in a mailbox, found by Message-ID. */
async function copies(imapUrl: string, messageId: string) {
  return (await fetchRawMessages(imapUrl)).filter((m) => headerValues(m.source, 'Message-ID').includes(`<${messageId}>`));
}

describe('outbound SMTP', () => {
  it('451 then 250: the send is retried after a backoff and the mail arrives exactly once', async () => {
    const to = greylisted;
    const out = await outbox(to, 'Greylisted once');

    const deferred = await waitFor(async () => {
      const r = await row(out.id);
      return r.attempts >= 1 ? r : undefined;
    }, 'a first attempt answered 451');
    expect(deferred.state).toBe('pending');
    expect(deferred.lastError).toMatch(/451 4\.3\.0 .*try again later/);
    const job = await queues.send.getJob(sendJobId(out.id));
    expect(await job!.getState()).toBe('delayed'); // retried with backoff, not failed

    await clearRecipientReply(to);
    const sent = await rowIn(out.id, 'sent', 'the retry accepted', 40_000);
    expect(sent.attempts).toBeGreaterThanOrEqual(1);
    expect(sent.sentAt).not.toBeNull();
    const got = await waitFor(async () => {
      const c = await copies(s.people.imapUrl, out.messageId);
      return c.length > 0 ? c : undefined;
    }, 'the mail in the recipient mailbox');
    await waitFor(async () => (await job!.getState()) === 'completed', 'the job completed');
    // Every SMTP attempt is over (the job completed) and a 451 at RCPT queues nothing in Postfix.
    expect(got).toHaveLength(1);
    expect(headerValues(got[0]!.source, 'Delivered-To')).toEqual([to]);
  });

  it('550: the row fails with the reason after one attempt, and the job is not retried', async () => {
    const out = await outbox(gone, 'To nobody');

    const failed = await rowIn(out.id, 'failed', 'the row failed');
    expect(failed.attempts).toBe(1);
    expect(failed.lastError).toMatch(/550 5\.1\.1 .*no such user here/);
    const job = await waitFor(async () => {
      const j = await queues.send.getJob(sendJobId(out.id));
      return j && (await j.getState()) === 'failed' ? j : undefined;
    }, 'the job failed');
    expect(job.attemptsMade).toBe(1);
    expect(job.opts.attempts).toBeGreaterThan(1); // so 1 means "not retried", not "out of attempts"
    expect(job.failedReason).toContain('SMTP_REJECTED');
    expect(await copies(s.people.imapUrl, out.messageId)).toHaveLength(0);
  });

  it('a DSN for a sent mail, sent by Postfix to our VERP address, marks the mail bounced', async () => {
    // Postfix accepts any *.test recipient, but Dovecot knows no account at this domain and
    // answers 550 5.1.1 over LMTP: Postfix then sends a real RFC 3464 DSN (multipart/report)
    // to the envelope sender, bounce+<row id>@<bridge domain>, which lands in the bridge's
    // mailbox, where the poller and the worker take it in. (test/trust-auth.test.ts feeds a
    // hand-written DSN for a row that was never sent.)
    const to = `leaver-${tag()}@gone-${tag()}.test`;
    const out = await outbox(to, 'Will bounce');

    const bounced = await rowIn(out.id, 'bounced', 'the row marked bounced');
    expect(bounced.lastError).toMatch(/^Status: 5\.1\.1 .*550 5\.1\.1/);
    expect(bounced.lastError).toContain(to);
    expect(bounced.sentAt).not.toBeNull(); // it was sent first
    const verp = `bounce+${issueBounceToken(out.id, s.config.BLEND_SECRET)}@${s.mail.domain}`;
    const dsn = (await fetchRawMessages(s.mail.imapUrl)).find((m) => headerValues(m.source, 'Delivered-To').includes(verp));
    expect(headerValues(dsn!.source, 'Return-Path')).toEqual(['<>']);
    expect(headerValues(dsn!.source, 'Content-Type')[0]).toMatch(/^multipart\/report; report-type=delivery-status/);
    const inbound = await s.db.db
      .select()
      .from(schema.inboundMessages)
      .where(and(eq(schema.inboundMessages.reason, 'bounce'), eq(schema.inboundMessages.state, 'rejected')));
    expect(inbound).toHaveLength(1); // taken in as a bounce, never posted
  });

  it('a row another attempt is sending is not sent a second time; it goes out once the claim ends', async () => {
    // As if a stalled job were taken over while its first run still talks to the server.
    const to = `claimed-${tag()}@${s.people.domain}`;
    const id = randomUUID();
    const messageId = newMessageId(id, addressingFrom(s.config));
    await addOutbound(s.db.db, { id, kind: 'test', toAddress: to, messageId, subject: 'Claimed', textBody: 'Claimed\n' });
    expect(await claimOutbound(s.db.db, id, 60_000)).toBeDefined();
    expect(await claimOutbound(s.db.db, id, 60_000)).toBeUndefined();
    const transport = createSmtpTransport(s.config.BLEND_SMTP_URL);
    const deps = { db: s.db.db, log: createLogger('test', 'silent'), transport, addressing: addressingFrom(s.config), secret: s.config.BLEND_SECRET };
    try {
      await expect(send({ outboundId: id }, deps)).rejects.toThrow(/being sent by another attempt/);
      expect(await row(id)).toMatchObject({ state: 'pending', attempts: 0 });
      // The claim ends (its holder died): the next attempt sends it, once.
      await s.db.db.update(schema.outboundMessages).set({ claimedUntil: new Date(Date.now() - 1000) }).where(eq(schema.outboundMessages.id, id));
      expect(await send({ outboundId: id }, deps)).toEqual({ state: 'sent' });
      expect(await send({ outboundId: id }, deps)).toEqual({ state: 'skipped', reason: 'sent' });
      await waitFor(async () => ((await copies(s.people.imapUrl, messageId)).length === 1 ? true : undefined), 'the one copy');
      expect(await row(id)).toMatchObject({ state: 'sent', claimedUntil: null });
    } finally {
      transport.close();
    }
  });

  describe('content withdrawn while the mail waited (docs/SECURITY.md F29)', () => {
    /** A post with a comment by `author`, written through the API, and the mirror mail of that comment. */
    async function mirrorOfComment(author: string) {
      const token = await s.person(author, { name: 'Author' });
      const post = await s.app.inject({ method: 'POST', url: '/api/v1/posts', headers: { authorization: `Bearer ${token}` }, payload: { group: 'general', title: `Topic ${tag()}`, body: 'The post.' } });
      expect(post.statusCode).toBe(201);
      const postId = (post.json() as { id: string }).id;
      const comment = await s.app.inject({ method: 'POST', url: `/api/v1/posts/${postId}/comments`, headers: { authorization: `Bearer ${token}` }, payload: { body: 'Words I may take back.' } });
      expect(comment.statusCode).toBe(201);
      const commentId = (comment.json() as { id: string }).id;
      const id = randomUUID();
      const messageId = newMessageId(id, addressingFrom(s.config));
      const to = `reader-${tag()}@${s.people.domain}`;
      await addOutbound(s.db.db, { id, kind: 'mirror', toAddress: to, postId, commentId, messageId, subject: 'Re: Topic', textBody: 'Words I may take back.\n' });
      return { id, messageId, postId, commentId, token };
    }
    const deps = () => ({ db: s.db.db, log: createLogger('test', 'silent'), transport: createSmtpTransport(s.config.BLEND_SMTP_URL), addressing: addressingFrom(s.config), secret: s.config.BLEND_SECRET });

    it('a mirror of a comment retracted after it was queued is cancelled, not sent', async () => {
      const m = await mirrorOfComment(`retractor-${tag()}@corp.test`);
      const retracted = await s.app.inject({ method: 'DELETE', url: `/api/v1/comments/${m.commentId}`, headers: { authorization: `Bearer ${m.token}` } });
      expect(retracted.statusCode).toBeLessThan(300);
      const d = deps();
      try {
        expect(await send({ outboundId: m.id }, d)).toEqual({ state: 'cancelled', reason: 'retracted' });
      } finally {
        d.transport.close();
      }
      expect(await row(m.id)).toMatchObject({ state: 'cancelled', lastError: 'not sent: its content was retracted after it was queued', sentAt: null });
      expect(await copies(s.people.imapUrl, m.messageId)).toHaveLength(0);
    });

    it('a mirror of a comment whose author opted out after it was queued is cancelled; one still wanted is sent', async () => {
      const author = `leaving-${tag()}@corp.test`;
      const gone = await mirrorOfComment(author);
      const kept = await mirrorOfComment(`staying-${tag()}@corp.test`);
      const person = (await findPersonByEmail(s.db.db, author))!;
      await setOptIn(s.db.db, person.id, 'opted_out', 'api', person.id);
      const d = deps();
      try {
        expect(await send({ outboundId: gone.id }, d)).toEqual({ state: 'cancelled', reason: 'author_opted_out' });
        expect(await send({ outboundId: kept.id }, d)).toEqual({ state: 'sent' });
      } finally {
        d.transport.close();
      }
      expect(await row(gone.id)).toMatchObject({ state: 'cancelled', lastError: 'not sent: its author opted out after it was queued' });
      await waitFor(async () => ((await copies(s.people.imapUrl, kept.messageId)).length === 1 ? true : undefined), 'the wanted mirror delivered');
      expect(await copies(s.people.imapUrl, gone.messageId)).toHaveLength(0);
    });
  });
});
