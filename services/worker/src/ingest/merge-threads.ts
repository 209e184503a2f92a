import { planThreadMerge } from '@blend/core';
import { mergeCandidates, movePostIntoThread, type Tx } from '@blend/db';
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
