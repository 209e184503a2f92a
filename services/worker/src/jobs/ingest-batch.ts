import { deferCreatedEvents, deferNotifications, finishInbound, getInboundSources, lockInbound, pendingParents, startIngestAttempts, uncountIngestAttempts, type ClaimedInbound, type Tx } from '@blend/db';
import { sql } from 'drizzle-orm';
import { warmTemplates } from '@blend/mail';
import { enqueueAll, requeueIngest, type Queues } from '@blend/queue';
import { ParentPendingError } from '../ingest/decide';
import type { IngestDeps } from '../ingest/deps';
import { batchTurns, inLanes, type LiveFirst } from '../live-first';
import { budgetParts } from '../memory-budget';
import type { IngestOutcome } from '../ingest/outcome';
import { logConversionDied, MAX_INGEST_TRIES, prepareMail, recordIngestMetrics, writeMail, type PreparedMail, type UnreadMail } from './ingest';

/** How a batch ended: the outcome of each mail written in its transaction, and the mails to ingest again, each alone. */
export interface BatchOutcome {
  /** In the order the mails arrived, committed together; then the held replies written after the commit ({@link writeHeldReplies}). */
  outcomes: { inboundId: string; outcome: IngestOutcome }[];
  /**
   * Mails left `received` for a job of their own: one whose stages failed (its savepoint rolled
   * back), a reply whose parent is still being ingested (after the wait for it, {@link writeHeldReplies}),
   * or every mail of a batch that was started before and never finished.
   */
  alone: string[];
}

/** A reply held back by its batch's transaction for a parent being ingested, with its parse results. */
interface HeldReply {
  row: ClaimedInbound;
  mail: PreparedMail;
}

/**
 * How long a batch, once committed, waits for the parents of the replies it held back, while
 * another job has them claimed (their batch is being ingested). Well within the job's lock
 * (BLEND_JOB_LOCK_MS), which BullMQ renews meanwhile.
 */
export const HELD_REPLY_WAIT_MS = 2_000;

/** A reply larger than this is not held (its parse results wait outside the memory budget): it is handed back at once. */
export const HELD_REPLY_MAX_BYTES = 1 << 20;

/**
 * `ingest` of a batch of stored rows (docs/ARCHITECTURE.md "Ingest, one mail at a time"): the
 * tries of all of them counted in one statement and committed, their sources read once the
 * batch's share of the memory budget is granted (a batch larger than the budget goes in parts
 * that fit, one after another), parse and convert of all at once (in the parse threads), then
 * every mail decided and written in one transaction (of at most {@link MAILS_PER_TRANSACTION}) in
 * the order the mails arrived, without savepoints; should a mail's write fail, that transaction
 * is rolled back and written again with a savepoint a mail ({@link writeInOneTransaction}): the
 * mail that fails is rolled back alone and handed back in `alone`, the others commit. A reply
 * finds a parent written earlier in the same transaction (its row is no longer `received`
 * there, and its Message-IDs are mapped).
 *
 * A batch whose rows were started before (the worker died, or the transaction failed) is not run
 * again as one: each row goes to a job of its own, so a mail that kills the worker ends
 * `conversion_died` alone after {@link MAX_INGEST_TRIES}, not its batch with it.
 *
 * With `liveFirst` (a catch-up's batch), the batch gives live mail its turn: a mail's parse is
 * started, and a mail's write begun, only when no live ingest runs in the process (or the
 * wait ran out; {@link batchTurns}), and at most two mails a parse thread are being read at once;
 * its mails take a free parse thread before those of a catch-up's batch that read its sources
 * after it (`ParsePool.nextOrder`).
 */
export async function ingestBatch(inboundIds: string[], deps: IngestDeps, liveFirst?: Pick<LiveFirst, 'turn'>): Promise<BatchOutcome> {
  await warmTemplates();
  const claimed = await startIngestAttempts(deps.db, inboundIds);
  if (claimed.length > 1 && claimed.some((r) => r.attempts > 1)) {
    deps.log.warn({ inboundIds: claimed.map((r) => r.id) }, 'a batch started before did not finish: its mails go on one by one');
    return { outcomes: [], alone: claimed.map((r) => r.id) };
  }
  const result: BatchOutcome = { outcomes: [], alone: [] };
  const held: HeldReply[] = [];
  // Each part takes the sum of its mails' sizes from the budget, one part after another; a mail
  // larger than the whole budget is a part of its own and waits until it runs alone.
  for (const part of budgetParts(claimed, deps.memoryBudget?.capacity ?? Infinity)) {
    const bytes = part.reduce((n, r) => n + r.size, 0);
    const run = () => ingestClaimed(part, deps, liveFirst);
    const done = await (deps.memoryBudget ? deps.memoryBudget.run(bytes, run) : run());
    for (const { outcome } of done.outcomes) recordIngestMetrics(outcome, deps);
    result.outcomes.push(...done.outcomes);
    result.alone.push(...done.alone);
    held.push(...done.held);
  }
  if (held.length > 0) {
    const done = await writeHeldReplies(held, deps, liveFirst);
    for (const { outcome } of done.outcomes) recordIngestMetrics(outcome, deps);
    result.outcomes.push(...done.outcomes);
    result.alone.push(...done.alone);
  }
  return result;
}

