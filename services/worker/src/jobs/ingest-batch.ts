import { deferCreatedEvents, deferNotifications, finishInbound, getInboundSources, lockInbound, startIngestAttempts, uncountIngestAttempts, type ClaimedInbound, type Tx } from '@blend/db';
import { sql } from 'drizzle-orm';
import { warmTemplates } from '@blend/mail';
import { enqueueAll, requeueIngest, type Queues } from '@blend/queue';
import { ParentPendingError } from '../ingest/decide';
import type { IngestDeps } from '../ingest/deps';
import { batchTurns, type LiveFirst } from '../live-first';
import { budgetParts } from '../memory-budget';
import type { IngestOutcome } from '../ingest/outcome';
import { logConversionDied, MAX_INGEST_TRIES, prepareMail, recordIngestMetrics, writeMail, type PreparedMail, type UnreadMail } from './ingest';

/** How a batch ended: the outcome of each mail written in its transaction, and the mails to ingest again, each alone. */
export interface BatchOutcome {
  /** In the order the mails arrived, committed together. */
  outcomes: { inboundId: string; outcome: IngestOutcome }[];
  /**
   * Mails left `received` for a job of their own: one whose stages failed (its savepoint rolled
   * back), a reply whose parent is still being ingested, or every mail of a batch that was
   * started before and never finished.
   */
  alone: string[];
}

/**
 * `ingest` of a batch of stored rows (docs/ARCHITECTURE.md "Ingest, one mail at a time"): the
 * tries of all of them counted in one statement and committed, their sources read once the
 * batch's share of the memory budget is granted (a batch larger than the budget goes in parts
 * that fit, one after another), parse and convert of all at once (in the parse threads), then
 * every mail decided and written in one transaction (of at most {@link MAILS_PER_TRANSACTION}) in
 * the order the mails arrived, each in a savepoint of its own: a mail that fails is rolled back
 * alone and handed back in `alone`, the others commit. A reply finds a parent written earlier in
 * the same transaction (its row is no longer `received` there, and its Message-IDs are mapped).
 *
 * A batch whose rows were started before (the worker died, or the transaction failed) is not run
 * again as one: each row goes to a job of its own, so a mail that kills the worker ends
 * `conversion_died` alone after {@link MAX_INGEST_TRIES}, not its batch with it.
 *
 * With `liveFirst` (a catch-up's batch), the batch gives live mail its turn: a mail's parse is
 * started, and a mail's savepoint begun, only when no live ingest runs in the process (or the
 * wait ran out; {@link batchTurns}), and at most two mails a parse thread are being read at once.
 */
export async function ingestBatch(inboundIds: string[], deps: IngestDeps, liveFirst?: Pick<LiveFirst, 'turn'>): Promise<BatchOutcome> {
  await warmTemplates();
  const claimed = await startIngestAttempts(deps.db, inboundIds);
  if (claimed.length > 1 && claimed.some((r) => r.attempts > 1)) {
    deps.log.warn({ inboundIds: claimed.map((r) => r.id) }, 'a batch started before did not finish: its mails go on one by one');
    return { outcomes: [], alone: claimed.map((r) => r.id) };
  }
  const result: BatchOutcome = { outcomes: [], alone: [] };
  // Each part takes the sum of its mails' sizes from the budget, one part after another; a mail
  // larger than the whole budget is a part of its own and waits until it runs alone.
  for (const part of budgetParts(claimed, deps.memoryBudget?.capacity ?? Infinity)) {
    const bytes = part.reduce((n, r) => n + r.size, 0);
    const run = () => ingestClaimed(part, deps, liveFirst);
    const done = await (deps.memoryBudget ? deps.memoryBudget.run(bytes, run) : run());
    for (const { outcome } of done.outcomes) recordIngestMetrics(outcome, deps);
    result.outcomes.push(...done.outcomes);
    result.alone.push(...done.alone);
  }
  return result;
}

async function ingestClaimed(claimed: ClaimedInbound[], deps: IngestDeps, liveFirst?: Pick<LiveFirst, 'turn'>): Promise<BatchOutcome> {
  const sources = await getInboundSources(deps.db, claimed);
  const prepareOne = async (row: ClaimedInbound): Promise<PreparedMail | UnreadMail> => {
    if (row.attempts > MAX_INGEST_TRIES) {
      logConversionDied(deps, row.id, row.attempts);
      return { ok: false, state: 'failed', reason: 'conversion_died' };
    }
    const raw = sources.get(row.id);
    if (!raw) return { ok: false, state: 'rejected', reason: 'missing_source' };
    return prepareMail(row, raw, deps);
  };
  const prepared = liveFirst
    ? await prepareInTurn(claimed, prepareOne, 2 * Math.max(1, deps.parsePool?.threads ?? 1), batchTurns(liveFirst))
    : await Promise.allSettled(claimed.map(prepareOne));
  sources.clear();

  const outcomes: BatchOutcome['outcomes'] = [];
  const alone: string[] = [];
  for (let from = 0; from < claimed.length; from += MAILS_PER_TRANSACTION) {
    await writeInOneTransaction(claimed.slice(from, from + MAILS_PER_TRANSACTION), prepared.slice(from, from + MAILS_PER_TRANSACTION), deps, outcomes, alone, liveFirst && batchTurns(liveFirst));
  }
  return { outcomes, alone };
}

/**
 * `prepare` of every row, `atOnce` at a time, each started after its `turn` (Promise.allSettled's
 * results, in the rows' order). Started all at once, a batch's parses would hold every parse
 * thread, and their results the main thread, for as long as the batch takes to read.
 */
