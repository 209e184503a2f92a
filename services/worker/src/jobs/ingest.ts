import { PermanentError } from '@blend/core';
import type { SenderVerdict } from '@blend/core';
import { earlierCopyAndReplyFacts, finishInbound, getInbound, getInboundState, lockInboundForIngest, startIngestAttempt, uncountIngestAttempts, type InboundRow, type Tx } from '@blend/db';
import { warmTemplates, type ParsedAttachment } from '@blend/mail';
import { authenticateSender } from '../ingest/authenticate';
import { classifyInbound, type ClassifiedInbound } from '../ingest/classify';
import { copyAfterDecision, copyBeforeDecision, finishAsCopy } from '../ingest/copies';
import { decide, ParentPendingError } from '../ingest/decide';
import type { IngestDeps } from '../ingest/deps';
import type { IngestOutcome } from '../ingest/outcome';
import { parseInbound, type ParsedInbound } from '../ingest/parse';
import { scanFiles } from '../ingest/scan-files';
import { applyDecision } from '../ingest/write';

export { ParentPendingError } from '../ingest/decide';
export type { IngestDeps } from '../ingest/deps';
export type { IngestOutcome } from '../ingest/outcome';

/**
 * Ingests of one mail started before it is failed (`conversion_died`): a mail that kills the
 * worker must not come back for ever. Retries after a transient error count too, so this is
 * well above what those need; a try that ended waiting for a parent does not.
 */
export const MAX_INGEST_TRIES = 10;

/**
 * `ingest`: parse -> convert -> classify -> authenticate -> decide -> write, for one stored
 * inbound row (docs/ARCHITECTURE.md "Ingest, one mail at a time"). This handler only loads,
 * runs the stages and records; the rules are in the stages and in core. Safe to run twice: the
 * row is locked and only a `received` row is ingested, and the dedupe key makes a second copy
 * of the same mail a `duplicate`.
 */
export async function ingest(job: { inboundId: string }, deps: IngestDeps): Promise<IngestOutcome> {
  const outcome = await ingestWithinBudget(job, deps);
  recordIngestMetrics(outcome, deps);
  return outcome;
}

/** The metrics of one ingested mail (`blend_inbound_total`, the ingest latency, the trimmed share): per mail, also in a batch. */
export function recordIngestMetrics(outcome: IngestOutcome, deps: Pick<IngestDeps, 'metrics'>): void {
  const m = deps.metrics;
  if (!m || outcome.state === 'skipped') return;
  m.inbound.inc({ state: outcome.state, reason: 'reason' in outcome ? outcome.reason : '' });
  if (outcome.deliveredAt && (outcome.state === 'posted' || outcome.state === 'commented')) {
    m.ingestLatency.observe(Math.max(0, (Date.now() - outcome.deliveredAt.getTime()) / 1000));
  }
  if (outcome.trimmedRatio !== undefined) m.trimmedShare.observe(outcome.trimmedRatio);
}

async function ingestWithinBudget(job: { inboundId: string }, deps: IngestDeps): Promise<IngestOutcome> {
  // Live mail: no catch-up mail takes a parse thread while its try is counted (ParsePool.expectLive).
  const expected = deps.parseLane === 'backlog' ? undefined : deps.parsePool?.expectLive();
  try {
    return await ingestCounted(job, deps);
  } finally {
    expected?.();
  }
}

async function ingestCounted(job: { inboundId: string }, deps: IngestDeps): Promise<IngestOutcome> {
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
    logConversionDied(deps, job.inboundId, attempt.attempts);
    return finishAlone(deps, { id: job.inboundId }, 'failed', 'conversion_died');
  }
  const budget = deps.memoryBudget;
  const run = () => ingestStored(job, attempt.row, deps);
  return budget ? budget.run(attempt.size, run) : run();
}

/** The log line of a mail that ends `conversion_died`. */
export function logConversionDied(deps: Pick<IngestDeps, 'log'>, inboundId: string, attempts: number): void {
  deps.log.error({ inboundId, tries: attempts - 1 }, `inbound failed: ${MAX_INGEST_TRIES} ingests were started and none finished (did the worker die each time?); \`blend inbound replay\` tries again`);
}

async function ingestStored(job: { inboundId: string }, inline: InboundRow | undefined, deps: IngestDeps): Promise<IngestOutcome> {
  // A large source in shared memory: its parse thread reads it without a copy.
  const row = inline ?? (await getInbound(deps.db, job.inboundId, { shared: true }));
  if (!row) throw new PermanentError('INBOUND_NOT_FOUND', job.inboundId);
  if (row.state !== 'received') return { state: 'skipped', reason: 'already_final' };
  const raw = row.raw;
  if (!raw) return finishAlone(deps, row, 'rejected', 'missing_source');
  const ready = await prepareMail(row, raw, deps);
  if (!ready.ok) return finishAlone(deps, row, ready.state, ready.reason);
  let result;
  try {
    result = await deps.db.transaction((tx) => writeMail(tx, ready, deps));
  } catch (err) {
    // Waiting for a parent is how this try ended, not a try that never finished: were it
    // counted, a reply whose parent takes a while (a batch) would end `conversion_died`.
    if (err instanceof ParentPendingError) await uncountIngestAttempts(deps.db, [row.id]);
    throw err;
  }
  return { ...result, deliveredAt: ready.deliveredAt, trimmedRatio: ready.trimmedRatio };
}

