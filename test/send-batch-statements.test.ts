import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inArray } from 'drizzle-orm';
import type { Transporter } from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import { newMessageId, planAttachments, type Addressing } from '@blend/core';
import { addOutbound, ensureGroup, insertComment, insertPost, schema, storeAttachments, upsertPerson } from '@blend/db';
import { createLogger } from '@blend/runtime';
import { COMPOSED_BYTES, sendBatch } from '@blend/worker';
import { countTransactions } from './support/count-transactions';
import { createTestDatabase, type TestDatabase } from './support/database';

// A batch of sends costs one claim and one settle statement whatever its size, reads the files
// of a comment mirrored to several people once, and holds a bounded number of composed mails
// (docs/ARCHITECTURE.md "Outbound mail"). An SMTP transport that accepts every mail stands in
// for the server; the statements are counted on the connections, not timed.
let t: TestDatabase;
const addressing: Addressing = { mode: 'domain', domain: 'example.test' };
let postId: string;
let commentId: string;
let paused: string;

beforeAll(async () => {
  t = await createTestDatabase();
  const group = await ensureGroup(t.db, 'general');
  const { person: alice } = await upsertPerson(t.db, { email: 'alice@corp.test', name: 'Alice', optIn: true });
  const post = await insertPost(t.db, { groupId: group.id, authorId: alice.id, title: 'Plans', bodyText: 'Plans', bodyHtml: '<p>Plans</p>', source: 'esn' });
  const comment = await insertComment(t.db, { postId: post.id, authorId: alice.id, bodyText: 'see the file', bodyHtml: '<p>see the file</p>', source: 'esn' });
  postId = post.id;
  commentId = comment.id;
  const plan = planAttachments([{ filename: 'plan.pdf', contentType: 'application/pdf', size: 3, inline: false }])[0]!;
  await storeAttachments(t.db, { postId, commentId }, [{ plan, content: Buffer.from('pdf') }]);
  paused = 'paused@corp.test';
  await upsertPerson(t.db, { email: paused, name: 'Paused', optIn: true });
  await t.db.update(schema.people).set({ mailPausedAt: new Date() }).where(inArray(schema.people.email, [paused]));
});
afterAll(async () => t?.drop());

/** A transport whose server accepts every mail after `delayMs`, counting the mails in flight. */
function acceptingTransport(delayMs = 5, maxConnections = 2) {
  const state = { sent: [] as Mail.Options[], inFlight: 0, peak: 0 };
  const transport = {
    options: { maxConnections },
    async sendMail(m: Mail.Options) {
      state.inFlight++;
      state.peak = Math.max(state.peak, state.inFlight);
      await new Promise((r) => setTimeout(r, delayMs));
      state.inFlight--;
      state.sent.push(m);
      return { messageId: m.messageId };
    },
  } as unknown as Transporter;
  return { transport, state };
}

const deps = (transport: Transporter) => ({ db: t.db, log: createLogger('test', 'silent'), transport, addressing, secret: 'x'.repeat(32) });

async function rows(to: string[], kind: 'digest' | 'mirror') {
  const ids: string[] = [];
  for (const [i, address] of to.entries()) {
    const id = randomUUID();
    await addOutbound(t.db, {
      id, kind, toAddress: address, messageId: newMessageId(id, addressing), subject: `${kind} ${i}`, textBody: `${kind} ${i}\n`,
      ...(kind === 'mirror' ? { postId, commentId } : {}),
    });
    ids.push(id);
  }
  return ids;
}

async function states(ids: string[]) {
  const r = await t.db.select().from(schema.outboundMessages).where(inArray(schema.outboundMessages.id, ids));
  return new Map(r.map((x) => [x.id, x]));
}

