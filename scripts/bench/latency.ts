/**
 * (d) of `pnpm bench`: single deliveries over SMTP, timed from the moment the MTA accepted
 * the message (nodemailer's sendMail resolved after the 250 reply to DATA) until the post
 * is in the API's feed.
 */
import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import type pg from 'pg';
import { waitFor } from '../../test/support/database';
import { parseImapUrl } from '../../test/support/mail-server';
import type { CorpusGenerator } from './corpus';
import { mulberry32 } from './corpus-text';
import { percentile } from './stats';

export interface LatencySample {
  /** SMTP accepted -> post visible in GET /api/v1/feed. */
  ms: number;
  /** SMTP accepted -> row stored by the poller (delivery, IDLE push, FETCH; received_at). */
  storedMs: number;
  /**
   * SMTP accepted -> the poller learned of the message (the first EXISTS on its own connection
   * before the listing that found it, or that listing's start; from its log, see ingest-heard.ts):
   * the mail servers' share. Blend's share is `ms - heardMs`. NaN when the poller's log did not say.
   */
  heardMs: number;
  /**
   * SMTP accepted -> EXISTS on an independent IDLE connection to the same mailbox, for
   * comparison: Dovecot's notify delay runs per connection and may start earlier or later for
   * it than for the poller's (docs/BENCHMARKS.md, "Blend's share of the latency").
   */
  serverMs: number;
  /** Row stored -> row finished by the worker (enqueue, queue wait, ingest; processed_at). */
  ingestMs: number;
  /** Row finished -> seen: the commit, its NOTIFY and the look that followed it ({@link feedChanges}). */
  visibleMs: number;
  bytes: number;
  /** Under load, the live ingest job's own times (BullMQ's), when the probe had a job of its own. */
  stages?: LoadStages;
  /** Under load, when the MTA accepted the probe, ms after it accepted the first one. */
  sentMs?: number;
  /** Under load, the probe's IMAP UID. */
  uid?: number;
}

/**
 * Where a load probe's time after the poller learned of it went, each in ms: the poller (heard
 * -> its `storeFetched` transaction began; -> the job was queued), the queue (-> a Worker took
 * the job), the worker (-> the row was finished, its last statement; -> the job ended after
 * the commit and its sends' enqueue).
 */
export interface LoadStages {
  heardToStored: number;
  storedToQueued: number;
  queuedToPicked: number;
  pickedToFinished: number;
  finishedToJobEnd: number;
}

/** What a load probe's live job looks like in BullMQ (job ids are `ingest-<row id>`). */
export interface LiveJobs {
  getJob(id: string): Promise<{ timestamp: number; processedOn?: number | undefined; finishedOn?: number | undefined } | undefined | null>;
}

export interface LatencyOptions {
  app: FastifyInstance;
  token: string;
  pool: pg.Pool;
  generator: CorpusGenerator;
  smtpUrl: string;
  imapUrl: string;
  bridgeAddress: string;
  count: number;
  /** Unique per run, so probes are found by title. */
  tag: string;
  seed: number;
  /** Longest random pause between probes, so they do not keep step with the poller's timers. */
  maxGapMs?: number;
  /** When the poller learned of the mail with this UID, in ms since the epoch (see ingest-heard.ts). */
  heardAt?: (uid: number) => number | undefined;
}

/** accepted -> the poller heard, from the poller's log; NaN when it did not say. */
function heardMs(o: Pick<LatencyOptions, 'heardAt'>, uid: number | undefined, acceptedWall: number): number {
  const at = uid === undefined ? undefined : o.heardAt?.(uid);
  return at === undefined ? Number.NaN : at - acceptedWall;
}

export interface LatencyResult {
  samples: LatencySample[];
  /** Why the probes stopped early, e.g. a probe that Blend held instead of posting. */
  stoppedBy: string | null;
}

