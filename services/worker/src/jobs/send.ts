import { setTimeout as sleep } from 'node:timers/promises';
import type { Transporter } from 'nodemailer';
import { DEFAULT_ATTACHMENT_LIMITS, PermanentError, servedAs, type Addressing } from '@blend/core';
import { claimOutbound, claimOutbounds, countOutboundAttempt, filesForMail, finishOutbound, finishOutboundsSent, outboundState, type ClaimedOutbound, type Database } from '@blend/db';
import { composeOutbound, isPermanentSmtpError, type OutboundFile } from '@blend/mail';
import type { Logger } from '@blend/runtime';
import type { SendBatchJob, SendJob } from '@blend/queue';

export interface SendDeps {
  db: Database;
  log: Logger;
  transport: Transporter;
  /** Blend's addresses: From and the VERP envelope sender. */
  addressing: Addressing;
  secret: string;
  /** BLEND_ATTACHMENTS_MAX_TOTAL_BYTES: the most a mirror carries of its comment's files. @defaultValue DEFAULT_ATTACHMENT_LIMITS.maxTotalBytes */
  attachmentsMaxTotalBytes?: number;
}

/**
 * The files a mail carries: a mirror brings its comment's stored files (those written in the web
 * composer), as many as fit within the per-mail limit; other mail links to the thread instead.
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
  await recordSent(deps, [row.id]);
  return { state: 'sent' };
}

/** Mail to a paused address, or whose content was withdrawn, is cancelled instead of sent (F29). */
async function cancelIfVoid(deps: SendDeps, row: ClaimedOutbound): Promise<SendOutcome | null> {
  if (row.paused) {
    await finishOutbound(deps.db, row.id, { state: 'cancelled', error: 'address paused after hard bounces' });
    return { state: 'cancelled', reason: 'paused' };
  }
  if (row.voidReason) {
    // Written before an SMTP outage, say, and claimed after the author took the words back.
    const why = row.voidReason === 'retracted' ? 'its content was retracted' : 'its author opted out';
    await finishOutbound(deps.db, row.id, { state: 'cancelled', error: `not sent: ${why} after it was queued` });
    return { state: 'cancelled', reason: row.voidReason };
  }
  return null;
}

/** Compose a claimed row and hand it to SMTP; resolves on the server's 250. */
async function deliver(deps: SendDeps, row: ClaimedOutbound): Promise<void> {
  await deps.transport.sendMail(composeOutbound(row, { addressing: deps.addressing, secret: deps.secret }, await filesOf(deps, row)));
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
 * `send-batch`: deliver outbox rows written together (a batch of digests) with one claim for
 * all of them and their `sent` marks written a group at a time, instead of a claim and a
 * finish per mail; the mails go out side by side over the transport's pool. Each row keeps the
 * guarantees of {@link send}: a row that is no longer `pending` is not sent again, a paused
 * or withdrawn one is cancelled (F29), a permanent refusal fails that row only. A transient
 * failure (F18, F19, F22) or a row another attempt holds makes the job throw once every mail
 * of this attempt is settled and the accepted ones are recorded, so its retry (with the send
 * backoff) claims only the rows still pending and sends nothing twice.
 */
export async function sendBatch(job: SendBatchJob, deps: SendDeps): Promise<SendBatchOutcome> {
  const rows = await claimOutbounds(deps.db, job.outboundIds, SEND_CLAIM_MS);
  const out: SendBatchOutcome = { sent: 0, cancelled: 0, failed: 0, skipped: 0 };
  const recorder = new SentRecorder(deps);
  let transient: unknown = null;
  await Promise.all(
    rows.map(async (row) => {
      if (await cancelIfVoid(deps, row)) {
        out.cancelled++;
        return;
      }
      try {
        await deliver(deps, row);
      } catch (err) {
        if (await recordSendFailure(deps, row.id, err)) {
          out.failed++;
          deps.log.warn({ err, outboundId: row.id }, 'send refused for good');
        } else transient ??= err;
        return;
      }
      out.sent++;
      recorder.add(row.id);
    }),
  );
  await recorder.drain();
  if (transient) throw transient;
  if (rows.length < job.outboundIds.length) {
    const claimed = new Set(rows.map((r) => r.id));
    for (const id of job.outboundIds) {
      if (claimed.has(id)) continue;
      const state = await outboundState(deps.db, id);
      if (state === 'pending') throw new SendClaimedError(id);
      out.skipped++;
    }
  }
  return out;
}

/**
 * The `sent` writes of a batch, grouped: the mails accepted within {@link SENT_GROUP_MS} of
 * the first one waiting are recorded in one statement, one write after the other, and the rest
 * when the batch is settled. A worker that dies in that window sends those few again with the
 * same Message-ID, the at-least-once case of F21.
 */
class SentRecorder {
  private waiting: string[] = [];
  private writes: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private error: unknown = null;

  constructor(private readonly deps: SendDeps) {}

  add(id: string): void {
    this.waiting.push(id);
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.write();
    }, SENT_GROUP_MS);
  }

  /** Queue a write of every mail waiting now, after the writes before it. */
  private write(): void {
    this.writes = this.writes.then(async () => {
      const ids = this.waiting;
      this.waiting = [];
      if (ids.length === 0) return;
      await recordSent(this.deps, ids).catch((err: unknown) => {
        this.error ??= err;
      });
    });
  }

  /** Every accepted mail recorded; throws if a write failed past its retries. */
  async drain(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.write();
    await this.writes;
    if (this.error) throw this.error;
  }
}

/** How long an accepted mail of a batch may wait for its `sent` write, gathering others. */
const SENT_GROUP_MS = 100;

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
async function recordSent(deps: SendDeps, ids: string[]): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      if (ids.length === 1) await finishOutbound(deps.db, ids[0]!, { state: 'sent' });
      else await finishOutboundsSent(deps.db, ids);
      return;
    } catch (err) {
      const wait = SENT_WRITE_BACKOFF_MS[i];
      if (wait === undefined) throw err;
      deps.log.warn({ err, outboundIds: ids }, 'mail sent but not yet recorded; trying again');
      await sleep(wait);
    }
  }
}
