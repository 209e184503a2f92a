import { setTimeout as sleep } from 'node:timers/promises';
import type { Transporter } from 'nodemailer';
import { DEFAULT_ATTACHMENT_LIMITS, PermanentError, servedAs, type Addressing } from '@blend/core';
import { claimOutbound, countOutboundAttempt, filesForMail, finishOutbound, outboundState, type Database } from '@blend/db';
import { composeOutbound, isPermanentSmtpError, type OutboundFile } from '@blend/mail';
import type { Logger } from '@blend/runtime';
import type { SendJob } from '@blend/queue';

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
async function filesOf(deps: SendDeps, row: { kind: string; postId: string | null; commentId: string | null }): Promise<OutboundFile[]> {
  if (row.kind !== 'mirror' || !row.postId || !row.commentId) return [];
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
  try {
    await deps.transport.sendMail(composeOutbound(row, { addressing: deps.addressing, secret: deps.secret }, await filesOf(deps, row)));
  } catch (err) {
    const message = (err as Error).message;
    await countOutboundAttempt(deps.db, row.id, message);
    if (isPermanentSmtpError(err)) {
      await finishOutbound(deps.db, row.id, { state: 'failed', error: message });
      throw new PermanentError('SMTP_REJECTED', message);
    }
    throw err;
  }
  await recordSent(deps, row.id);
  return { state: 'sent' };
}

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
async function recordSent(deps: SendDeps, id: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await finishOutbound(deps.db, id, { state: 'sent' });
      return;
    } catch (err) {
      const wait = SENT_WRITE_BACKOFF_MS[i];
      if (wait === undefined) throw err;
      deps.log.warn({ err, outboundId: id }, 'mail sent but not yet recorded; trying again');
      await sleep(wait);
    }
  }
}