/** A stored mail through the stages before the transaction, ready to be decided and written. */
export interface PreparedMail {
  ok: true;
  row: Pick<InboundRow, 'id' | 'internalDate' | 'receivedAt' | 'releasedAt'>;
  parsed: ParsedInbound;
  classified: ClassifiedInbound;
  verdict: SenderVerdict;
  /** The mail's files, scanned when a scanner is set. */
  files: ParsedAttachment[];
  /** When the mail reached the mailbox, for the latency metric. */
  deliveredAt: Date;
  trimmedRatio: number;
}

/** A stored mail that ends without a transaction of the stages: it could not be read. */
export interface UnreadMail {
  ok: false;
  state: 'rejected' | 'failed';
  reason: string;
}

/**
 * The stages before the transaction: the CPU-bound ones (in a parse thread) and the ones that
 * may wait on the network (DNS for sender authentication, the virus scanner).
 * @throws what the scanner or a parse thread threw unexpectedly: the mail is retried.
 */
export async function prepareMail(row: PreparedMail['row'], raw: Buffer, deps: IngestDeps): Promise<PreparedMail | UnreadMail> {
  const parsed = await parseInbound(raw, deps);
  if (!parsed.ok) {
    if (parsed.err) deps.log.error({ inboundId: row.id, reason: parsed.reason, err: parsed.err }, 'inbound failed: parsing was stopped; `blend inbound replay` tries again');
    else deps.log.warn({ inboundId: row.id, reason: parsed.reason, detail: parsed.detail }, 'inbound rejected');
    return { ok: false, state: parsed.state, reason: parsed.reason };
  }
  const classified = classifyInbound(raw, parsed, deps);
  const verdict = await authenticateSender(raw, parsed.mail, classified, deps.senderAuth);
  const files = await scanFiles(parsed.files, classified, deps.scanner, deps.attachmentLimits);
  const { content } = parsed;
  const trimmedRatio = content.sourceChars > 0 ? content.trimmedChars / content.sourceChars : 0;
  return { ok: true, row, parsed, classified, verdict, files, deliveredAt: row.internalDate ?? row.receivedAt, trimmedRatio };
}

/**
 * Decide and write one prepared mail in `tx` (the mail's transaction, or a batch's): the dedupe
 * key and the row locked, copies, decide, write.
 * @throws ParentPendingError when the mail's parent is still being ingested: before the mail
 *   writes anything (a batch without savepoints goes on to its next mail; the mail's locks stay
 *   until the commit).
 */
export async function writeMail(tx: Tx, p: PreparedMail, deps: IngestDeps): Promise<IngestOutcome> {
  const { row, parsed, classified, verdict, files } = p;
  const { mail, content } = parsed;
  // Token expiry and rate windows use the database clock, not this worker's (docs/SECURITY.md F23).
  // The dedupe key's lock, then the row's, in one statement, the sender read along.
  const taken = await lockInboundForIngest(tx, row.id, classified.dedupeKey, mail.from?.address ?? null);
  if (!taken || taken.row.state !== 'received') return { state: 'skipped', reason: 'already_final' };
  const { now, row: locked, person } = taken;
  const ids = { messageId: mail.messageId, dedupeKey: classified.dedupeKey, fromAddress: mail.from?.address ?? null, subject: mail.subject.slice(0, 300) };

  // Copies of one mail (docs/SECURITY.md B27, B29); a reply's check for a parent still being
  // ingested and its thread lookup by its parents' Message-IDs read along, for decide.
  const parentIds = classified.classification.kind === 'reply' ? classified.classification.parentIds : [];
  const { earlier: found, reply } = await earlierCopyAndReplyFacts(tx, classified.dedupeKey, parentIds, row.id);
  const earlier = found && found.inboundId !== row.id ? found : undefined;
  const copyOfPublished = copyBeforeDecision(earlier, content.bodyText);
  if (copyOfPublished) return finishAsCopy(tx, row.id, ids, copyOfPublished);

  const arrival = { internalDate: locked.internalDate, receivedAt: locked.receivedAt, releasedAt: locked.releasedAt };
  const decided = await decide(tx, { inboundId: row.id, arrival, externalConfirmed: Boolean(locked.confirmedAt), parsed, classified, verdict, now, person, replyFacts: reply }, deps);
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
}

/** End a mail that cannot go through the stages, in a transaction of its own. */
async function finishAlone(deps: IngestDeps, row: Pick<InboundRow, 'id'>, state: 'rejected' | 'failed', reason: string): Promise<IngestOutcome> {
  await deps.db.transaction((tx) => finishInbound(tx, row.id, { state, reason }));
  return { state, reason };
}
