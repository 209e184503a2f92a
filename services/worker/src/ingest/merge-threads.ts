import { planAdoption, planThreadMerge, type AdoptionPlan } from '@blend/core';
import { adoptionCandidates, earlyReplyPosts, findThreadPosts, mergeCandidates, movePostIntoThread, type Tx } from '@blend/db';
import type { IngestDeps } from './deps';

/**
 * A published reply whose References lead to more than one post proves those threads are one
 * conversation: the later posts become comments of the earliest, in the transaction that
 * writes the reply (docs/ARCHITECTURE.md "Threads and merges", docs/SECURITY.md B25).
 *
 * Runs only for a reply that is being published as a comment (authenticated, opted-in sender),
 * so a re-delivered mail, which ends as a duplicate before this, never merges twice.
 * @returns the post the reply belongs to now: `targetPostId`, or the earlier post it joined.
 */
export async function mergeLinkedThreads(
  tx: Tx,
  deps: Pick<IngestDeps, 'log' | 'metrics' | 'publicUrl'>,
  m: { targetPostId: string; referencedPostIds: string[]; senderId: string; inboundId: string; now: Date },
): Promise<string> {
  const linked = m.referencedPostIds.filter((id) => id !== m.targetPostId);
  if (linked.length === 0) return m.targetPostId;
  const facts = await mergeCandidates(tx, [m.targetPostId, ...linked], m.senderId);
  const target = facts.find((p) => p.id === m.targetPostId);
  if (!target) return m.targetPostId;
  const plan = planThreadMerge(target, facts.filter((p) => p.id !== m.targetPostId));
  const log = deps.log.child({ inboundId: m.inboundId });
  for (const r of plan.refused) {
    deps.metrics?.threadMerges.inc({ outcome: r.reason });
    log.info({ postId: r.id, threadPostId: m.targetPostId, reason: r.reason }, 'linked thread not merged');
  }
  if (plan.merged.length === 0) return plan.survivor;

  for (const postId of plan.merged) {
    const commentId = await movePostIntoThread(tx, postId, plan.survivor, { kind: 'merged', inboundId: m.inboundId, events: { publicUrl: deps.publicUrl, at: m.now } });
    if (!commentId) continue;
    deps.metrics?.threadMerges.inc({ outcome: 'merged' });
    log.info({ postId, survivingPostId: plan.survivor, commentId }, 'thread merged into an earlier one');
  }
  return plan.survivor;
}

/**
 * A mail just written as a post or comment whose own Message-ID earlier replies named: the
 * posts those replies started, because they came first, become comments of its thread
 * `postId` (docs/ARCHITECTURE.md "Threads and merges"; core `planAdoption` decides).
 * Call it after the mail's Message-IDs are recorded: a reply committing at the same moment is
 * then seen (the record waits for it).
 */
export async function adoptEarlyReplies(
  tx: Tx,
  deps: Pick<IngestDeps, 'log' | 'metrics' | 'publicUrl'>,
  m: { postId: string; messageId: string; inboundId: string; now: Date },
): Promise<void> {
  const early = await earlyReplyPosts(tx, m.postId, m.messageId);
  if (early.length === 0) return;
  const [parent, ...candidates] = await adoptionCandidates(tx, [m.postId, ...early]);
  if (!parent || parent.id !== m.postId) return;
  await adopt(tx, deps, parent.id, planAdoption(parent, candidates), m);
}

/**
 * The other order of the same moment: a reply that found no thread and was written as the
 * post `postId`, while its parent (or an earlier message it names) committed in between.
 * Once its Message-IDs are recorded it sees that thread; its post joins it as an early reply
 * would (core `planAdoption`).
 * @returns the thread and comment the reply became, or undefined when it stays a post.
 */
export async function joinLateParent(
  tx: Tx,
  deps: Pick<IngestDeps, 'log' | 'metrics' | 'publicUrl'>,
  m: { postId: string; parentIds: string[]; inboundId: string; now: Date },
): Promise<{ postId: string; commentId: string } | undefined> {
  const [threadPostId] = (await findThreadPosts(tx, m.parentIds)).filter((id) => id !== m.postId);
  if (!threadPostId) return undefined;
  const [parent, own] = await adoptionCandidates(tx, [threadPostId, m.postId]);
  if (!parent || own?.id !== m.postId) return undefined;
  const commentId = await adopt(tx, deps, parent.id, planAdoption(parent, [own]), m);
  return commentId ? { postId: parent.id, commentId } : undefined;
}

/** Move the adopted posts into `parentPostId`, log and count; returns the last comment made. */
async function adopt(
  tx: Tx,
  deps: Pick<IngestDeps, 'log' | 'metrics' | 'publicUrl'>,
  parentPostId: string,
  plan: AdoptionPlan,
  m: { inboundId: string; now: Date },
): Promise<string | undefined> {
  const log = deps.log.child({ inboundId: m.inboundId });
  for (const r of plan.refused) {
    deps.metrics?.threadMerges.inc({ outcome: r.reason });
    log.info({ postId: r.id, threadPostId: parentPostId, reason: r.reason }, 'early reply not adopted');
  }
  let last: string | undefined;
  for (const postId of plan.adopted) {
    const commentId = await movePostIntoThread(tx, postId, parentPostId, { kind: 'adopted', inboundId: m.inboundId, events: { publicUrl: deps.publicUrl, at: m.now } });
    if (!commentId) continue;
    last = commentId;
    deps.metrics?.threadMerges.inc({ outcome: 'adopted' });
    log.info({ postId, threadPostId: parentPostId, commentId }, 'early reply adopted by its parent');
  }
  return last;
}
