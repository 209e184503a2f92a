import { setTimeout as sleep } from 'node:timers/promises';
import type { Transporter } from 'nodemailer';
import { DEFAULT_ATTACHMENT_LIMITS, PermanentError, servedAs, type Addressing } from '@blend/core';
import { claimOutbound, claimOutbounds, countOutboundAttempt, filesForMail, finishOutbound, outboundState, settleOutbounds, type ClaimedOutbound, type Database, type OutboundSettlement } from '@blend/db';
import { composeOutbound, isPermanentSmtpError, type OutboundFile } from '@blend/mail';
import type { Logger } from '@blend/runtime';
import type { SendBatchJob, SendJob } from '@blend/queue';
import { batchTurns, inLanes, type LiveFirst } from '../live-first';
import { MemoryBudget } from '../memory-budget';

export interface SendDeps {
  db: Database;
  log: Logger;
  transport: Transporter;
  /** Blend's addresses: From and the VERP envelope sender. */
  addressing: Addressing;
  secret: string;
  /** BLEND_ATTACHMENTS_MAX_TOTAL_BYTES: the most a mirror carries of its comment's files. @defaultValue DEFAULT_ATTACHMENT_LIMITS.maxTotalBytes */
  attachmentsMaxTotalBytes?: number;
  /** The live ingests a batch's mails give way to: each is composed only when none runs (until a wait runs out, {@link batchTurns}). */
  liveFirst?: Pick<LiveFirst, 'turn'>;
}

/**
 * The files a mail carries: a mirror brings its comment's stored files (those written in the web
 * composer), as many as fit within the per-mail limit; other mail links to the thread instead.
 * A file of more than one slice comes as its slices, read only as nodemailer writes the mail
 * (`filesForMail`, `fileContent`).
 */
async function filesOf(deps: SendDeps, row: ClaimedOutbound): Promise<OutboundFile[]> {
  // The claim said whether there are any: most mail has none and skips the read.
  if (!row.hasFiles || row.kind !== 'mirror' || !row.postId || !row.commentId) return [];
  const files = await filesForMail(deps.db, { postId: row.postId, commentId: row.commentId }, deps.attachmentsMaxTotalBytes ?? DEFAULT_ATTACHMENT_LIMITS.maxTotalBytes);
  return files.map((f) => ({ filename: f.filename, contentType: servedAs(f.declaredType).contentType, content: f.content }));
}

export type SendOutcome = { state: 'skipped' | 'sent' | 'cancelled'; reason?: string };

/**
 * `send`: deliver one outbox row over SMTP. The row, not the job, is the record: a row that
 * is no longer `pending` is not sent again, and a retry reuses the same Message-ID, so an
 * ambiguous timeout after DATA yields at most a second copy with the same id
 * (docs/SECURITY.md F21). Mail to a paused address, and mail whose content was retracted or
 * whose author opted out since it was queued, is cancelled at send time (F29).
 */
export async function send(job: SendJob, deps: SendDeps): Promise<SendOutcome> {
  // Longer than any SMTP exchange can take (socket timeout 60 s), so a claim outlives the
  // attempt that made it; a process that dies mid-send frees the row when the claim expires.
  const row = await claimOutbound(deps.db, job.outboundId, SEND_CLAIM_MS);
  if (!row) {
    const state = await outboundState(deps.db, job.outboundId);
    if (!state) throw new PermanentError('OUTBOUND_NOT_FOUND', job.outboundId);
    if (state !== 'pending') return { state: 'skipped', reason: state };
    throw new SendClaimedError(job.outboundId);
  }
  const cancelled = await cancelIfVoid(deps, row);
  if (cancelled) return cancelled;
  try {
    await deliver(deps, row);
  } catch (err) {
    if (await recordSendFailure(deps, row.id, err)) throw new PermanentError('SMTP_REJECTED', (err as Error).message);
    throw err;
  }
  await recordSettled(deps, [{ id: row.id, state: 'sent' }]);
  return { state: 'sent' };
}