/** A plain SMTP client for the probes (no TLS on the loopback MTA). */
function smtpTransport(url: string) {
  const smtp = new URL(url);
  return nodemailer.createTransport({ host: smtp.hostname, port: Number(smtp.port || 25), secure: smtp.protocol === 'smtps:', ignoreTLS: smtp.protocol === 'smtp:' });
}

export async function measureLatency(o: LatencyOptions): Promise<LatencyResult> {
  const transport = smtpTransport(o.smtpUrl);
  const rng = mulberry32(o.seed ^ 0x1a7e);
  const samples: LatencySample[] = [];
  const watch = await watchMailbox(o.imapUrl);
  const changes = await feedChanges(o.pool);
  const acceptedAt: number[] = [];
  let stoppedBy: string | null = null;
  try {
    for (let i = 0; i < o.count; i++) {
      const title = `Latency probe ${o.tag}-${i}`;
      // No Cc: a Cc'd colleague gets a notice, which the local MTA bounces back into the mailbox.
      const msg = await o.generator.next({ kind: 'new_thread', subject: title, cc: false });
      await transport.sendMail({ envelope: { from: msg.from.email, to: o.bridgeAddress }, raw: msg.raw });
      const acceptedWall = Date.now();
      const accepted = performance.now();
      let seen: Awaited<ReturnType<typeof findProbe>>;
      const deadline = accepted + 30_000;
      while (!(seen = await findProbe(o, title, msg.messageId)) && performance.now() < deadline) await changes.next(FALLBACK_LOOK_MS);
      if (!seen) {
        stoppedBy = `probe ${i} not in the feed after 30 s`;
        break;
      }
      const ms = performance.now() - accepted;
      if (!seen || 'state' in seen) {
        stoppedBy = `probe ${i} ended ${seen?.state ?? 'unseen'} instead of posted`;
        break;
      }
      const { postId } = seen;
      // A UID is a bigint: pg gives it as a string.
      const row = await o.pool.query<{ uid: string; stored: number; processed: number }>(
        `select i.uid, extract(epoch from i.received_at)::float8 * 1000 as stored, extract(epoch from i.processed_at)::float8 * 1000 as processed
           from posts p join inbound_messages i on i.id = p.inbound_id where p.id = $1`,
        [postId],
      );
      const { uid, stored, processed } = row.rows[0]!;
      acceptedAt.push(accepted);
      samples.push({
        ms,
        heardMs: heardMs(o, Number(uid), acceptedWall),
        serverMs: Number.NaN,
        storedMs: stored - acceptedWall,
        ingestMs: processed - stored,
        visibleMs: acceptedWall + ms - processed,
        bytes: msg.raw.length,
      });
      // Mail arrives at random moments, not right after the previous one was handled.
      const gap = rng() * (o.maxGapMs ?? 500);
      await new Promise((resolve) => setTimeout(resolve, gap));
    }
    // The poller can see a message before the watcher does (an EXISTS also comes with the
    // response to any command), so match the announcements at the end, by subject: other
    // mail (bounced notices) may arrive in between. A probe without one keeps NaN ("n/a").
    const seqs = await watch.sequenceBySubject(samples.length);
    samples.forEach((sample, i) => {
      const seq = seqs.get(`Latency probe ${o.tag}-${i}`);
      const announced = seq === undefined ? undefined : watch.events.find((e) => e.count >= seq);
      if (announced) sample.serverMs = announced.at - acceptedAt[i]!;
    });
  } finally {
    transport.close();
    await watch.stop();
    await changes.stop();
  }
  return { samples, stoppedBy };
}

/**
 * A second IMAP connection that IDLEs on the bridge mailbox and notes when the server
 * announces each new message (untagged EXISTS, RFC 3501 7.3.1), as a reference for the poller.
 */