/**
 * The replies a batch held back for a parent being ingested in another batch (their parse
 * results kept), after the batch committed the rest: asked in one statement whose parents are
 * still pending; those with none pending are written in a short transaction of their own, as in
 * the batch; the others wait, while every parent they wait for is claimed by a running ingest,
 * up to {@link HELD_REPLY_WAIT_MS} (asked again after a growing pause), and are handed back
 * then, or at once when a parent waits for a job. Nothing is locked while waiting: no other
 * batch can wait for this one.
 */
async function writeHeldReplies(held: HeldReply[], deps: IngestDeps, liveFirst?: Pick<LiveFirst, 'turn'>): Promise<BatchOutcome> {
  const outcomes: BatchOutcome['outcomes'] = [];
  const alone: string[] = [];
  const parentsOf = (h: HeldReply) => (h.mail.classified.classification.kind === 'reply' ? h.mail.classified.classification.parentIds : []);
  const deadline = Date.now() + (deps.heldReplyWaitMs ?? HELD_REPLY_WAIT_MS);
  let waiting = held;
  const rank = new Map(held.map((h, i) => [h.row.id, i]));
  const handedBack: string[] = [];
  const handBack = (h: HeldReply) => handedBack.push(h.row.id);
  for (let pause = 20; waiting.length > 0; pause = Math.min(2 * pause, 250)) {
    const pending = await pendingParents(deps.db, [...new Set(waiting.flatMap(parentsOf))], waiting.map((h) => h.row.id));
    // A parent that is one of these replies waits with them (its job is this one).
    const own = new Map(waiting.map((h) => [h.mail.parsed.mail.messageId, h]));
    const ready: HeldReply[] = [];
    const still: HeldReply[] = [];
    for (const h of waiting) {
      const parents = parentsOf(h).flatMap((id) => pending.get(id) ?? (own.has(id) && own.get(id) !== h ? [{ claimed: true }] : []));
      if (parents.length === 0) ready.push(h);
      else if (parents.every((p) => p.claimed)) still.push(h);
      else handBack(h); // A parent waits for a job: its ingest may not even have started.
    }
    waiting = still;
    if (ready.length > 0) {
      const again: HeldReply[] = [];
      const bytes = ready.reduce((n, h) => n + h.row.size, 0);
      const run = async () => {
        for (let from = 0; from < ready.length; from += MAILS_PER_TRANSACTION) {
          const part = ready.slice(from, from + MAILS_PER_TRANSACTION);
          await writeInOneTransaction(part.map((h) => h.row), part.map((h) => ({ status: 'fulfilled', value: h.mail }) as const), deps, outcomes, alone, again, liveFirst && batchTurns(liveFirst));
        }
      };
      await (deps.memoryBudget ? deps.memoryBudget.run(bytes, run) : run());
      // In the order the mails arrived.
      waiting = [...waiting, ...again].sort((a, b) => rank.get(a.row.id)! - rank.get(b.row.id)!);
    }
    if (waiting.length === 0 || Date.now() + pause > deadline) break;
    if (pause === 20) deps.log.debug({ inboundIds: waiting.map((h) => h.row.id) }, 'replies wait for their parents in other batches');
    await new Promise((r) => setTimeout(r, pause));
  }
  waiting.forEach(handBack);
  // A try that ended waiting for a parent finished: it does not count towards conversion_died.
  // Taken back only now, so a worker that dies writing a held reply has its try counted.
  await uncountIngestAttempts(deps.db, handedBack);
  return { outcomes, alone: [...alone, ...handedBack] };
}

async function ingestClaimed(claimed: ClaimedInbound[], deps: IngestDeps, liveFirst?: Pick<LiveFirst, 'turn'>): Promise<BatchOutcome & { held: HeldReply[] }> {
  const sources = await getInboundSources(deps.db, claimed);
  // A catch-up's batches parse one after another, the one that read its sources first first, so
  // one batch's writes overlap the next ones' parsing instead of all of them parsing, then
  // writing, together (docs/ARCHITECTURE.md "Ingest, one mail at a time").
  if (liveFirst && deps.parsePool) deps = { ...deps, parseOrder: deps.parsePool.nextOrder() };
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
  const held: HeldReply[] = [];
  for (let from = 0; from < claimed.length; from += MAILS_PER_TRANSACTION) {
    await writeInOneTransaction(claimed.slice(from, from + MAILS_PER_TRANSACTION), prepared.slice(from, from + MAILS_PER_TRANSACTION), deps, outcomes, alone, held, liveFirst && batchTurns(liveFirst));
  }
  return { outcomes, alone, held };
}

