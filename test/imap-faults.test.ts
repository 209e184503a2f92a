import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { count, eq, sql } from 'drizzle-orm';
import { processMetrics } from '@blend/runtime';
import { getCheckpoint, schema } from '@blend/db';
import { parseImapUrl } from '@blend/mail';
import { waitFor } from './support/database';
import { asDelivered, sendRaw, startDovecot, stopDovecot, withImap } from './support/mail-server';
import { buildMessage } from './support/messages';
import { startStack, type Stack } from './support/stack';
import { startTcpProxy } from './support/tcp-proxy';

// IMAP faults against the real Dovecot (docs/SECURITY.md F10 and a server restart): the poller
// reconnects and resumes from its checkpoint; nothing lost, nothing duplicated (I1, I2).
let s: Stack | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await s?.stop();
  s = undefined;
  for (const c of cleanups.splice(0)) await c();
}, 60_000);
// Whatever happened, later test files need Dovecot.
afterAll(() => startDovecot(), 30_000);

const fast = { BLEND_POLL_INTERVAL_MS: '1000', BLEND_RECONCILE_INTERVAL_MS: '2000', BLEND_RATE_SENDER_PER_MINUTE: '0', BLEND_RATE_SENDER_PER_HOUR: '0', BLEND_RATE_ORG_PER_MINUTE: '0' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const { inboundMessages: inbound, posts } = schema;

/** A text body of about `kb` KB in 72-character lines. */
const bigBody = (kb: number) => Array.from({ length: Math.ceil((kb * 1024) / 74) }, () => randomBytes(36).toString('hex')).join('\r\n');

/** The mailbox's UIDs, ascending. */
const mailboxUids = (imapUrl: string) =>
  withImap(imapUrl, async (client, target) => {
    await client.mailboxOpen(target.mailbox);
    return ((await client.search({ all: true }, { uid: true })) || []).sort((a, b) => a - b);
  });

/** Posts per Message-ID (through the inbound row each post was made from). */
async function postsPerMessageId(stack: Stack): Promise<Map<string, number>> {
  const rows = await stack.db.db
    .select({ messageId: inbound.messageId, n: count(posts.id) })
    .from(posts)
    .innerJoin(inbound, eq(posts.inboundId, inbound.id))
    .groupBy(inbound.messageId);
  return new Map(rows.map((r) => [r.messageId ?? '', r.n]));
}

/** Waits until every sent Message-ID has a post, then checks: one post each, no other post, no row left unfinished. */
async function everyMessageOnePost(stack: Stack, ids: string[], timeoutMs: number) {
  await waitFor(async () => {
    const per = await postsPerMessageId(stack);
    return ids.every((id) => per.has(id));
  }, `${ids.length} posts`, timeoutMs, 250);
  const per = await postsPerMessageId(stack);
  expect(ids.filter((id) => per.get(id) !== 1)).toEqual([]);
  expect((await stack.db.db.select({ n: count() }).from(posts))[0]!.n).toBe(ids.length);
  // Extra copies (a redelivery) may exist, but only as `duplicate`.
  const states = await stack.db.db.select({ state: inbound.state, n: count() }).from(inbound).groupBy(inbound.state);
  expect(states.filter((r) => r.state !== 'posted' && r.state !== 'duplicate')).toEqual([]);
}

/**
 * Follows an IMAP response stream far enough to know whether it is inside a literal
 * (`{n}\r\n` and then n bytes, RFC 3501 4.3) and to hand on each line outside literals.
 */
class ResponseReader {
  literalLeft = 0;
  private line = '';
  constructor(private readonly onLine: (line: string) => void) {}
  feed(chunk: Buffer): void {
    for (let i = 0; i < chunk.length; ) {
      if (this.literalLeft > 0) {
        const n = Math.min(this.literalLeft, chunk.length - i);
        this.literalLeft -= n;
        i += n;
        continue;
      }
      const nl = chunk.indexOf(10, i);
      const end = nl === -1 ? chunk.length : nl + 1;
      this.line += chunk.toString('latin1', i, end);
      i = end;
      if (nl === -1) continue;
      const literal = /\{(\d+)\}\r\n$/.exec(this.line);
      if (literal) this.literalLeft = Number(literal[1]);
      else this.onLine(this.line);
      this.line = '';
    }
  }
}

describe('IMAP faults', () => {
  it('the connection is cut twice in the middle of a FETCH literal: reconnect, refetch from the checkpoint, one post each', async () => {
    const n = 200;
    const batch = 25;
    s = await startStack({ ...fast, BLEND_IMAP_BATCH_SIZE: String(batch), WORKER_CONCURRENCY: '8' }, { poller: false });
    await s.person('alice@corp.test');

    // Preload the mailbox with 50-150 KB messages, so one body FETCH carries 1-4 MB.
    const { folder } = parseImapUrl(s.mail.imapUrl);
    const ids: string[] = [];
    await withImap(s.mail.imapUrl, async (client) => {
      for (let i = 0; i < n; i++) {
        const m = buildMessage({ from: 'alice@corp.test', to: `status@${s!.mail.domain}`, subject: `Big ${i}`, body: bigBody(50 + (i % 5) * 25), messageId: `imapf-${i}-${randomBytes(3).toString('hex')}@corp.test` });
        ids.push(m.messageId);
        await client.append(folder, asDelivered(m.raw, 'alice@corp.test'));
      }
    });
    const uids = await mailboxUids(s.mail.imapUrl);
    expect(uids).toHaveLength(n);

    // The proxy watches the poller's IMAP session: each `UID FETCH ... BODY.PEEK[]` (a batch of
    // sources) and its response, down to the literals. The 2nd and 3rd body FETCHes are cut
    // halfway through their response (every message is >= 50 KB, so a batch is >= 1.2 MB).
    const cutAfterBytes = (batch * 50 * 1024) / 2;
    const cutFetches = new Set([1, 2]);
    const fetches: { firstUid: number; bytes: number; done: boolean; response: ResponseReader; literalLeftAtCut?: number }[] = [];
    const cuts: Promise<{ lastUid: number; rows: number }>[] = [];
    const proxy = await startTcpProxy(143, {
      tap: (dir, chunk) => {
        if (dir === 'up') {
          const m = /^(\S+) UID FETCH (\d+)[^\r\n]*BODY\.PEEK\[\]/m.exec(chunk.toString('latin1'));
          if (!m) return;
          const f = {
            firstUid: Number(m[2]),
            bytes: 0,
            done: false,
            response: new ResponseReader((line) => {
              if (line.startsWith(`${m[1]} OK`)) f.done = true;
            }),
          };
          fetches.push(f);
          return;
        }
        const f = fetches.at(-1);
        if (!f || f.done || f.literalLeftAtCut !== undefined) return;
        if (cutFetches.has(fetches.length - 1) && f.bytes + chunk.length >= cutAfterBytes) {
          // This chunk is not forwarded: the poller has the response up to here.
          f.literalLeftAtCut = f.response.literalLeft;
          proxy.cut();
          cuts.push(snapshot()); // what was committed when the connection died
          setTimeout(() => proxy.restore(), 300);
          return;
        }
        f.bytes += chunk.length;
        f.response.feed(chunk);
      },
    });
    cleanups.push(() => proxy.close());
    const via = new URL(s.mail.imapUrl);
    via.port = String(proxy.port);
    s.config.BLEND_IMAP_URL = via.toString();
    const key = parseImapUrl(via.toString()).key;

    // I1, sampled all along: the checkpoint never passes a mailbox UID that has no row.
    const violations: string[] = [];
    async function snapshot() {
      return s!.db.db.transaction(
        async (tx) => {
          const cp = await getCheckpoint(tx, key);
          const rows = await tx.select({ uid: inbound.uid }).from(inbound).where(eq(inbound.mailbox, key));
          return { lastUid: cp?.lastUid ?? 0, rows: rows.length, uids: new Set(rows.map((r) => r.uid)) };
        },
        { isolationLevel: 'repeatable read' },
      ).then(({ lastUid, rows, uids: stored }) => {
        const missing = uids.filter((u) => u <= lastUid && !stored.has(u));
        if (missing.length > 0) violations.push(`checkpoint ${lastUid} passed unstored UIDs ${missing.slice(0, 5).join(',')}`);
        return { lastUid, rows };
      });
    }
    let samples = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        await snapshot();
        samples++;
        await sleep(20);
      }
    })();
    cleanups.push(async () => {
      sampling = false;
      await sampler;
    });

    const reconnectsMetric = async () => (await processMetrics().imapReconnects.get()).values.find((v) => v.labels.mailbox === key)?.value ?? 0;
    const metricBefore = await reconnectsMetric();
    await s.startPoller();
    await everyMessageOnePost(s, ids, 90_000);
    sampling = false;
    await sampler;

    // Both cuts fell inside a message literal (the poller had part of a source) while some but
    // not all mail was stored.
    expect(cuts).toHaveLength(2);
    const [first, second] = await Promise.all(cuts);
    expect(fetches[1]!.literalLeftAtCut).toBeGreaterThan(0);
    expect(fetches[2]!.literalLeftAtCut).toBeGreaterThan(0);
    expect(first).toEqual({ lastUid: uids[batch - 1], rows: batch });
    expect(second).toEqual(first);
    // Each new connection resumed at the checkpoint: the lost batch was fetched again.
    expect(fetches[1]!.firstUid).toBe(uids[batch]);
    expect(fetches[2]!.firstUid).toBe(uids[batch]);
    expect(fetches[3]!.firstUid).toBe(uids[batch]);
    expect(fetches.slice(3).every((f) => f.done)).toBe(true);

    expect(violations).toEqual([]);
    expect(samples).toBeGreaterThan(10);
    expect((await getCheckpoint(s.db.db, key))?.lastUid).toBe(uids.at(-1));
    const [dupes] = await s.db.db
      .select({ rows: count(), distinct: sql<number>`count(distinct (${inbound.mailbox}, ${inbound.uidValidity}, ${inbound.uid}))::int` })
      .from(inbound);
    expect(dupes).toEqual({ rows: n, distinct: n });
    expect(s.poller().state).toBe('connected');
    expect(s.poller().reconnects).toBe(2);
    expect((await reconnectsMetric()) - metricBefore).toBe(2);
  }, 120_000);

  it('Dovecot restarted while mail keeps arriving: mail sent before, during and after ends as one post each', async () => {
    s = await startStack({ ...fast });
    await s.person('alice@corp.test');
    const stack = s;
    const ids: string[] = [];
    const send = async (phase: string) => {
      const m = buildMessage({ from: 'alice@corp.test', to: `status@${stack.mail.domain}`, subject: `${phase} ${ids.length}` });
      await sendRaw(m.raw, { from: 'alice@corp.test', to: `status@${stack.mail.domain}` });
      ids.push(m.messageId);
    };
    for (let i = 0; i < 5; i++) await send('before');
    await everyMessageOnePost(s, [...ids], 30_000);

    // Keep sending through the restart: Postfix queues what it cannot hand to LMTP.
    let sending = true;
    const sender = (async () => {
      while (sending) {
        await send('during');
        await sleep(100);
      }
    })();
    try {
      await waitFor(async () => ids.length >= 8, 'mail flowing');
      await stopDovecot();
      const sentWhileDown = ids.length;
      await waitFor(async () => stack.poller().state !== 'connected', 'the poller to notice', 10_000, 20);
      await waitFor(async () => ids.length >= sentWhileDown + 5, 'mail sent while Dovecot is down');
    } finally {
      await startDovecot();
    }
    await waitFor(async () => stack.poller().state === 'connected' && stack.poller().reconnects >= 1, 'the poller connected again', 30_000, 50);
    const sentWhenBack = ids.length;
    await waitFor(async () => ids.length >= sentWhenBack + 5, 'mail sent after the restart');
    sending = false;
    await sender;
    for (let i = 0; i < 5; i++) await send('after');

    await everyMessageOnePost(s, ids, 60_000);
    expect(s.poller().state).toBe('connected');
    expect(s.poller().reconnects).toBeGreaterThanOrEqual(1);
    expect((await getCheckpoint(s.db.db, parseImapUrl(s.mail.imapUrl).key))?.lastUid).toBe((await mailboxUids(s.mail.imapUrl)).at(-1));
  }, 120_000);
});