/** Mail to a paused address, or whose content was withdrawn, is cancelled instead of sent (F29). */
async function cancelIfVoid(deps: SendDeps, row: ClaimedOutbound): Promise<SendOutcome | null> {
  // Written before an SMTP outage, say, and claimed after the author took the words back.
  const why = voidReason(row);
  if (!why) return null;
  await finishOutbound(deps.db, row.id, { state: 'cancelled', error: why.error });
  return { state: 'cancelled', reason: why.reason };
}

/** Compose a claimed row and hand it to SMTP; resolves on the server's 250. */
async function deliver(deps: SendDeps, row: ClaimedOutbound, files: (row: ClaimedOutbound) => Promise<OutboundFile[]> = (r) => filesOf(deps, r)): Promise<void> {
  // Composed, and its files read, only once the process's budget has room for its bytes (see composedLimit).
  await composedLimit(deps.transport).run(composedBytes(row, maxFilesBytes(deps)), async () => {
    await deps.transport.sendMail(composeOutbound(row, { addressing: deps.addressing, secret: deps.secret }, await files(row)));
  });
}

const maxFilesBytes = (deps: SendDeps): number => deps.attachmentsMaxTotalBytes ?? DEFAULT_ATTACHMENT_LIMITS.maxTotalBytes;

/**
 * The bytes a mail holds while it is composed and sent: its text and HTML, and the files it
 * carries (a mirror's, at most `maxFilesBytes` of them, as {@link filesOf} reads them).
 */
export function composedBytes(row: Pick<ClaimedOutbound, 'textBody' | 'htmlBody' | 'kind' | 'hasFiles' | 'filesBytes'>, maxFilesBytes: number): number {
  const files = row.kind === 'mirror' && row.hasFiles ? Math.min(Math.max(0, row.filesBytes || 0), maxFilesBytes) : 0;
  return row.textBody.length + (row.htmlBody?.length ?? 0) + files;
}

/**
 * Count a failed attempt on the row (which frees its claim); a permanent SMTP answer (5xx but
 * 503) also fails the row for good.
 * @returns whether the failure was permanent.
 */
async function recordSendFailure(deps: SendDeps, id: string, err: unknown): Promise<boolean> {
  const message = (err as Error).message;
  await countOutboundAttempt(deps.db, id, message);
  if (!isPermanentSmtpError(err)) return false;
  await finishOutbound(deps.db, id, { state: 'failed', error: message });
  return true;
}

export interface SendBatchOutcome {
  sent: number;
  cancelled: number;
  /** Rows the SMTP server refused for good: `failed`, as a single send fails them. */
  failed: number;
  /** Rows no longer pending when the batch came to them (sent by an earlier attempt, say). */
  skipped: number;
}

/**
 * `send-batch`: deliver outbox rows written together (a notification sweep's mirrors, an
 * ingest batch's notices, a batch of digests) with one claim for all of them and their
 * outcomes (`sent`, or `cancelled` at send time) written in one statement at the end, instead
 * of a claim and a finish per mail; the mails go out side by side over the transport's pool,
 * at most {@link composedLimit} composed at once in the process, and the files of a comment
 * mirrored to several people are read once for all of them. Each row keeps the guarantees of
 * {@link send}: a row that is no longer `pending` is not sent again, a paused or withdrawn one
 * is cancelled (F29), a permanent refusal fails that row only. A transient failure (F18, F19,
 * F22) or a row another attempt holds makes the job throw once every mail of this attempt is
 * settled and the accepted ones are recorded, so its retry (with the send backoff) claims only
 * the rows still pending and sends nothing twice.
 */