async function prepareInTurn<R, T>(rows: R[], prepare: (row: R) => Promise<T>, atOnce: number, turn: () => Promise<void>): Promise<PromiseSettledResult<T>[]> {
  const results: PromiseSettledResult<T>[] = new Array(rows.length);
  let next = 0;
  const lane = async () => {
    while (next < rows.length) {
      await turn();
      const i = next++;
      if (i >= rows.length) return;
      try {
        results[i] = { status: 'fulfilled', value: await prepare(rows[i]!) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(atOnce, rows.length) }, lane));
  return results;
}

/**
 * Mails written in one transaction at most. Each mail's savepoint that writes is a subtransaction
 * with an id of its own, and Postgres keeps 64 of them per transaction where other sessions look
 * (PGPROC_MAX_CACHED_SUBXIDS); past that, every snapshot taken anywhere must read pg_subtrans.
 */
export const MAILS_PER_TRANSACTION = 50;

async function writeInOneTransaction(
  claimed: ClaimedInbound[],
  prepared: PromiseSettledResult<PreparedMail | UnreadMail>[],
  deps: IngestDeps,
  outcomes: BatchOutcome['outcomes'],
  alone: string[],
  turn?: () => Promise<void>,
): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const waiting: string[] = [];
    const savepoint = mailSavepoints(tx);
    // The mails' post.created and comment.created events, and their notifications, are written together at the end.
    const events = deferCreatedEvents(tx);
    const notifications = deferNotifications(tx);
    for (const [i, row] of claimed.entries()) {
      // A live mail's statements go first (the turn ends at the latest after LiveFirst.maxWaitMs).
      if (turn) await turn();
      const p = prepared[i]!;
      if (p.status === 'rejected') {
        deps.log.warn({ err: p.reason, inboundId: row.id }, 'ingest of a mail of a batch failed before its transaction; it is tried again alone');
        alone.push(row.id);
        continue;
      }
      const mail = p.value;
      await savepoint.begin();
      const held = { events: events.mark(), notifications: notifications.mark() };
      try {
        const outcome = await (mail.ok ? writeMail(tx, mail, deps) : finishUnread(tx, row.id, mail));
        outcomes.push({ inboundId: row.id, outcome: mail.ok ? { ...outcome, deliveredAt: mail.deliveredAt, trimmedRatio: mail.trimmedRatio } : outcome });
      } catch (err) {
        // Rolled back to the mail's savepoint: the mails before it stay written.
        await savepoint.rollback();
        events.restore(held.events);
        notifications.restore(held.notifications);
        if (err instanceof ParentPendingError) waiting.push(row.id);
        else deps.log.warn({ err, inboundId: row.id }, 'ingest of a mail of a batch failed; it is tried again alone');
        alone.push(row.id);
      }
    }
    await events.flush();
    await notifications.flush();
    // A try that ended waiting for a parent finished: it does not count towards conversion_died.
    await uncountIngestAttempts(tx, waiting);
  });
}

/**
 * The savepoint of each mail of a batch's transaction, one statement a mail: the savepoint of
 * the mail before is released in the statement that sets the next one (`commit` releases the
 * last), and a mail that fails is rolled back to its own. A Postgres error in the `begin`
 * itself (the transaction was already aborted) is thrown, and the batch's transaction fails.
 */
function mailSavepoints(tx: Tx): { begin(): Promise<void>; rollback(): Promise<void> } {
  let set = false;
  return {
    async begin() {
      // Without parameters, so node-postgres sends both in one simple query.
      await tx.execute(sql.raw(set ? 'release savepoint blend_mail; savepoint blend_mail' : 'savepoint blend_mail'));
      set = true;
    },
    async rollback() {
      await tx.execute(sql.raw('rollback to savepoint blend_mail'));
    },
  };
}

/** End a mail that could not be read, in the batch's transaction, unless another ingest ended it first. */
async function finishUnread(tx: Tx, inboundId: string, u: UnreadMail): Promise<IngestOutcome> {
  const locked = await lockInbound(tx, inboundId);
  if (!locked || locked.state !== 'received') return { state: 'skipped', reason: 'already_final' };
  await finishInbound(tx, inboundId, { state: u.state, reason: u.reason });
  return { state: u.state, reason: u.reason };
}

/**
 * A batch job of the `ingest` processor: {@link ingestBatch}, then, after its commit, the sends
 * of the mails it wrote to the outbox queued in bulk, and each mail handed back queued alone
 * (into `queues.ingest`, the ingest queue the batch came from; without it, the reconciler finds them).
 */
export async function ingestBatchJob(
  inboundIds: string[],
  deps: IngestDeps,
  queues?: Pick<Queues, 'send'> & Partial<Pick<Queues, 'ingest'>>,
  liveFirst?: Pick<LiveFirst, 'turn'>,
): Promise<{ ingested: number; alone: number }> {
  const result = await ingestBatch(inboundIds, deps, liveFirst);
  for (const { inboundId, outcome } of result.outcomes) {
    deps.log.info({ inboundId, outcome: outcome.state, reason: 'reason' in outcome ? outcome.reason : undefined }, 'ingested');
  }
  if (queues) {
    await enqueueAll(queues, result.outcomes.flatMap(({ outcome }) => ('outbound' in outcome && outcome.outbound ? outcome.outbound : [])), deps.log);
    for (const id of result.alone) {
      if (queues.ingest) await requeueIngest(queues.ingest, id).catch((err: unknown) => deps.log.warn({ err, inboundId: id }, 'enqueue failed; left to the reconciler'));
    }
  }
  return { ingested: result.outcomes.length, alone: result.alone.length };
}