describe('a batch of sends', () => {
  it('claims its rows in one statement and writes every outcome, sent and cancelled, in one more', async () => {
    const ids = await rows([...Array.from({ length: 8 }, (_, i) => `reader-${i}@corp.test`), paused], 'digest');
    const { transport, state } = acceptingTransport();
    const counted = countTransactions(t.pool);
    let outcome;
    try {
      outcome = await sendBatch({ outboundIds: ids }, deps(transport));
    } finally {
      counted.stop();
    }
    expect(outcome).toEqual({ sent: 8, cancelled: 1, failed: 0, skipped: 0 });
    expect(state.sent).toHaveLength(8);
    expect(counted.statements, counted.log.join('\n')).toBe(2);
    expect(counted.commits).toBe(2);
    const after = await states(ids);
    for (const id of ids.slice(0, 8)) {
      expect(after.get(id)).toMatchObject({ state: 'sent', claimedUntil: null, lastError: null });
      expect(after.get(id)!.sentAt).not.toBeNull();
    }
    expect(after.get(ids[8]!)).toMatchObject({ state: 'cancelled', claimedUntil: null, lastError: 'address paused after hard bounces', sentAt: null });
  });

  it('reads the files of a comment mirrored to several people once, and each mirror carries them', async () => {
    // For comparison, a batch of one mirror and one mail without files.
    const one = [...(await rows(['solo@corp.test'], 'mirror')), ...(await rows(['solo2@corp.test'], 'digest'))];
    const counted1 = countTransactions(t.pool);
    try {
      await sendBatch({ outboundIds: one }, deps(acceptingTransport().transport));
    } finally {
      counted1.stop();
    }
    const ids = await rows(['bob@corp.test', 'carol@corp.test', 'dave@corp.test', 'erin@corp.test'], 'mirror');
    const { transport, state } = acceptingTransport();
    const counted = countTransactions(t.pool);
    try {
      expect(await sendBatch({ outboundIds: ids }, deps(transport))).toEqual({ sent: 4, cancelled: 0, failed: 0, skipped: 0 });
    } finally {
      counted.stop();
    }
    // The files' reads of four mirrors are those of one: the claim and the settle are the rest.
    expect(counted.statements, counted.log.join('\n')).toBe(counted1.statements);
    expect(counted.log.filter((s) => /attachment/.test(s)).length).toBeGreaterThan(0);
    for (const m of state.sent) expect(m.attachments?.map((a) => a.filename)).toEqual(['plan.pdf']);
  });

  it('holds at most twice the SMTP sessions of composed mails at once in the process, however many batches run', async () => {
    const { transport, state } = acceptingTransport(20, 2);
    const batches = await Promise.all([0, 1, 2].map((b) => rows(Array.from({ length: 10 }, (_, i) => `r${b}-${i}@corp.test`), 'digest')));
    const outcomes = await Promise.all(batches.map((ids) => sendBatch({ outboundIds: ids }, deps(transport))));
    for (const o of outcomes) expect(o).toEqual({ sent: 10, cancelled: 0, failed: 0, skipped: 0 });
    expect(state.sent).toHaveLength(30);
    expect(state.peak).toBe(4);
  });

  it('holds at most COMPOSED_BYTES of composed mail at once: mirrors of a large file go out at most two at a time beside small mail', async () => {
    const { person: alice } = await upsertPerson(t.db, { email: 'alice@corp.test', name: 'Alice', optIn: true });
    const comment = await insertComment(t.db, { postId, authorId: alice.id, bodyText: 'the figures', bodyHtml: '<p>the figures</p>', source: 'esn' });
    const size = 7 * 1024 * 1024;
    const plan = planAttachments([{ filename: 'figures.pdf', contentType: 'application/pdf', size, inline: false }])[0]!;
    await storeAttachments(t.db, { postId, commentId: comment.id }, [{ plan, content: Buffer.alloc(size, 7) }]);
    const mirrors = async (b: number) => {
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        const id = randomUUID();
        await addOutbound(t.db, { id, kind: 'mirror', toAddress: `big${b}-${i}@corp.test`, messageId: newMessageId(id, addressing), subject: 'figures', textBody: 'the figures\n', postId, commentId: comment.id });
        ids.push(id);
      }
      return ids;
    };
    const batches = [await mirrors(0), await mirrors(1), [...(await rows(Array.from({ length: 6 }, (_, i) => `small-${i}@corp.test`), 'digest'))]];
    let inFlight = 0;
    let bigInFlight = 0;
    let bigPeak = 0;
    let bytes = 0;
    let bytesPeak = 0;
    const sent: Mail.Options[] = [];
    const transport = {
      options: { maxConnections: 5 },
      async sendMail(m: Mail.Options) {
        inFlight++;
        let files = 0;
        // A large file comes as a stream of slices (fileContent): its bytes are counted as read.
        for (const a of m.attachments ?? []) {
          if (Buffer.isBuffer(a.content)) files += a.content.length;
          else for await (const chunk of a.content as AsyncIterable<Buffer>) files += chunk.length;
          (a as { size?: number }).size = files;
        }
        bytes += files;
        bytesPeak = Math.max(bytesPeak, bytes);
        if (files > 0) bigPeak = Math.max(bigPeak, ++bigInFlight);
        await new Promise((r) => setTimeout(r, 30));
        if (files > 0) bigInFlight--;
        bytes -= files;
        inFlight--;
        sent.push(m);
        return { messageId: m.messageId };
      },
    } as unknown as Transporter;
    const outcomes = await Promise.all(batches.map((ids) => sendBatch({ outboundIds: ids }, deps(transport))));
    expect(outcomes.map((o) => o.sent)).toEqual([4, 4, 6]);
    expect(sent).toHaveLength(14);
    for (const m of sent.filter((x) => x.subject === 'figures')) expect(m.attachments?.map((a) => [a.filename, (a as { size?: number }).size])).toEqual([['figures.pdf', size]]);
    // Two 7 MiB mirrors fit within 16 MiB, a third does not (counted in mails alone, all eight could go at once).
    expect(bigPeak).toBeGreaterThanOrEqual(1);
    expect(bigPeak).toBeLessThanOrEqual(2);
    expect(bytesPeak).toBeLessThanOrEqual(COMPOSED_BYTES);
    expect(inFlight).toBe(0);
  });
});
