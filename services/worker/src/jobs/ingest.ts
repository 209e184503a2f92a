import { PermanentError } from '@blend/core';
import { findByDedupeKey, finishInbound, getInbound, getInboundState, lockDedupeKey, lockInbound, startIngestAttempt, type InboundRow } from '@blend/db';
import { warmTemplates } from '@blend/mail';
import type { IngestJob } from '@blend/queue';
import { authenticateSender } from '../ingest/authenticate';
import { classifyInbound } from '../ingest/classify';
import { copyAfterDecision, copyBeforeDecision, finishAsCopy } from '../ingest/copies';
import { decide } from '../ingest/decide';
import type { IngestDeps } from '../ingest/deps';
import type { IngestOutcome } from '../ingest/outcome';
import { parseInbound } from '../ingest/parse';
import { scanFiles } from '../ingest/scan-files';
import { applyDecision } from '../ingest/write';

export { ParentPendingError } from '../ingest/decide';
export type { IngestDeps } from '../ingest/deps';
export type { IngestOutcome } from '../ingest/outcome';

/**
 * Ingests of one mail started before it is failed (`conversion_died`): a mail that kills the
 * worker must not come back for ever. Retries after a transient error and while a parent is
 * pending count too, so this is well above what those need.
 */
export const MAX_INGEST_TRIES = 10;

/**
 * `ingest`: parse -> convert -> classify -> authenticate -> decide -> write, for one stored
 * inbound row (docs/ARCHITECTURE.md "Ingest, one mail at a time"). This handler only loads,
 * runs the stages and records; the rules are in the stages and in core. Safe to run twice: the
 * row is locked and only a `received` row is ingested, and the dedupe key makes a second copy
 * of the same mail a `duplicate`.
 */
export async function ingest(job: IngestJob, deps: IngestDeps): Promise<IngestOutcome> {
  const outcome = await ingestWithinBudget(job, deps);
  const m = deps.metrics;
  if (m && outcome.state !== 'skipped') {
    m.inbound.inc({ state: outcome.state, reason: 'reason' in outcome ? outcome.reason : '' });
    if (outcome.deliveredAt && (outcome.state === 'posted' || outcome.state === 'commented')) {
      m.ingestLatency.observe(Math.max(0, (Date.now() - outcome.deliveredAt.getTime()) / 1000));
    }
    if (outcome.trimmedRatio !== undefined) m.trimmedShare.observe(outcome.trimmedRatio);
  }
  return outcome;
}

async function ingestWithinBudget(job: IngestJob, deps: IngestDeps): Promise<IngestOutcome> {
  // Receipts are rendered from templates compiled once per process (a no-op once done).
  await warmTemplates();
  // A mail that kills the worker while it is ingested (out of memory, a parser bug) would come
  // back for ever (stalled job, then the reconciler): each try is counted, committed, first.
  // The same statement gives the size, which decides the share of the memory budget before a
  // large source is read, and brings a small source along.
  const attempt = await startIngestAttempt(deps.db, job.inboundId);
  if (!attempt) {
    if (!(await getInboundState(deps.db, job.inboundId))) throw new PermanentError('INBOUND_NOT_FOUND', job.inboundId);
    return { state: 'skipped', reason: 'already_final' };
  }
  if (attempt.attempts > MAX_INGEST_TRIES) {
    deps.log.error({ inboundId: job.inboundId, tries: attempt.attempts - 1 }, `inbound failed: ${MAX_INGEST_TRIES} ingests were started and none finished (did the worker die each time?); \`blend inbound replay\` tries again`);
    return finishAlone(deps, { id: job.inboundId }, 'failed', 'conversion_died');
  }
  const budget = deps.memoryBudget;
  const run = () => ingestStored(job, attempt.row, deps);
  return budget ? budget.run(attempt.size, run) : run();
}

async function ingestStored(job: IngestJob, inline: InboundRow | undefined, deps: IngestDeps): Promise<IngestOutcome> {
  const row = inline ?? (await getInbound(deps.db, job.inboundId));
  if (!row) throw new PermanentError('INBOUND_NOT_FOUND', job.inboundId);
  if (row.state !== 'received') return { state: 'skipped', reason: 'already_final' };
  const raw = row.raw;
  if (!raw) return finishAlone(deps, row, 'rejected', 'missing_source');

  // Before the transaction: the CPU-bound stages (in a parse thread) and the ones that may wait
  // on the network (DNS for sender authentication, the virus scanner).
  const parsed = await parseInbound(raw, deps);
  if (!parsed.ok) {
    if (parsed.err) deps.log.error({ inboundId: row.id, reason: parsed.reason, err: parsed.err }, 'inbound failed: parsing was stopped; `blend inbound replay` tries again');
    else deps.log.warn({ inboundId: row.id, reason: parsed.reason, detail: parsed.detail }, 'inbound rejected');
    return finishAlone(deps, row, parsed.state, parsed.reason);
  }
  const classified = classifyInbound(raw, parsed, deps);
  const verdict = await authenticateSender(raw, parsed.mail, classified, deps.senderAuth);
  const files = await scanFiles(parsed.files, classified, deps.scanner, deps.attachmentLimits);
  const { mail, content } = parsed;
  const trimmedRatio = content.sourceChars > 0 ? content.trimmedChars / content.sourceChars : 0;

  const result = await deps.db.transaction(async (tx): Promise<IngestOutcome> => {
    // Token expiry and rate windows use the database clock, not this worker's (docs/SECURITY.md F23).
    const now = await lockDedupeKey(tx, classified.dedupeKey);
    const locked = await lockInbound(tx, row.id);
    if (!locked || locked.state !== 'received') return { state: 'skipped', reason: 'already_final' };
    const ids = { messageId: mail.messageId, dedupeKey: classified.dedupeKey, fromAddress: mail.from?.address ?? null, subject: mail.subject.slice(0, 300) };

    // Copies of one mail (docs/SECURITY.md B27, B29).
    const found = await findByDedupeKey(tx, classified.dedupeKey);
    const earlier = found && found.inboundId !== row.id ? found : undefined;
    const copyOfPublished = copyBeforeDecision(earlier, content.bodyText);
    if (copyOfPublished) return finishAsCopy(tx, row.id, ids, copyOfPublished);

    const arrival = { internalDate: row.internalDate, receivedAt: row.receivedAt, releasedAt: row.releasedAt };
    const decided = await decide(tx, { inboundId: row.id, arrival, externalConfirmed: Boolean(locked.confirmedAt), parsed, classified, verdict, now }, deps);
    const copy = copyAfterDecision(earlier, decided.decision);
    if (copy) return finishAsCopy(tx, row.id, ids, copy);

    return applyDecision(tx, decided.decision, {
      deps,
      row: locked,
      mail,
      ids,
      person: decided.person,
      content,
      verdict,
      participants: classified.participants,
      tokenHash: decided.tokenHash,
      bounce: classified.bounce,
      files,
      referencedPostIds: decided.referencedPostIds,
      now,
    });
  });
  return { ...result, deliveredAt: row.internalDate ?? row.receivedAt, trimmedRatio };
}

/** End a mail that cannot go through the stages, in a transaction of its own. */
async function finishAlone(deps: IngestDeps, row: Pick<InboundRow, 'id'>, state: 'rejected' | 'failed', reason: string): Promise<IngestOutcome> {
  await deps.db.transaction((tx) => finishInbound(tx, row.id, { state, reason }));
  return { state, reason };
}
