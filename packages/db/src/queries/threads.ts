import { inArray } from 'drizzle-orm';
import type { Tx } from '../client';
import { messageRefs } from '../schema';

/**
 * The post a reply belongs to: the first of `messageIds` (best candidate first) that is
 * already mapped to a post or comment.
 */
export async function findThreadPost(tx: Tx, messageIds: string[]): Promise<{ postId: string; matched: string } | undefined> {
  if (messageIds.length === 0) return undefined;
  const rows = await tx
    .select({ messageId: messageRefs.messageId, postId: messageRefs.postId })
    .from(messageRefs)
    .where(inArray(messageRefs.messageId, messageIds));
  const byId = new Map(rows.map((r) => [r.messageId, r.postId]));
  for (const id of messageIds) {
    const postId = byId.get(id);
    if (postId) return { postId, matched: id };
  }
  return undefined;
}

/** Map Message-IDs to a post (and comment); an id already mapped keeps its first owner. */
export async function recordMessageRefs(
  tx: Tx,
  refs: { messageId: string; postId: string; commentId?: string | null; inboundId?: string | null }[],
): Promise<void> {
  if (refs.length === 0) return;
  await tx.insert(messageRefs).values(refs).onConflictDoNothing({ target: messageRefs.messageId });
}
