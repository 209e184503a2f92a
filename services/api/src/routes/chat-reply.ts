import { judgeChatAuthor, PermanentError, type ChatWithheldReason } from '@blend/core';
import { claimChatEvent, findPostMerge, getPostRow, setChatEventComment, type Database, type Person } from '@blend/db';
import { createComment, type ActionDeps } from '../use-cases/esn-actions';

/**
 * A reply written in a chat tool becoming a comment: the same path as a comment written on the
 * ESN side (`createComment`), so it is mirrored to the mail conversation, notified and announced
 * like one, under the same opt-in rule (docs/ARCHITECTURE.md invariant 5, "Chat tools").
 */

export type ChatReplyOutcome =
  | { status: 'commented'; commentId: string; postId: string }
  | { status: 'withheld'; reason: ChatWithheldReason }
  | { status: 'duplicate' };

export interface ChatReply {
  /** `slack`, `mattermost`, `rocketchat` or `generic`. */
  tool: string;
  /** The delivery's id in that tool: a retry carries the same one. */
  eventKey: string;
  /** The author as the tool named them, kept for IT. */
  authorRef: string;
  /** The linked (or, on the generic endpoint, named) person; undefined when nobody is. */
  person: Person | undefined;
  postId: string;
  text: string;
}

/** The live thread a post id stands for: a post merged into another thread answers for the survivor. */
export async function threadOf(db: Database, postId: string): Promise<string> {
  const merged = await findPostMerge(db, postId);
  const id = merged?.survivingPostId ?? postId;
  const post = await getPostRow(db, id);
  if (!post || post.deletedAt) throw new PermanentError('NOT_FOUND', 'unknown thread: no live Blend thread has that reference');
  return id;
}

/**
 * Publish a chat reply once. The delivery is claimed by its event id in the transaction that
 * writes the comment, so a retried or concurrent copy finds the claim and changes nothing, and
 * a comment that fails (thread gone, group archived, empty text) leaves no claim behind.
 * A reply whose author is unknown or not opted in is recorded as withheld, without its text.
 * @throws PermanentError from the comment path (NOT_FOUND, FORBIDDEN, VALIDATION).
 */
export async function publishChatReply(deps: ActionDeps, r: ChatReply): Promise<ChatReplyOutcome> {
  const postId = await threadOf(deps.db, r.postId);
  const claim = { tool: r.tool, eventKey: r.eventKey, authorRef: r.authorRef, personId: r.person?.id ?? null, postId };
  const verdict = judgeChatAuthor(r.person);
  if (!verdict.publish) {
    const row = await claimChatEvent(deps.db, { ...claim, state: 'withheld', reason: verdict.reason });
    return row ? { status: 'withheld', reason: verdict.reason } : { status: 'duplicate' };
  }
  const person = r.person!;
  return deps.db.transaction(async (tx) => {
    const row = await claimChatEvent(tx, { ...claim, state: 'commented', reason: null });
    if (!row) return { status: 'duplicate' } as const;
    // The ESN comment path inside this transaction (its own transaction becomes a savepoint).
    const commentId = await createComment({ ...deps, db: tx as unknown as Database }, person, postId, r.text, r.tool);
    await setChatEventComment(tx, row.id, commentId);
    return { status: 'commented', commentId, postId } as const;
  });
}

/** A comment-path refusal as a reason a chat tool can be told without an error status. */
export function refusalReason(err: unknown): string | undefined {
  if (!(err instanceof PermanentError)) return undefined;
  switch (err.code) {
    case 'NOT_FOUND':
      return 'unknown_thread';
    case 'FORBIDDEN':
      return 'not_allowed';
    case 'VALIDATION':
      return 'empty';
    default:
      return undefined;
  }
}