async function watchMailbox(imapUrl: string) {
  const t = parseImapUrl(imapUrl);
  const client = new ImapFlow({
    host: t.host,
    port: t.port,
    secure: false,
    doSTARTTLS: false,
    auth: { user: t.user, pass: t.password },
    logger: false,
    // imapflow re-enters IDLE this long after the last command (15 s by default).
    autoIdleDelay: 10,
  });
  client.on('error', () => undefined);
  const events: { count: number; at: number }[] = [];
  client.on('exists', (d: { count: number }) => events.push({ count: d.count, at: performance.now() }));
  await client.connect();
  const mailbox = await client.mailboxOpen(t.mailbox);
  const initial = mailbox.exists;
  return {
    events,
    /**
     * Sequence numbers of the messages that arrived since the watch began, by subject, once
     * at least `arrived` of them were announced (a FETCH would flush pending announcements).
     */
    sequenceBySubject: async (arrived: number) => {
      await waitFor(async () => events.some((e) => e.count >= initial + arrived), `EXISTS for ${arrived} messages`, 5_000, 20).catch(
        (err: unknown) => process.stderr.write(`bench: ${(err as Error).message}\n`),
      );
      const out = new Map<string, number>();
      for await (const m of client.fetch(`${initial + 1}:*`, { envelope: true })) out.set(m.envelope?.subject ?? '', m.seq);
      return out;
    },
    stop: () => client.logout().catch(() => client.close()),
  };
}

/**
 * The feed post titled `title` once it is there; or the probe's final state when Blend
 * finished it without a post (held by a rate limit, rejected...), so the run does not wait
 * in vain.
 */
async function findProbe(o: LatencyOptions, title: string, messageId: string): Promise<{ postId: string } | { state: string } | undefined> {
  const res = await o.app.inject({ method: 'GET', url: '/api/v1/feed?limit=5', headers: { authorization: `Bearer ${o.token}` } });
  if (res.statusCode !== 200) throw new Error(`GET /api/v1/feed: ${res.statusCode} ${res.body.slice(0, 200)}`);
  const body = res.json() as { items: { id: string; title: string }[] };
  const postId = body.items.find((p) => p.title === title)?.id;
  if (postId) return { postId };
  const row = await o.pool.query<{ state: string; reason: string | null }>(
    'select state, reason from inbound_messages where message_id = $1',
    [messageId.replace(/^<|>$/g, '')],
  );
  const r = row.rows[0];
  return r && r.state !== 'received' && r.state !== 'posted' ? { state: r.reason ? `${r.state} (${r.reason})` : r.state } : undefined;
}

export interface LoadProbeOptions extends Omit<LatencyOptions, 'app' | 'token' | 'seed' | 'maxGapMs'> {
  /** A probe is delivered every `everyMs`, whether or not the earlier ones are visible yet. */
  everyMs: number;
  /** How long one probe may take to become visible before the run gives up on it. */
  timeoutMs: number;
  /** The live ingest queue: with it, each sample gets its {@link LoadStages}. */
  liveJobs?: LiveJobs;
}

/**
 * How long the probes wait for a feed change before they look anyway: a NOTIFY missed (the
 * listening connection lost) costs this much, nothing else ({@link feedChanges}).
 */
export const FALLBACK_LOOK_MS = 100;

interface FeedChanges {
  /** Resolves at the next change (or at once when one came since the last call), at the latest after `ms`. */
  next(ms: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Postgres NOTIFY on `blend_feed` (migration 0013's triggers: sent when a transaction that
 * changed what a feed shows commits, whichever process wrote), as the API's feed cache and live
 * stream hear it: the probes look for their posts when a change is announced, so a commit is
 * seen a query's time after it, not after a polling interval.
 */
async function feedChanges(pool: pg.Pool): Promise<FeedChanges> {
  const client = await pool.connect();
  let pending = false;
  let wake: (() => void) | null = null;
  client.on('notification', () => {
    pending = true;
    wake?.();
  });
  await client.query('LISTEN blend_feed');
  return {
    next(ms: number): Promise<void> {
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          wake = null;
          pending = false;
          resolve();
        };
        const timer = setTimeout(done, ms);
        if (pending) done();
        else wake = done;
      });
    },
    stop: async () => {
      await client.query('UNLISTEN *').catch(() => undefined);
      client.release();
    },
  };
}