export async function sendBatch(job: SendBatchJob, deps: SendDeps): Promise<SendBatchOutcome> {
  const claimed = await claimOutbounds(deps.db, job.outboundIds, SEND_CLAIM_MS);
  const out: SendBatchOutcome = { sent: 0, cancelled: 0, failed: 0, skipped: 0 };
  const recorder = new SettleRecorder(deps);
  let transient: unknown = null;
  const live: ClaimedOutbound[] = [];
  for (const row of claimed) {
    const why = voidReason(row);
    if (why) {
      out.cancelled++;
      recorder.add({ id: row.id, state: 'cancelled', error: why.error });
    } else live.push(row);
  }
  // The rows of one comment side by side, so its files are read once and let go soon.
  const rows = sortByFiles(live);
  const files = new FileShare(deps, rows);
  // Composing a mail holds the event loop: new mail's ingest goes first (docs/ARCHITECTURE.md "Processes and the flow").
  const turn = deps.liveFirst ? batchTurns(deps.liveFirst) : undefined;
  await inLanes(
    rows.length,
    BATCH_LANES,
    async (i) => {
      const row = rows[i]!;
      try {
        await deliver(deps, row, (r) => files.take(r));
      } catch (err) {
        if (await recordSendFailure(deps, row.id, err)) {
          out.failed++;
          deps.log.warn({ err, outboundId: row.id }, 'send refused for good');
        } else transient ??= err;
        return;
      }
      out.sent++;
      recorder.add({ id: row.id, state: 'sent' });
    },
    turn,
  );
  await recorder.drain();
  if (transient) throw transient;
  if (claimed.length < job.outboundIds.length) {
    const got = new Set(claimed.map((r) => r.id));
    for (const id of job.outboundIds) {
      if (got.has(id)) continue;
      const state = await outboundState(deps.db, id);
      if (state === 'pending') throw new SendClaimedError(id);
      out.skipped++;
    }
  }
  return out;
}

/** Why a claimed row is cancelled instead of sent (F29), as {@link cancelIfVoid} writes it; null when it goes out. */
function voidReason(row: ClaimedOutbound): { reason: string; error: string } | null {
  if (row.paused) return { reason: 'paused', error: 'address paused after hard bounces' };
  if (!row.voidReason) return null;
  const why = row.voidReason === 'retracted' ? 'its content was retracted' : 'its author opted out';
  return { reason: row.voidReason, error: `not sent: ${why} after it was queued` };
}

/** The key of the files a row carries (a mirror's comment), or null when it carries none. */
const filesKey = (row: ClaimedOutbound): string | null => (row.hasFiles && row.kind === 'mirror' && row.postId && row.commentId ? `${row.postId}|${row.commentId}` : null);

