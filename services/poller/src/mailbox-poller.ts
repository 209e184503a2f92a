import type { Queue } from 'bullmq';
import type { AfterAction } from '@blend/config';
import type { Logger, Metrics } from '@blend/runtime';
import { arrivalsAhead, explainImapFailure, fetchBatches, imapFailureKind, imapServerText, normaliseMessageId, type ImapFailure } from '@blend/core';
import {
  CheckpointMovedError,
  getCheckpoint,
  markImapDone,
  resetCheckpoint,
  storeFetched,
  unmarkedDone,
  type Checkpoint,
  type Database,
  type FetchedMessage,
  type LeaseStatus,
} from '@blend/db';
import { ImapSession, OAuth2TokenError, type ImapArrival, type ImapMessageSize, type ImapTarget } from '@blend/mail';
import { enqueueIngestBatch, type IngestJob } from '@blend/queue';
import { reconnectDelay, throttledDelay } from './backoff';
import { ProcessedMail } from './processed-mail';

/** BLEND_IMAP_BATCH_BYTES's default: one mail at the 25 MB size limit, or many small ones. */
export const DEFAULT_BATCH_BYTES = 32 * 1024 * 1024;

/**
 * How far a catch-up stores ahead of the workers: it downloads its next batch only while the
 * backlog queue holds fewer mails than this waiting for a worker (docs/ARCHITECTURE.md
 * "Processes and the flow"). At 50 a batch, 20 batches: seconds of the workers' work.
 */
export const CATCH_UP_AHEAD_MAILS = 1_000;

/** How often a paced catch-up looks at the backlog queue again (an EXISTS wakes it at once). */
const CATCH_UP_PACE_MS = 250;

export interface PollerOptions {
  target: ImapTarget;
  db: Database;
  /** Live mail: what IDLE or a small sync finds, and mail taken ahead of a catch-up. */
  ingestQueue: Queue<IngestJob>;
  /** A catch-up's mail: a sync that finds more than one batch waiting. */
  backlogQueue: Queue<IngestJob>;
  log: Logger;
  metrics?: Metrics;
  /** Periodic sync in case a push notification is missed. */
  pollIntervalMs: number;
  /** Re-issue IDLE this often (RFC 2177). */
  idleRestartMs: number;
  maxMessageBytes: number;
  doneFlag: string;
  /** What happens to a message in IMAP once its ingest has committed. @defaultValue flag */
  after?: AfterAction;
  /** Where IT fixes a failed login, for the log line. @defaultValue "BLEND_IMAP_URL" */
  credentialHint?: string;
  /** How many message sources are fetched and stored per transaction. @defaultValue 50 */
  batchSize?: number;
  /** BLEND_IMAP_BATCH_BYTES: most RFC822.SIZE bytes fetched and stored in one batch. @defaultValue 32 MiB */
  batchBytes?: number;
  /** How often finished rows are flagged in IMAP. @defaultValue 2000 */
  markIntervalMs?: number;
  /** {@link CATCH_UP_AHEAD_MAILS}; tests give a smaller one. */
  catchUpAheadMails?: number;
}

/** A batch downloaded for {@link MailboxPoller}'s store. */
interface Downloaded {
  fetched: FetchedMessage[];
  through: number;
  complete: boolean;
  /** UIDs of the batch taken ahead before: the checkpoint moves over them, each must have a row. */
  passing: number[];
}

/**
 * When each step before a store began and ended, in ms since the epoch, logged with the stored
 * batch at debug level so the ingest benchmark can split the poller's part of a mail's latency
 * (docs/BENCHMARKS.md, "Blend's share of the latency"): `sync` the sync began (before the
 * checkpoint read), `list`/`listed` the listing of new UIDs, `fetch`/`fetched` the batch's download.
 */
type Steps = Partial<Record<'sync' | 'list' | 'listed' | 'fetch' | 'fetched', number>>;

/** The RFC822.SIZE bytes of these messages. */
const bytesOf = (messages: { size: number }[]): number => messages.reduce((n, m) => n + m.size, 0);

/** A promise that `heard` resolves (to false: not the insert that was awaited beside it). */
function existsSignal(): { promise: Promise<false>; heard: () => void } {
  let heard!: () => void;
  const promise = new Promise<false>((resolve) => (heard = () => resolve(false)));
  return { promise, heard };
}