/** What {@link measureLatencyUnderLoad} found, and how many queries its polling sent (each a commit). */
export interface LoadLatencyResult extends LatencyResult {
  queries: number;
}

/**
 * Probes while a backlog is being ingested: a delivery every `everyMs`, each timed on its own
 * from the SMTP 250 until its post is committed (visible to any reader's next request; the
 * feed's first page would not show it, the backlog's posts being newer). One query after each
 * feed change announced ({@link feedChanges}, at least every {@link FALLBACK_LOOK_MS}) looks for
 * all probes still out, so a commit is seen a query's time after it. The IDLE
 * reference connection gives the mail servers' share as in {@link measureLatency}.
 */
export async function measureLatencyUnderLoad(o: LoadProbeOptions): Promise<LoadLatencyResult> {
  const changes = await feedChanges(o.pool);
  try {
    return await probeUnderLoad(o, changes);
  } finally {
    await changes.stop();
  }
}

async function probeUnderLoad(o: LoadProbeOptions, changes: FeedChanges): Promise<LoadLatencyResult> {
  const transport = smtpTransport(o.smtpUrl);
  const watch = await watchMailbox(o.imapUrl);
  type Probe = { title: string; id: string; accepted: number; acceptedWall: number; bytes: number; sample?: LatencySample; rowId?: string; uid?: number; stored?: number; processed?: number };
  const probes: Probe[] = [];
  let queries = 0;
  let sending = true;
  const poll = async () => {
    const deadline = performance.now() + o.timeoutMs;
    while (sending || probes.some((p) => !p.sample)) {
      const out = probes.filter((p) => !p.sample);
      if (out.length > 0) {
        queries++;
        const { rows } = await o.pool.query<{ id: string; uid: string; message_id: string; stored: number; processed: number }>(
          `select i.id, i.uid, i.message_id, extract(epoch from i.received_at)::float8 * 1000 as stored, extract(epoch from i.processed_at)::float8 * 1000 as processed
             from inbound_messages i join posts p on p.inbound_id = i.id where i.message_id = any($1::text[])`,
          [out.map((p) => p.id)],
        );
        const now = performance.now();
        for (const r of rows) {
          const p = out.find((x) => x.id === r.message_id)!;
          const ms = now - p.accepted;
          Object.assign(p, { rowId: r.id, uid: Number(r.uid), stored: r.stored, processed: r.processed });
          p.sample = { ms, heardMs: Number.NaN, serverMs: Number.NaN, storedMs: r.stored - p.acceptedWall, ingestMs: r.processed - r.stored, visibleMs: p.acceptedWall + ms - r.processed, bytes: p.bytes };
        }
      }
      if (performance.now() > deadline) return `${probes.filter((p) => !p.sample).length} probes not posted after ${o.timeoutMs} ms`;
      await changes.next(FALLBACK_LOOK_MS);
    }
    return null;
  };
  const polling = poll();
  try {
    for (let i = 0; i < o.count; i++) {
      const title = `Latency probe ${o.tag}-load-${i}`;
      const msg = await o.generator.next({ kind: 'new_thread', subject: title, cc: false });
      await transport.sendMail({ envelope: { from: msg.from.email, to: o.bridgeAddress }, raw: msg.raw });
      probes.push({ title, id: msg.messageId.replace(/^<|>$/g, ''), acceptedWall: Date.now(), accepted: performance.now(), bytes: msg.raw.length });
      if (i < o.count - 1) await new Promise((resolve) => setTimeout(resolve, o.everyMs));
    }
  } finally {
    sending = false;
    transport.close();
  }
  try {
    const stoppedBy = await polling;
    const seqs = await watch.sequenceBySubject(probes.length);
    const samples: LatencySample[] = [];
    for (const p of probes) {
      if (!p.sample) continue;
      const seq = seqs.get(p.title);
      const announced = seq === undefined ? undefined : watch.events.find((e) => e.count >= seq);
      if (announced) p.sample.serverMs = announced.at - p.accepted;
      p.sample.heardMs = heardMs(o, p.uid, p.acceptedWall);
      const job = o.liveJobs && p.rowId ? await o.liveJobs.getJob(`ingest-${p.rowId}`).catch(() => null) : null;
      if (job?.processedOn && job.finishedOn && p.stored !== undefined && p.processed !== undefined) {
        p.sample.stages = {
          heardToStored: p.stored - (p.acceptedWall + p.sample.heardMs),
          storedToQueued: job.timestamp - p.stored,
          queuedToPicked: job.processedOn - job.timestamp,
          pickedToFinished: p.processed - job.processedOn,
          finishedToJobEnd: job.finishedOn - p.processed,
        };
      }
      p.sample.sentMs = p.accepted - probes[0]!.accepted;
      if (p.uid !== undefined) p.sample.uid = p.uid;
      samples.push(p.sample);
    }
    return { samples, stoppedBy, queries };
  } finally {
    await watch.stop();
  }
}