/** Rows with files grouped by their comment (first appearance kept), the rest in their order. */
function sortByFiles(rows: ClaimedOutbound[]): ClaimedOutbound[] {
  const groups = new Map<string, ClaimedOutbound[]>();
  for (const row of rows) {
    const key = filesKey(row) ?? `row|${row.id}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return [...groups.values()].flat();
}

/**
 * The files of a batch's mirrors, read once per comment and shared by the rows that mirror it
 * to different people; a comment's files are let go when its last row has taken them, so with
 * the rows grouped by comment a batch holds the files of about as many comments as it has lanes.
 * Files of more than {@link SHARED_FILES_BYTES} together are not kept between rows: each mail
 * reads its own within its share of {@link composedLimit}, so no large file waits in memory
 * outside the process's budget for the next row of its comment.
 */
class FileShare {
  private readonly left = new Map<string, number>();
  private readonly reads = new Map<string, Promise<OutboundFile[]>>();

  constructor(
    private readonly deps: SendDeps,
    rows: ClaimedOutbound[],
  ) {
    for (const row of rows) {
      const key = filesKey(row);
      if (key) this.left.set(key, (this.left.get(key) ?? 0) + 1);
    }
  }

  /** The files `row` carries: read for the first row of its comment, shared with the others. */
  async take(row: ClaimedOutbound): Promise<OutboundFile[]> {
    const key = filesKey(row);
    if (!key) return [];
    if (row.filesBytes > SHARED_FILES_BYTES) return filesOf(this.deps, row);
    let read = this.reads.get(key);
    if (!read) this.reads.set(key, (read = filesOf(this.deps, row)));
    const left = (this.left.get(key) ?? 1) - 1;
    this.left.set(key, left);
    // A failed read is not kept: a later row of the comment reads again.
    if (left <= 0) this.reads.delete(key);
    else read.catch(() => this.reads.delete(key));
    return read;
  }
}

/** The most bytes of files a batch keeps for the next row of the same comment (see FileShare). */
export const SHARED_FILES_BYTES = 1024 * 1024;

/** Mails of one batch job in flight at once, each over one of the pool's sessions (BLEND_SMTP_MAX_CONNECTIONS, 5 by default). */
const BATCH_LANES = 5;

/**
 * The bytes of mail (text, HTML, files: {@link composedBytes}) composed and not yet accepted at
 * once in one worker process, over all its send jobs: about one large mirror (a 10 MB file) and
 * the small mail beside it. A mail larger than this is sent alone. A large file is weighed in
 * full although it is read a slice at a time as it is sent: its read and the strings nodemailer
 * encodes it through are garbage for a while after.
 */
export const COMPOSED_BYTES = 16 * 1024 * 1024;

/**
 * The mails composed and not yet accepted at once in this process, over all send jobs: twice
 * the transport's SMTP sessions (10 by default), one being written and one waiting per session,
 * and together at most {@link COMPOSED_BYTES}, in the order they come (a {@link MemoryBudget}
 * with a count). A composed mail holds its text, HTML and files until the server answers, so a
 * limit counted in mails alone let ten mirrors of a 10 MB file be composed at once.
 */
export function composedLimit(transport: Transporter): MemoryBudget {
  let limit = composedLimits.get(transport);
  if (!limit) {
    const sessions = (transport as unknown as { options?: { maxConnections?: number } }).options?.maxConnections ?? 5;
    composedLimits.set(transport, (limit = new MemoryBudget(COMPOSED_BYTES, 2 * sessions)));
  }
  return limit;
}
const composedLimits = new WeakMap<Transporter, MemoryBudget>();

/**
 * The outcomes of a batch, settled together: every row accepted or cancelled is written in one
 * statement when the batch ends, or, for a batch that runs long, by groups when the first
 * outcome waiting is {@link SETTLE_GROUP_MS} old. A worker that dies in that window sends those
 * few again with the same Message-ID, the at-least-once case of F21.
 */
class SettleRecorder {
  private waiting: OutboundSettlement[] = [];
  private writes: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private error: unknown = null;

  constructor(private readonly deps: SendDeps) {}

  add(row: OutboundSettlement): void {
    this.waiting.push(row);
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.write();
    }, SETTLE_GROUP_MS);
  }

  /** Queue a write of every outcome waiting now, after the writes before it. */
  private write(): void {
    this.writes = this.writes.then(async () => {
      const rows = this.waiting;
      this.waiting = [];
      if (rows.length === 0) return;
      await recordSettled(this.deps, rows).catch((err: unknown) => {
        this.error ??= err;
      });
    });
  }

  /** Every outcome recorded; throws if a write failed past its retries. */
  async drain(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.write();
    await this.writes;
    if (this.error) throw this.error;
  }
}

/** How long an accepted mail of a batch may wait for its `sent` write, gathering others: longer than a batch of 20 usually takes. */
const SETTLE_GROUP_MS = 1_000;

const SEND_CLAIM_MS = 5 * 60_000;

/** Another attempt is sending this row right now: retried later (with the job's backoff). */
export class SendClaimedError extends Error {
  constructor(id: string) {
    super(`outbound ${id} is being sent by another attempt`);
    this.name = 'SendClaimedError';
  }
}

/** Waits between tries of the `sent` write: about 30 s in all. */
const SENT_WRITE_BACKOFF_MS = [250, 500, 1_000, 2_000, 4_000, 8_000, 15_000];

/**
 * After a 250 the mail is out, so a job that threw now would send it a second time: the
 * `sent` write is retried through a short Postgres outage (the job lock is renewed meanwhile).
 * Only a longer one falls back to the retry, a second copy with the same Message-ID (F21).
 */
async function recordSettled(deps: SendDeps, rows: OutboundSettlement[]): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      if (rows.length === 1) await finishOutbound(deps.db, rows[0]!.id, { state: rows[0]!.state, error: rows[0]!.error ?? null });
      else await settleOutbounds(deps.db, rows);
      return;
    } catch (err) {
      const wait = SENT_WRITE_BACKOFF_MS[i];
      if (wait === undefined) throw err;
      deps.log.warn({ err, outboundIds: rows.map((r) => r.id) }, 'mail sent but not yet recorded; trying again');
      await sleep(wait);
    }
  }
}