/** `throttled`: the server refused us for now (Exchange's `NO [THROTTLED]`…); not a login problem. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'throttled' | 'auth_failed' | 'stopped';

/**
 * Watches one IMAP mailbox: IDLE for push, a periodic sync as fallback. Every new UID is
 * stored in Postgres (with the checkpoint, in one transaction) before its `ingest` job is
 * enqueued; messages are flagged (and then moved or deleted, per `after`) in IMAP only
 * after their ingest has committed.
 *
 * A sync that finds more than one batch waiting is a catch-up: its jobs go to the backlog
 * queue, and mail announced by an EXISTS while it runs is stored and queued on the live queue
 * as soon as the IMAP connection is free, while a batch's insert runs in Postgres too
 * (docs/ARCHITECTURE.md "Processes and the flow").
 *
 * An IMAP session never reconnects by itself, so a closed one is replaced by a new one after
 * a backoff.
 */
export class MailboxPoller {
  state: ConnectionState = 'connecting';
  lastError: string | null = null;
  /** Successful connections after the first: how often the connection was replaced. */
  reconnects = 0;
  /** When the last sync of the mailbox finished. */
  lastSyncAt: Date | null = null;
  private connectedOnce = false;
  private session: ImapSession | null = null;
  private stopping = false;
  private attempt = 0;
  private syncing: Promise<void> | null = null;
  private syncAgain = false;
  /** An EXISTS came since the sync listed the mailbox: a catch-up takes the new mail ahead. */
  private heardNew = false;
  /** Resolves at the next EXISTS: a catch-up waiting for a batch's insert wakes to take new mail ahead. */
  private nextExists = existsSignal();
  /** When the first EXISTS since the mailbox was last listed came (ms since the epoch). */
  private firstHeard: number | null = null;
  /**
   * When the poller learned of each listed UID not stored yet: the first EXISTS before the
   * listing that found it, else the listing's start. Logged with the store (docs/BENCHMARKS.md).
   */
  private heardAt = new Map<number, number>();
  /** The steps of the sync under way, for the "stored batch" debug line. */
  private steps: Steps = {};
  /**
   * The checkpoint as this poller last read or moved it: a sync lists from it without waiting for
   * Postgres, reads the checkpoint beside the listing, and its stores move the checkpoint only
   * from there (docs/ARCHITECTURE.md "Processes and the flow"). Null: the next sync reads first.
   */
  private known: Checkpoint | null = null;
  /**
   * UIDs stored ahead of a catch-up, above the checkpoint, under one UIDVALIDITY and rewind
   * count: later syncs do not download them again and move the checkpoint over them. `held`:
   * replies kept back for a parent in the catch-up, queued behind it on the backlog queue once
   * stored, so they do not wait for it at the head of the live queue.
   */
  private ahead = { uidValidity: 0, rewinds: 0, uids: new Set<number>(), held: new Set<number>() };
  private timers: NodeJS.Timeout[] = [];
  private reconnectTimer: NodeJS.Timeout | null = null;
  private marking: Promise<void> | null = null;
  private readonly processed: ProcessedMail;
  private readonly log: Logger;

  constructor(private readonly opts: PollerOptions) {
    this.log = opts.log.child({ mailbox: opts.target.key });
    this.processed = new ProcessedMail(opts.after ?? { kind: 'flag' }, opts.target.folder, opts.doneFlag, this.log);
  }

  /** Connect and start watching; resolves after the first connection attempt. */
  async start(): Promise<void> {
    await this.connect();
    this.timers.push(setInterval(() => void this.sync(), this.opts.pollIntervalMs));
    this.timers.push(setInterval(() => void this.markDone(), this.opts.markIntervalMs ?? 2_000));
  }

  /** What the lease holder reports with each renewal. */
  status(): LeaseStatus {
    return { state: this.state, lastError: this.lastError, lastSyncAt: this.lastSyncAt };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.state = 'stopped';
    for (const t of this.timers) clearInterval(t);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    // Let a sync in progress store its batch, but do not wait on a dead connection for long.
    if (this.syncing) await Promise.race([this.syncing.catch(() => undefined), new Promise((r) => setTimeout(r, 5_000).unref())]);
    if (this.marking) await Promise.race([this.marking, new Promise((r) => setTimeout(r, 5_000).unref())]);
    const s = this.session;
    this.session = null;
    if (s) await s.logout(3_000);
  }

