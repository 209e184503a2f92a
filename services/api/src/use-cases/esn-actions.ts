import {
  cleanBody,
  cleanTitle,
  DEFAULT_CORRECTION_WINDOW_MS,
  DEFAULT_NOTIFY_COALESCE_MS,
  extractMentions,
  extractTags,
  isUuid,
  PermanentError,
  textToSafeHtml,
  titleFromBody,
} from '@blend/core';
import {
  addLike,
  editEsnComment,
  editEsnPost,
  canSeeGroup,
  emitCommentEvent,
  emitPostEvent,
  emitReactionEvent,
  findGroupFor,
  getGroupById,
  getCommentRow,
  getPostRow,
  insertEsnComment,
  insertEsnPost,
  recordCorrection,
  recordMentions,
  removeLike,
  tombstoneComment,
  type Database,
  type Person,
  type PostRow,
  type Tx,
} from '@blend/db';
import { recordActivity } from '@blend/outbound';
import { markdownToSafeHtml, type ReactionKind } from '@blend/core';
import { storeAttachments } from '@blend/db';
import type { Upload } from '../uploads';

/**
 * What people do on the ESN side, shared by the JSON API and the web pages. Each change
 * and its event (docs/ARCHITECTURE.md "Events") are written in one transaction.
 */

export interface ActionDeps {
  db: Database;
  /** BLEND_PUBLIC_URL, for links in webhook payloads. */
  publicUrl?: string;
  /** Windows of activity mail (BLEND_NOTIFY_COALESCE_MS, BLEND_CORRECTION_WINDOW_MS). */
  activity?: { coalesceMs?: number; correctionWindowMs?: number };
}

const coalesceMs = (deps: ActionDeps) => deps.activity?.coalesceMs ?? DEFAULT_NOTIFY_COALESCE_MS;
const correctionWindowMs = (deps: ActionDeps) => deps.activity?.correctionWindowMs ?? DEFAULT_CORRECTION_WINDOW_MS;

/**
 * A mirrored ESN comment was edited or retracted: the people who got it by mail get one
 * short correction in the same conversation (the sweep sends the comment as it is then).
 */
export async function correctMirroredComment(deps: ActionDeps, tx: Tx, comment: { id: string; postId: string }): Promise<void> {
  await recordCorrection(tx, comment.id, comment.postId, new Date(), correctionWindowMs(deps));
}


/** Only opted-in people publish: the same rule as for mail (docs/ARCHITECTURE.md invariant 5). */
export function assertCanWrite(me: Person): void {
  if (me.optIn !== 'opted_in') throw new PermanentError('FORBIDDEN', 'opt in first: only opted-in people can post, comment, like or follow');
}

/**
 * A post that is not retracted and that `viewerId` may see, or NOT_FOUND: a post in a private
 * group is answered to an outsider exactly as a post that does not exist (docs/SECURITY.md,
 * private groups).
 */
export async function loadLivePost(db: Tx, id: string, viewerId: string): Promise<PostRow> {
  const post = isUuid(id) ? await getPostRow(db, id) : undefined;
  if (!post || post.deletedAt || !(await canSeeGroup(db, post.groupId, viewerId))) throw new PermanentError('NOT_FOUND', 'no such post');
  return post;
}

/** An archived group is read-only: nothing new is posted, commented or liked in it. */
async function assertGroupOpen(db: Tx, groupId: string): Promise<void> {
  const g = await getGroupById(db, groupId);
  if (g?.archivedAt) throw new PermanentError('FORBIDDEN', 'this group is archived: it is read-only');
}

/**
 * How a body is written: plain text (the API's default), or Markdown from the web composer,
 * rendered through the mail sanitiser (docs/SECURITY.md B43). The text is kept as written:
 * mail shows it as it is.
 */
export type BodyFormat = 'text' | 'markdown';

function prepareBody(body: string, format: BodyFormat = 'text'): { bodyText: string; bodyHtml: string } {
  const bodyText = cleanBody(body);
  if (bodyText.trim() === '') throw new PermanentError('VALIDATION', 'body must not be empty');
  return { bodyText, bodyHtml: format === 'markdown' ? markdownToSafeHtml(bodyText) : textToSafeHtml(bodyText) };
}

/** Post a status into a group, with files checked by `readComposerForm`. @returns the new post's id. */
export async function createStatusPost(
  deps: ActionDeps,
  me: Person,
  input: { group: string; title?: string; body: string; format?: BodyFormat; files?: Upload[] },
): Promise<string> {
  assertCanWrite(me);
  const group = await findGroupFor(deps.db, input.group, me);
  if (!group) throw new PermanentError('NOT_FOUND', `no group ${input.group}`);
  // Admins may know a private group to manage it; only members write in it.
  if (!(await canSeeGroup(deps.db, group.id, me.id))) throw new PermanentError('FORBIDDEN', 'only members post in a private group');
  if (group.archivedAt) throw new PermanentError('FORBIDDEN', 'this group is archived: it is read-only');
  const { bodyText, bodyHtml } = prepareBody(input.body, input.format);
  const given = input.title === undefined ? '' : cleanTitle(input.title);
  const title = given || titleFromBody(bodyText);
  return deps.db.transaction(async (tx) => {
    const post = await insertEsnPost(tx, {
      groupId: group.id,
      authorId: me.id,
      title,
      bodyText,
      bodyHtml,
      tags: extractTags(`${title}\n${bodyText}`),
      mentionedEmails: [],
    });
    const mentioned = await recordMentions(tx, post.id, null, extractMentions(bodyText).emails);
    await recordActivity(tx, { kind: 'post', postId: post.id, commentId: null, authorId: me.id, source: 'esn', at: post.createdAt, mentionedIds: mentioned }, coalesceMs(deps));
    if (input.files?.length) await storeAttachments(tx, { postId: post.id, commentId: null }, input.files);
    await emitPostEvent(tx, 'post.created', post.id, { publicUrl: deps.publicUrl, at: post.createdAt });
    return post.id;
  });
}

