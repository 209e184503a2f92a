import type { Transporter } from 'nodemailer';
import { PermanentError } from '@blend/core';
import { countOutboundAttempt, finishOutbound, getOutbound, isMailPaused, type Database } from '@blend/db';
import { composeOutbound, isPermanentSmtpError } from '@blend/mail';
import type { Logger } from '@blend/config';
import type { SendJob } from '@blend/queue';

export interface SendDeps {
  db: Database;
  log: Logger;
  transport: Transporter;
  domain: string;
  secret: string;
}

export type SendOutcome = { state: 'skipped' | 'sent' | 'cancelled'; reason?: string };

/**
 * `send`: deliver one outbox row over SMTP. The row, not the job, is the record: a row that
 * is no longer `pending` is not sent again, and a retry reuses the same Message-ID, so an
 * ambiguous timeout after DATA yields at most a second copy with the same id
 * (RELIABILITY F21). Mail to a paused address is cancelled at send time (F29).
 */
export async function send(job: SendJob, deps: SendDeps): Promise<SendOutcome> {
  const row = await getOutbound(deps.db, job.outboundId);
  if (!row) throw new PermanentError('OUTBOUND_NOT_FOUND', job.outboundId);
  if (row.state !== 'pending') return { state: 'skipped', reason: row.state };
  if (await isMailPaused(deps.db, row.toAddress)) {
    await finishOutbound(deps.db, row.id, { state: 'cancelled', error: 'address paused after hard bounces' });
    return { state: 'cancelled', reason: 'paused' };
  }
  try {
    await deps.transport.sendMail(composeOutbound(row, { domain: deps.domain, secret: deps.secret }));
  } catch (err) {
    const message = (err as Error).message;
    await countOutboundAttempt(deps.db, row.id, message);
    if (isPermanentSmtpError(err)) {
      await finishOutbound(deps.db, row.id, { state: 'failed', error: message });
      throw new PermanentError('SMTP_REJECTED', message);
    }
    throw err;
  }
  await finishOutbound(deps.db, row.id, { state: 'sent' });
  return { state: 'sent' };
}