  private async connect(): Promise<void> {
    if (this.stopping) return;
    const { target } = this.opts;
    let session: ImapSession;
    try {
      session = await ImapSession.create(target, { idleRestartMs: this.opts.idleRestartMs, connectTimeoutMs: 10_000 });
    } catch (err) {
      if (!(err instanceof OAuth2TokenError)) throw err;
      // No token: the endpoint is down or refuses our client. Shown as a failed login with the
      // OAuth reason (`invalid_client` …); the token source backs off, and so do we.
      this.state = 'auth_failed';
      this.lastError = `${err.reason}: ${err.message}`;
      this.opts.metrics?.imapAuthFailures.inc({ mailbox: target.key });
      this.log.error({ err }, `IMAP login failed: no OAuth 2.0 access token (check the BLEND_OAUTH_* settings and the app registration)`);
      this.scheduleReconnect();
      return;
    }
    if (this.stopping) return;
    session.onError((err) => {
      this.lastError = err.message;
      this.log.warn({ err }, 'imap connection error');
    });
    session.onClose(() => {
      if (this.session !== session) return;
      this.session = null;
      this.opts.metrics?.imapConnected.set({ mailbox: this.opts.target.key }, 0);
      if (!this.stopping) {
        this.state = 'reconnecting';
        this.log.warn('imap connection closed; reconnecting');
        this.scheduleReconnect();
      }
    });
    session.onExists(() => {
      this.firstHeard ??= Date.now();
      this.heardNew = true;
      this.nextExists.heard();
      this.nextExists = existsSignal();
      void this.sync();
    });
    this.session = session;
    try {
      await session.connect();
      await session.openFolder(target.folder);
      this.attempt = 0;
      if (this.connectedOnce) {
        this.reconnects++;
        this.opts.metrics?.imapReconnects.inc({ mailbox: target.key });
      }
      this.opts.metrics?.imapConnected.set({ mailbox: target.key }, 1);
      this.connectedOnce = true;
      this.state = 'connected';
      this.lastError = null;
      this.log.info({ folder: target.folder }, 'imap connected');
      // Not awaited: a first sync that is a catch-up runs for as long as the workers take to
      // ingest the backlog (paced), and the lease's renewals wait for `start` (sync never throws).
      void this.sync();
    } catch (err) {
      const e = err as Error & ImapFailure & { throttleReset?: number };
      // imapflow's message is a bare "Command failed"; the server's text (or its BYE's) says what failed.
      const detail = imapServerText(e);
      this.lastError = detail ? `${e.message}: ${detail}` : e.message;
      const kind = imapFailureKind(e);
      if (kind === 'throttled') {
        // Not the credentials (imapflow marks Exchange's `NO [THROTTLED]` to LOGIN as a failed
        // login): the server wants fewer connections or commands, so wait longer and count no
        // auth failure.
        this.state = 'throttled';
        this.log.warn({ err: e }, 'IMAP server is throttling this mailbox; reconnecting after a longer wait');
      } else if (kind === 'auth_failed') {
        // The session has invalidated a refused token: the next connection fetches a new one.
        this.state = 'auth_failed';
        this.opts.metrics?.imapAuthFailures.inc({ mailbox: target.key });
        this.log.error({ err: e }, `IMAP login failed: ${explainImapFailure(e, target.oauth ? 'oauth2' : 'password')} (${this.opts.credentialHint ?? 'BLEND_IMAP_URL'})`);
      } else {
        this.state = 'reconnecting';
        this.log.warn({ err: e }, 'imap connect failed');
      }
      if (this.session === session) this.session = null;
      session.close();
      this.scheduleReconnect(kind === 'throttled' ? (n) => throttledDelay(n, e.throttleReset) : reconnectDelay);
    }
  }

