import { eq } from 'drizzle-orm';
import type { Tx } from '../client';
import { postMerges } from '../schema';

export type PostMergeKind = 'adopted' | 'merged';

/**
 * Record that `mergedPostId` became the comment `commentId` of `survivingPostId`. Earlier
 * merges into the post that goes now are pointed at the survivor too, so a link to any post
 * ever merged reaches the live thread in one redirect.
 */
export async function recordPostMerge(
  tx: Tx,
  m: { mergedPostId: string; survivingPostId: string; commentId: string; kind: PostMergeKind; inboundId: string | null },
): Promise<void> {
  await tx.update(postMerges).set({ survivingPostId: m.survivingPostId }).where(eq(postMerges.survivingPostId, m.mergedPostId));
  await tx.insert(postMerges).values(m);
}

/** Where a post that was merged away lives now: the surviving post, and the comment it became. */
export async function findPostMerge(
  db: Tx,
  postId: string,
): Promise<{ survivingPostId: string; commentId: string | null; kind: string; mergedAt: Date } | undefined> {
  const [row] = await db
    .select({ survivingPostId: postMerges.survivingPostId, commentId: postMerges.commentId, kind: postMerges.kind, mergedAt: postMerges.mergedAt })
    .from(postMerges)
    .where(eq(postMerges.mergedPostId, postId))
    .limit(1);
  return row;
}