/**
 * Each probe's {@link LoadStages} on a line of its own, in the order sent, so the probes that came
 * while the poller was still storing the backlog (the first seconds) can be told from the later ones.
 */
export function formatProbeStages(samples: LatencySample[]): string {
  const cols: [string, (s: LatencySample & { stages: LoadStages }) => number][] = [
    ['sent', (s) => s.sentMs ?? Number.NaN],
    ['heard', (s) => s.heardMs],
    ['ref', (s) => s.serverMs],
    ['share', (s) => s.ms - s.heardMs],
    ['heard>stored', (s) => s.stages.heardToStored],
    ['>queued', (s) => s.stages.storedToQueued],
    ['>picked', (s) => s.stages.queuedToPicked],
    ['>finished', (s) => s.stages.pickedToFinished],
    ['>seen', (s) => s.visibleMs],
  ];
  const rows = samples.flatMap((s) => (s.stages ? [s as LatencySample & { stages: LoadStages }] : []));
  if (rows.length === 0) return 'no probe had a live job of its own';
  return [
    "each live probe (ms after the MTA's 250: heard by the poller, reference EXISTS; then Blend's share = total less heard, and its stages):",
    `  ${' '.repeat(3)} ${cols.map(([name]) => name).join(' ')}`,
    ...rows.map((s, i) => `  ${String(i).padStart(3)} ${cols.map(([name, f]) => String(Math.round(f(s))).padStart(name.length)).join(' ')}`),
  ].join('\n');
}

/** The {@link LoadStages} of the samples that have them, p50 / p95 / max each, as lines of text. */
export function formatStages(samples: LatencySample[]): string {
  const staged = samples.flatMap((s) => (s.stages ? [{ ...s.stages, heard: s.heardMs, reference: s.serverMs, share: s.ms - s.heardMs, visible: s.visibleMs }] : []));
  if (staged.length === 0) return 'no stages (no probe had a live job of its own)';
  const names: [keyof (typeof staged)[number], string][] = [
    ['heard', "accepted -> poller heard (mail servers' share)"],
    ['reference', 'accepted -> EXISTS on the reference connection'],
    ['share', "Blend's share (total less poller heard)"],
    ['heardToStored', 'poller heard -> storeFetched began'],
    ['storedToQueued', 'storeFetched began -> job queued'],
    ['queuedToPicked', 'job queued -> picked by a Worker'],
    ['pickedToFinished', 'picked -> row finished (parse, statements)'],
    ['visible', 'row finished -> seen committed (commit, NOTIFY, query)'],
    ['finishedToJobEnd', 'row finished -> job ended (commit, sends queued)'],
  ];
  return [
    `stages of ${staged.length} live probes (ms): p50 / p95 / max`,
    ...names.map(([k, label]) => {
      const xs = staged.map((s) => s[k]);
      return `  ${label.padEnd(52)} ${[50, 95, 100].map((p) => Math.round(percentile(xs, p))).join(' / ')}`;
    }),
  ].join('\n');
}