  private scheduleReconnect(delayAfter: (attempt: number) => number = reconnectDelay): void {
    if (this.stopping || this.reconnectTimer) return;
    const delay = delayAfter(this.attempt++);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, delay);
  }

  /** Run a sync now, or once more after the one in progress. */
  sync(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      try {
        // An EXISTS that arrives while we sync sets `syncAgain`; the check below runs in
        // the same tick as the `finally`, so no notification can fall between them.
        do {
          this.syncAgain = false;
          await this.syncOnce();
          if (this.state === 'connected') this.lastSyncAt = new Date();
          // Flagging runs beside the next sync, not before it: mail announced meanwhile is stored
          // without waiting for the flags (markDone runs one at a time and never throws).
          void this.markDone();
        } while (this.syncAgain && !this.stopping);
      } catch (err) {
        this.log.warn({ err }, 'sync failed; will retry');
      } finally {
        this.syncing = null;
      }
    })();
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    const session = this.session;
    if (!session || !session.usable || this.state !== 'connected') return;
    const uidValidity = session.uidValidity;
    if (uidValidity === null) return;
    this.steps = { sync: Date.now() };
    const { db, target } = this.opts;
    let lastUid: number;
    let rewinds: number;
    const known = this.known?.uidValidity === uidValidity ? this.known : null;
    if (known) {
      // List from where this poller left the checkpoint; the read runs beside the sync. A store
      // moves the checkpoint only if it still stands there (`guard`), so a rewind by IT, a new
      // UIDVALIDITY or a lost commit is seen by the read or the store, and the sync starts again
      // from the checkpoint read.
      ({ lastUid, rewinds } = known);
      void getCheckpoint(db, target.key).then(
        (cp) => {
          if (cp && cp.uidValidity === uidValidity && cp.rewinds === rewinds && cp.lastUid >= lastUid) return;
          this.known = null;
          void this.sync();
        },
        () => {
          this.known = null;
        },
      );
    } else {
      const cp = await getCheckpoint(db, target.key);
      lastUid = cp?.lastUid ?? 0;
      if (cp && cp.uidValidity !== uidValidity) {
        // RFC 3501 2.3.1.1: a new UIDVALIDITY invalidates every UID we knew. Re-read the
        // whole mailbox; Message-ID dedupe turns the copies into `duplicate` rows, and a copy of
        // a command or a like never acts a second time (docs/SECURITY.md B29).
        this.log.warn({ old: cp.uidValidity, new: uidValidity }, 'UIDVALIDITY changed; resyncing mailbox');
        await resetCheckpoint(db, target.key, uidValidity);
        lastUid = 0;
      }
      rewinds = cp?.rewinds ?? 0;
      this.known = { uidValidity, lastUid, rewinds };
    }
    if (this.ahead.uidValidity !== uidValidity || this.ahead.rewinds !== rewinds) {
      this.ahead = { uidValidity, rewinds, uids: new Set(), held: new Set() };
      this.heardAt.clear();
    }
    for (const uid of this.heardAt.keys()) if (uid <= lastUid) this.heardAt.delete(uid);
    for (const uid of this.ahead.uids) if (uid <= lastUid) this.ahead.uids.delete(uid);
    for (const uid of this.ahead.held) if (uid <= lastUid) this.ahead.held.delete(uid);
    try {
      await this.syncFrom(session, uidValidity, lastUid, rewinds);
    } catch (err) {
      if (!(err instanceof CheckpointMovedError)) throw err;
      // Nothing of the store was kept: read the checkpoint and list again from there, and
      // download again what was taken ahead (its rows may be lost with a Postgres crash).
      this.log.info({ listedFrom: lastUid + 1 }, 'checkpoint moved since this poller left it; listing again from it');
      this.known = null;
      this.ahead = { uidValidity: 0, rewinds: 0, uids: new Set(), held: new Set() };
      this.syncAgain = true;
    }
  }

  /** List the mailbox above `lastUid`, download and store what is new. */
  private async syncFrom(session: ImapSession, uidValidity: number, lastUid: number, rewinds: number): Promise<void> {
    this.heardNew = false;
    const meta = await this.list(lastUid + 1, (from) => session.sizesFrom(from));
    const batches = this.batchesOf(meta);
    // More than one batch waiting is a catch-up (the first start, after an outage, a large
    // UID gap): its jobs go to the backlog queue, so mail that comes meanwhile overtakes them.
    const catchUp = batches.length > 1;
    const queue = catchUp ? this.opts.backlogQueue : this.opts.ingestQueue;
    let complete = true;
    for (const [i, batch] of batches.entries()) {
      if (this.stopping) {
        complete = false;
        break;
      }
      const waiting = batches.slice(i).flat();
      if (catchUp && i > 0) await this.paceCatchUp(session, uidValidity, rewinds, waiting);
      if (this.stopping) {
        complete = false;
        break;
      }
      if (catchUp && this.heardNew) {
        this.heardNew = false;
        await this.takeAhead(session, uidValidity, rewinds, waiting);
      }
      const got = await this.download(session, batch);
      // The batch's insert runs in Postgres while the IMAP connection is free: mail announced
      // meanwhile, or with the download's end, is taken ahead without waiting for the insert.
      const storing = this.store(uidValidity, rewinds, got, queue, lastUid + 1);
      try {
        if (catchUp) await this.takeAheadWhile(storing, session, uidValidity, rewinds, waiting, bytesOf(got.fetched));
      } finally {
        // Whatever became of the mail taken ahead, the batch's rows are stored and queued before the sync ends.
        await storing;
      }
      if (!got.complete) {
        complete = false;
        break;
      }
    }
    // Move the checkpoint over the mail taken ahead now rather than at the next poll.
    if (catchUp && complete && this.ahead.uids.size > 0) this.syncAgain = true;
  }

  /**
   * The messages from `fromUid` on, as `read` lists them, each noted with when the poller heard
   * of it: the first EXISTS since the last listing, or now when none came (a periodic sync).
   */
  private async list<T extends ImapMessageSize>(fromUid: number, read: (fromUid: number) => Promise<T[]>): Promise<T[]> {
    const heard = this.firstHeard ?? Date.now();
    this.firstHeard = null;
    this.steps.list = Date.now();
    const meta = await read(fromUid);
    this.steps.listed = Date.now();
    for (const m of meta) if (!this.heardAt.has(m.uid)) this.heardAt.set(m.uid, heard);
    return meta;
  }

  /** Split a sync's messages into fetch batches (docs/SECURITY.md B2). */
  private batchesOf(meta: ImapMessageSize[]): ImapMessageSize[][] {
    // RFC822.SIZE is checked before anything is downloaded, and bounds each batch's bytes as
    // well as its count (docs/SECURITY.md B2).
    return fetchBatches(
      meta,
      { count: this.opts.batchSize ?? 50, bytes: this.opts.batchBytes ?? DEFAULT_BATCH_BYTES },
      (m) => m.size <= this.opts.maxMessageBytes,
    );
  }

  /**
   * Until a catch-up batch's insert (`storing`) has ended, take ahead the mail each EXISTS
   * announces, so new mail waits for no insert of the backlog's (docs/ARCHITECTURE.md
   * "Processes and the flow"). The batch being stored (`storedBytes`) and the mail taken ahead
   * meanwhile stay within one batch's bytes (docs/SECURITY.md B2); more waits for the insert.
   */
  private async takeAheadWhile(
    storing: Promise<unknown>,
    session: ImapSession,
    uidValidity: number,
    rewinds: number,
    waiting: ImapMessageSize[],
    storedBytes: number,
  ): Promise<void> {
    const stored = storing.then(() => true, () => true);
    while (!this.stopping) {
      if (this.heardNew) {
        this.heardNew = false;
        if (await this.takeAhead(session, uidValidity, rewinds, waiting, (this.opts.batchBytes ?? DEFAULT_BATCH_BYTES) - storedBytes)) continue;
        // Too large to hold beside the batch: taken after its insert, before the next batch.
        this.heardNew = true;
        break;
      }
      if (await Promise.race([stored, this.nextExists.promise])) return;
    }
    await stored;
  }

  /**
   * Before a catch-up's next batch, wait while the backlog queue already holds
   * {@link CATCH_UP_AHEAD_MAILS} mails for the workers: stored further ahead they would only wait
   * in the queue, and downloading and storing them would take the cores from the ingest and from
   * new mail (docs/ARCHITECTURE.md "Processes and the flow"). The mail waits in IMAP meanwhile,
   * its checkpoint unmoved. Mail announced while the catch-up waits is taken ahead at once; a
   * queue that cannot be read (Redis down) paces nothing.
   */
  private async paceCatchUp(session: ImapSession, uidValidity: number, rewinds: number, waiting: ImapMessageSize[]): Promise<void> {
    const ahead = this.opts.catchUpAheadMails ?? CATCH_UP_AHEAD_MAILS;
    const perJob = this.opts.batchSize ?? 50;
    while (!this.stopping) {
      let queued: number;
      try {
        queued = (await this.opts.backlogQueue.getWaitingCount()) * perJob;
      } catch {
        return;
      }
      if (queued < ahead) return;
      let timer: NodeJS.Timeout | undefined;
      const later = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), CATCH_UP_PACE_MS)));
      await Promise.race([later, this.nextExists.promise]);
      clearTimeout(timer);
      if (this.heardNew && !this.stopping) {
        this.heardNew = false;
        // No batch is being stored beside it: nothing bounds its room but the batches' own bytes.
        await this.takeAhead(session, uidValidity, rewinds, waiting);
      }
    }
  }

  /**
   * New mail announced during a catch-up: everything above the catch-up's UIDs is stored and
   * queued on the live queue now, without moving the checkpoint, which must not pass the
   * catch-up's UIDs that have no row yet (docs/SECURITY.md I1). A reply (by its ENVELOPE
   * In-Reply-To) to a mail the catch-up has not stored stays behind, so it is stored after its
   * parent (`arrivalsAhead`).
   * @param room the most RFC822.SIZE bytes to download now (a batch is being stored beside them)
   * @returns false when the mail to take is larger than `room`: nothing was taken
   */
  private async takeAhead(session: ImapSession, uidValidity: number, rewinds: number, waiting: ImapMessageSize[], room = Infinity): Promise<boolean> {
    const above = Math.max(waiting.at(-1)?.uid ?? 0, ...this.ahead.uids);
    // Sizes and envelopes in one FETCH: new mail waits for one round trip less before its download.
    const arrivals: ImapArrival[] = await this.list(above + 1, (from) => session.arrivalsFrom(from));
    if (arrivals.length === 0) return true;
    const ids = (list: { uid: number; messageId: string; inReplyTo: string }[]) =>
      list.map((e) => ({ uid: e.uid, messageId: normaliseMessageId(e.messageId), inReplyTo: normaliseMessageId(e.inReplyTo) }));
    const envelopes = ids(arrivals);
    const parents = new Set<string>();
    if (envelopes.some((e) => e.inReplyTo !== null)) {
      for (const e of ids(await session.envelopes(waiting.map((m) => m.uid)))) if (e.messageId) parents.add(e.messageId);
    }
    const take = new Set(arrivalsAhead(envelopes, parents).map((e) => e.uid));
    const taken = arrivals.filter((m) => take.has(m.uid));
    if (bytesOf(taken.filter((m) => m.size <= this.opts.maxMessageBytes)) > room) return false;
    for (const m of envelopes) if (!take.has(m.uid)) this.ahead.held.add(m.uid);
    this.log.info({ arrived: arrivals.length, taken: taken.length, waiting: waiting.length }, 'new mail taken ahead of the catch-up');
    for (const batch of this.batchesOf(taken)) {
      const got = await this.download(session, batch);
      await this.store(uidValidity, rewinds, got, this.opts.ingestQueue, 'ahead');
      if (!got.complete) break;
    }
    return true;
  }

  /**
   * Download one batch (except UIDs already taken ahead), in UID order up to the first message
   * that vanished (expunged) meanwhile, if any.
   * @returns the messages to store, the highest UID up to which every message of the batch has
   * a row once they are stored, and false in `complete` when one vanished: the sync stops there.
   */
  private async download(session: ImapSession, batch: ImapMessageSize[]): Promise<Downloaded> {
    const wanted = batch.filter((m) => m.size <= this.opts.maxMessageBytes && !this.ahead.uids.has(m.uid)).map((m) => m.uid);
    const sources = new Map<number, { raw: Buffer; messageId: string | null }>();
    if (wanted.length > 0) {
      this.steps.fetch = Date.now();
      // ENVELOPE gives the Message-ID without parsing, so the worker can tell that a
      // reply's parent is stored but not converted yet.
      for await (const m of session.sources(wanted)) sources.set(m.uid, { raw: m.source, messageId: normaliseMessageId(m.messageId) });
      this.steps.fetched = Date.now();
    }
    const fetched: FetchedMessage[] = [];
    // The highest UID up to which every message of the batch has a row.
    let through = 0;
    let complete = true;
    const passing: number[] = [];
    for (const m of batch) {
      if (this.ahead.uids.has(m.uid)) {
        passing.push(m.uid);
        through = m.uid;
        continue;
      }
      const tooLarge = m.size > this.opts.maxMessageBytes;
      const got = sources.get(m.uid);
      const raw = got?.raw ?? null;
      // A message that vanished between the two FETCHes (expunged) stops the batch
      // here, so the checkpoint does not pass a UID we never stored.
      if (!tooLarge && !raw) {
        complete = false;
        break;
      }
      fetched.push({
        uid: m.uid,
        size: m.size,
        raw,
        messageId: got?.messageId ?? null,
        internalDate: m.internalDate,
        ...(tooLarge ? { rejectReason: 'too_large' } : {}),
      });
      through = m.uid;
    }
    return { fetched, through, complete, passing };
  }

  /**
   * Store a downloaded batch and queue its rows' jobs on `queue`. A UID (the one the sync listed
   * from) moves the checkpoint through the batch, if it still stands below that UID; `ahead`
   * stores without moving it and remembers the UIDs.
   */
  private async store(uidValidity: number, rewinds: number, got: Downloaded, queue: Queue<IngestJob>, checkpoint: number | 'ahead'): Promise<void> {
    const { db, target } = this.opts;
    const { fetched, through } = got;
    const steps = { ...this.steps };
    const toEnqueue =
      checkpoint === 'ahead'
        ? await storeFetched(db, target.key, uidValidity, fetched, rewinds, false)
        : await storeFetched(db, target.key, uidValidity, fetched, rewinds, through, { from: checkpoint, passing: got.passing });
    if (checkpoint === 'ahead') for (const m of fetched) this.ahead.uids.add(m.uid);
    else {
      for (const uid of this.ahead.uids) if (uid <= through) this.ahead.uids.delete(uid);
      if (this.known?.uidValidity === uidValidity && this.known.rewinds === rewinds) this.known.lastUid = Math.max(this.known.lastUid, through);
    }
    if (this.log.isLevelEnabled('debug')) {
      // `heard`: each stored UID's moment the poller learned of it, in ms since the epoch.
      const heard: Record<number, number | undefined> = {};
      for (const m of fetched) heard[m.uid] = this.heardAt.get(m.uid);
      this.log.debug({ stored: fetched.length, enqueue: toEnqueue.length, queue: queue.name, heard, steps }, 'stored batch');
    }
    for (const m of fetched) this.heardAt.delete(m.uid);
    // The rows stored together are one job, in UID order (the order the mails arrived): the
    // worker ingests them in one transaction, a reply after its parent. Replies held back for a
    // parent in a catch-up follow it on the backlog queue.
    const sorted = [...toEnqueue].sort((x, y) => x.uid - y.uid);
    const held = sorted.filter((r) => this.ahead.held.delete(r.uid));
    for (const [q, rows] of [[queue, sorted.filter((r) => !held.includes(r))], [this.opts.backlogQueue, held]] as const) {
      const ids = rows.map((r) => r.id);
      try {
        await enqueueIngestBatch(q, ids);
      } catch (err) {
        // The rows are safe in Postgres; the worker's reconciler enqueues them later.
        this.log.warn({ err, inboundIds: ids }, 'enqueue failed; left to the reconciler');
      }
    }
  }

  /**
   * Finish messages whose ingest has committed: flag them (\Seen plus our keyword), then
   * move or expunge them if the mailbox says so. One run at a time; what a run misses, the
   * next one (every `markIntervalMs`, and after each sync) picks up.
   */
  markDone(): Promise<void> {
    this.marking ??= this.markOnce().finally(() => {
      this.marking = null;
    });
    return this.marking;
  }

  private async markOnce(): Promise<void> {
    const session = this.session;
    const uidValidity = session?.uidValidity ?? null;
    if (!session || !session.usable || this.state !== 'connected' || uidValidity === null) return;
    const { db, target, metrics } = this.opts;
    try {
      // Only rows in a final state other than `failed` (docs/SECURITY.md I1): a message whose
      // ingest has not committed is never touched.
      const rows = await unmarkedDone(db, target.key, uidValidity);
      if (rows.length === 0) return;
      const began = Date.now();
      const counts = await this.processed.finish(session, rows);
      this.log.debug({ flagged: rows.length, began, ended: Date.now() }, 'finished in IMAP');
      await markImapDone(db, rows.map((r) => r.id));
      for (const [action, n] of Object.entries(counts)) if (n > 0) metrics?.imapProcessed.inc({ mailbox: target.key, action }, n);
    } catch (err) {
      this.log.warn({ err }, 'could not finish processed messages in IMAP; will retry');
    }
  }
}
