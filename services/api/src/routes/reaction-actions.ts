import { PermanentError, type ReactionKind } from '@blend/core';
import { addLike, emitReactionEvent, getGroupById, removeLike, type Person } from '@blend/db';
import { assertCanWrite, loadLivePost, type ActionDeps } from './esn-actions';

/**
 * Give or take back one reaction of the allow-list (REACTION_KINDS). Idempotent; only a
 * change is an event. Mail, webhooks and the digest know likes only, so every reaction's
 * event is a like's (`reaction.created`, `reaction.deleted` with kind `like`).
 */
export async function setReaction(deps: ActionDeps, me: Person, postId: string, kind: ReactionKind, on: boolean): Promise<void> {
  assertCanWrite(me);
  const post = await loadLivePost(deps.db, postId, me.id);
  if ((await getGroupById(deps.db, post.groupId))?.archivedAt) throw new PermanentError('FORBIDDEN', 'this group is archived: it is read-only');
  await deps.db.transaction(async (tx) => {
    const changed = on ? await addLike(tx, post.id, me.id, kind) : await removeLike(tx, post.id, me.id, kind);
    if (changed) await emitReactionEvent(tx, on ? 'reaction.created' : 'reaction.deleted', post.id, me.id, 'esn', { publicUrl: deps.publicUrl });
  });
}