/**
 * Comment on a thread. @returns the new comment's id.
 * @param via the chat tool the comment was written in, if any: its event carries it and is not echoed back there.
 */
export async function createComment(
  deps: ActionDeps,
  me: Person,
  postId: string,
  body: string,
  via?: string,
  more: { format?: BodyFormat; files?: Upload[] } = {},
): Promise<string> {
  assertCanWrite(me);
  const post = await loadLivePost(deps.db, postId, me.id);
  await assertGroupOpen(deps.db, post.groupId);
  const { bodyText, bodyHtml } = prepareBody(body, more.format);
  return deps.db.transaction(async (tx) => {
    const c = await insertEsnComment(tx, { postId: post.id, authorId: me.id, bodyText, bodyHtml, mentionedEmails: [] });
    const mentioned = await recordMentions(tx, post.id, c.id, extractMentions(bodyText).emails);
    // Mirrored into the thread's mail conversation and notified, in this transaction.
    await recordActivity(tx, { kind: 'comment', postId: post.id, commentId: c.id, authorId: me.id, source: 'esn', at: c.createdAt, mentionedIds: mentioned }, coalesceMs(deps));
    if (more.files?.length) await storeAttachments(tx, { postId: post.id, commentId: c.id }, more.files);
    await emitCommentEvent(tx, 'comment.created', c.id, { publicUrl: deps.publicUrl, at: c.createdAt, via });
    return c.id;
  });
}

/**
 * Give or take back one reaction of the allow-list (REACTION_KINDS); a like is kind `like`.
 * Idempotent; only a change is an event. Mail, webhooks and the digest know likes only, so every
 * reaction's event is a like's (`reaction.created`, `reaction.deleted` with kind `like`).
 */
export async function setReaction(deps: ActionDeps, me: Person, postId: string, kind: ReactionKind, on: boolean): Promise<void> {
  assertCanWrite(me);
  const post = await loadLivePost(deps.db, postId, me.id);
  await assertGroupOpen(deps.db, post.groupId);
  await deps.db.transaction(async (tx) => {
    const changed = on ? await addLike(tx, post.id, me.id, kind) : await removeLike(tx, post.id, me.id, kind);
    if (changed) await emitReactionEvent(tx, on ? 'reaction.created' : 'reaction.deleted', post.id, me.id, 'esn', { publicUrl: deps.publicUrl });
  });
}

/** The author changes a post's body (and title). Mail already sent is not rewritten. */
export async function editPost(deps: ActionDeps, me: Person, postId: string, input: { title?: string; body: string }): Promise<void> {
  assertCanWrite(me);
  const post = await loadLivePost(deps.db, postId, me.id);
  if (post.authorId !== me.id) throw new PermanentError('FORBIDDEN', 'only the author can edit a post');
  const { bodyText, bodyHtml } = prepareBody(input.body);
  const title = input.title === undefined ? undefined : cleanTitle(input.title) || titleFromBody(bodyText);
  await deps.db.transaction(async (tx) => {
    const row = await editEsnPost(tx, post.id, {
      ...(title !== undefined ? { title } : {}),
      bodyText,
      bodyHtml,
      tags: extractTags(`${title ?? post.title}\n${bodyText}`),
      mentionedEmails: extractMentions(bodyText).emails,
    });
    if (!row) throw new PermanentError('NOT_FOUND', 'no such post');
    await emitPostEvent(tx, 'post.updated', post.id, { publicUrl: deps.publicUrl });
  });
}

/** The author changes a comment's body. */
export async function editComment(deps: ActionDeps, me: Person, commentId: string, body: string, format: BodyFormat = 'text'): Promise<string> {
  assertCanWrite(me);
  const comment = isUuid(commentId) ? await getCommentRow(deps.db, commentId) : undefined;
  if (!comment || comment.deletedAt) throw new PermanentError('NOT_FOUND', 'no such comment');
  if (comment.authorId !== me.id) throw new PermanentError('FORBIDDEN', 'only the author can edit a comment');
  // A comment that came by mail stays plain text: its words were never written as Markdown.
  const { bodyText, bodyHtml } = prepareBody(body, comment.source === 'esn' ? format : 'text');
  return deps.db.transaction(async (tx) => {
    const row = await editEsnComment(tx, comment.id, { bodyText, bodyHtml, mentionedEmails: extractMentions(bodyText).emails });
    if (!row) throw new PermanentError('NOT_FOUND', 'no such comment');
    await correctMirroredComment(deps, tx, row);
    await emitCommentEvent(tx, 'comment.updated', row.id, { publicUrl: deps.publicUrl });
    return row.postId;
  });
}

/**
 * The author retracts a comment: a tombstone stays in the thread, and people who got it
 * mirrored by mail get a short correction. @returns the thread's id.
 */
export async function retractComment(deps: ActionDeps, me: Person, commentId: string): Promise<{ postId: string; commentId: string }> {
  const comment = isUuid(commentId) ? await getCommentRow(deps.db, commentId) : undefined;
  if (!comment || comment.deletedAt) throw new PermanentError('NOT_FOUND', 'no such comment');
  if (comment.authorId !== me.id) throw new PermanentError('FORBIDDEN', 'only the author can retract a comment');
  await deps.db.transaction(async (tx) => {
    await tombstoneComment(tx, comment.id);
    await correctMirroredComment(deps, tx, comment);
  });
  return { postId: comment.postId, commentId: comment.id };
}