/**
 * `prepare` of every row, `atOnce` at a time, each started after its `turn` (Promise.allSettled's
 * results, in the rows' order). Started all at once, a batch's parses would hold every parse
 * thread, and their results the main thread, for as long as the batch takes to read.
 */
async function prepareInTurn<R, T>(rows: R[], prepare: (row: R) => Promise<T>, atOnce: number, turn: () => Promise<void>): Promise<PromiseSettledResult<T>[]> {
  const results: PromiseSettledResult<T>[] = new Array(rows.length);
  await inLanes(
    rows.length,
    atOnce,
    async (i) => {
      try {
        results[i] = { status: 'fulfilled', value: await prepare(rows[i]!) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    },
    turn,
  );
  return results;
}

/**
 * Mails written in one transaction at most. A batch whose first try failed is written again
 * with a savepoint a mail ({@link writeInOneTransaction}): each savepoint that writes is a
 * subtransaction with an id of its own, and Postgres keeps 64 of them per transaction where
 * other sessions look (PGPROC_MAX_CACHED_SUBXIDS); past that, every snapshot taken anywhere must
 * read pg_subtrans.
 */
export const MAILS_PER_TRANSACTION = 50;

/** What one try of a batch's transaction gave, handed to the caller only once it committed. */
interface WrittenMails {
  outcomes: BatchOutcome['outcomes'];
  alone: string[];
  held: HeldReply[];
}

/** The first try of a batch's transaction (without savepoints) stopped at a mail whose write threw: the transaction is rolled back. */
class MailWriteFailed extends Error {
  constructor(
    readonly inboundId: string,
    readonly failure: unknown,
  ) {
    super(`the write of inbound ${inboundId} failed`);
    this.name = 'MailWriteFailed';
  }
}

/**
 * The mails of a batch decided and written in one transaction, in the order they arrived
 * (docs/ARCHITECTURE.md "Ingest, one mail at a time"). First without a savepoint a mail, since
 * a mail's write rarely fails: should one throw (other than a reply finding its parent still
 * being ingested, which decide says before the mail writes anything), the whole transaction is
 * rolled back and the batch written again with a savepoint a mail, so the failing mail is
 * rolled back alone and handed back, and the others commit. Nothing of the first try outlives
 * its rollback: outcomes, held replies and mails handed back are kept aside until the commit,
 * and the created events, notifications and counts a transaction keeps go with it.
 */
async function writeInOneTransaction(
  claimed: ClaimedInbound[],
  prepared: PromiseSettledResult<PreparedMail | UnreadMail>[],
  deps: IngestDeps,
  outcomes: BatchOutcome['outcomes'],
  alone: string[],
  heldReplies: HeldReply[],
  turn?: () => Promise<void>,
): Promise<void> {
  for (const [i, p] of prepared.entries()) {
    if (p.status === 'rejected') deps.log.warn({ err: p.reason, inboundId: claimed[i]!.id }, 'ingest of a mail of a batch failed before its transaction; it is tried again alone');
  }
  let written: WrittenMails;
  try {
    written = await deps.db.transaction((tx) => writeMails(tx, claimed, prepared, deps, false, turn));
  } catch (err) {
    if (!(err instanceof MailWriteFailed)) throw err;
    deps.log.info({ err: err.failure, inboundId: err.inboundId }, "a mail's write failed: its batch is written again, each mail in a savepoint of its own");
    written = await deps.db.transaction((tx) => writeMails(tx, claimed, prepared, deps, true, turn));
  }
  outcomes.push(...written.outcomes);
  alone.push(...written.alone);
  heldReplies.push(...written.held);
}

/**
 * One try of {@link writeInOneTransaction} in `tx`: with `isolate`, each mail in a savepoint of
 * its own, a mail that fails rolled back to it; without, a mail that fails ends the try
 * ({@link MailWriteFailed}), except a reply whose parent is still being ingested: decide finds
 * that before the mail writes anything, so it is held or handed back as with a savepoint.
 */
async function writeMails(
  tx: Tx,
  claimed: ClaimedInbound[],
  prepared: PromiseSettledResult<PreparedMail | UnreadMail>[],
  deps: IngestDeps,
  isolate: boolean,
  turn?: () => Promise<void>,
): Promise<WrittenMails> {
  const out: WrittenMails = { outcomes: [], alone: [], held: [] };
  const waiting: string[] = [];
  const savepoint = isolate ? mailSavepoints(tx) : undefined;
  // The mails' post.created and comment.created events, and their notifications, are written together at the end.
  const events = deferCreatedEvents(tx);
  const notifications = deferNotifications(tx);
  const waitsForParent = await repliesWaitingForParents(tx, claimed, prepared);
  for (const [i, row] of claimed.entries()) {
    // A live mail's statements go first (the turn ends at the latest after LiveFirst.maxWaitMs).
    if (turn) await turn();
    const p = prepared[i]!;
    if (p.status === 'rejected') {
      out.alone.push(row.id);
      continue;
    }
    const mail = p.value;
    if (waitsForParent.has(i) && mail.ok) {
      // Known before its turn: held or handed back as the ParentPendingError below would.
      if (row.size <= HELD_REPLY_MAX_BYTES) out.held.push({ row, mail });
      else {
        waiting.push(row.id);
        out.alone.push(row.id);
      }
      continue;
    }
    await savepoint?.begin();
    const held = { events: events.mark(), notifications: notifications.mark() };
    try {
      const outcome = await (mail.ok ? writeMail(tx, mail, deps) : finishUnread(tx, row.id, mail));
      out.outcomes.push({ inboundId: row.id, outcome: mail.ok ? { ...outcome, deliveredAt: mail.deliveredAt, trimmedRatio: mail.trimmedRatio } : outcome });
    } catch (err) {
      // Without a savepoint only a reply's wait for its parent, thrown by decide before the
      // mail wrote anything (writeMail), leaves the transaction as it was before the mail.
      if (!savepoint && !(err instanceof ParentPendingError)) throw new MailWriteFailed(row.id, err);
      // Rolled back to the mail's savepoint: the mails before it stay written.
      await savepoint?.rollback();
      events.restore(held.events);
      notifications.restore(held.notifications);
      // A reply whose parent is being ingested is held: written after the commit once the
      // parent has committed, else handed back then (writeHeldReplies).
      if (err instanceof ParentPendingError && err.parentStored && mail.ok && row.size <= HELD_REPLY_MAX_BYTES) {
        out.held.push({ row, mail });
        continue;
      }
      if (err instanceof ParentPendingError) waiting.push(row.id);
      else deps.log.warn({ err, inboundId: row.id }, 'ingest of a mail of a batch failed; it is tried again alone');
      out.alone.push(row.id);
    }
  }
  await events.flush();
  await notifications.flush();
  // A try that ended waiting for a parent finished: it does not count towards conversion_died.
  await uncountIngestAttempts(tx, waiting);
  return out;
}

/**
 * The mails of a transaction of several that are replies whose parent is still being ingested
 * when their turn comes (by index): a parent stored in another row not ingested yet (one
 * statement, {@link pendingParents}), or a mail later in this transaction, or one whose stages
 * failed before it. Each would take its savepoint, lock its row and read its thread only to
 * roll back (`ParentPendingError` in decide), so they are held at once. A parent that commits
 * meanwhile costs nothing: a held reply is asked again after the commit. A reply this misses is
 * still caught by decide's own check.
 */
async function repliesWaitingForParents(tx: Tx, claimed: ClaimedInbound[], prepared: PromiseSettledResult<PreparedMail | UnreadMail>[]): Promise<Set<number>> {
  const out = new Set<number>();
  if (claimed.length < 2) return out;
  const parentsAt = prepared.map((p) => (p.status === 'fulfilled' && p.value.ok && p.value.classified.classification.kind === 'reply' ? p.value.classified.classification.parentIds : []));
  // A row of this transaction is `received` until its turn; one whose stages failed, to the end.
  const firstAt = new Map<string, number>();
  const lastReceivedAt = new Map<string, number>();
  for (const [j, row] of claimed.entries()) {
    const p = prepared[j]!;
    // Decide's check reads the Message-ID stored with the row (none when the mail came without an envelope's).
    if (row.messageId) lastReceivedAt.set(row.messageId, Math.max(lastReceivedAt.get(row.messageId) ?? -1, p.status === 'rejected' ? Infinity : j));
    for (const m of [row.messageId, p.status === 'fulfilled' && p.value.ok ? p.value.parsed.mail.messageId : null]) {
      if (m && !firstAt.has(m)) firstAt.set(m, j);
    }
  }
  // Asked outside only for parents that are not mails written earlier in this transaction (a
  // batch of new threads and their replies asks nothing).
  const wanted = [...new Set(parentsAt.flatMap((parents, i) => parents.filter((m) => (firstAt.get(m) ?? Infinity) >= i)))];
  const outside = wanted.length > 0 ? await pendingParents(tx, wanted, claimed.map((r) => r.id)) : new Map<string, unknown>();
  for (const [i, parents] of parentsAt.entries()) {
    if (parents.some((m) => outside.has(m) || (lastReceivedAt.get(m) ?? -1) > i)) out.add(i);
  }
  return out;
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
