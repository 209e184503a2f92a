import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Tx } from '../client';
import type { ReactionKind } from '@blend/core';
import { comments, mentions, people, posts, postTags, reactions } from '../schema';
import type { CommentRow, PostRow } from './posts';

/** A status post written through the ESN (API or web). */
export interface NewEsnPost {
  groupId: string;
  authorId: string;
  title: string;
  bodyText: string;
  bodyHtml: string;
  /** Lower-case tags without `#`. */
  tags: string[];
  /** Addresses written as `@alice@example.com`; unknown ones are ignored. */
  mentionedEmails: string[];
}

/** The post's created_at, which post_tags and mentions copy for the feed's filters (it never changes). */
const createdAtOf = (postId: string) => sql`(select ${posts.createdAt} from ${posts} where ${posts.id} = ${postId}::uuid)`;

/** Set a post's tags (lower-case, without `#`). */
export async function replaceTags(tx: Tx, postId: string, tags: string[]): Promise<void> {
  await tx.delete(postTags).where(eq(postTags.postId, postId));
  if (tags.length > 0) await tx.insert(postTags).values(tags.map((tag) => ({ postId, tag, postCreatedAt: createdAtOf(postId) }))).onConflictDoNothing();
}

/** The tags of a post written just now, which has none yet ({@link replaceTags} without its delete). */
export async function insertTags(tx: Tx, postId: string, tags: string[]): Promise<void> {
  if (tags.length > 0) await tx.insert(postTags).values(tags.map((tag) => ({ postId, tag, postCreatedAt: createdAtOf(postId) }))).onConflictDoNothing();
}

/** Record mentions of known people; returns their ids. */
export async function recordMentions(tx: Tx, postId: string, commentId: string | null, emails: string[]): Promise<string[]> {
  if (emails.length === 0) return [];
  const found = await tx
    .select({ id: people.id })
    .from(people)
    .where(inArray(people.email, emails.map((e) => e.toLowerCase())));
  if (found.length === 0) return [];
  await tx
    .insert(mentions)
    .values(found.map((p) => ({ postId, commentId, personId: p.id, postCreatedAt: createdAtOf(postId) })))
    .onConflictDoNothing();
  return found.map((p) => p.id);
}

export async function insertEsnPost(tx: Tx, p: NewEsnPost): Promise<PostRow> {
  const [row] = await tx
    .insert(posts)
    .values({ groupId: p.groupId, authorId: p.authorId, title: p.title, bodyText: p.bodyText, bodyHtml: p.bodyHtml, source: 'esn' })
    .returning();
  await replaceTags(tx, row!.id, p.tags);
  await recordMentions(tx, row!.id, null, p.mentionedEmails);
  return row!;
}

export async function insertEsnComment(
  tx: Tx,
  c: { postId: string; authorId: string; bodyText: string; bodyHtml: string; mentionedEmails: string[] },
): Promise<CommentRow> {
  const [row] = await tx
    .insert(comments)
    .values({ postId: c.postId, authorId: c.authorId, bodyText: c.bodyText, bodyHtml: c.bodyHtml, source: 'esn' })
    .returning();
  await recordMentions(tx, c.postId, row!.id, c.mentionedEmails);
  return row!;
}

/**
 * Replace a post's text (and title, when given) and its tags; sets `edited_at`.
 * @returns the updated row, or undefined when it is retracted or gone.
 */
export async function editEsnPost(
  tx: Tx,
  id: string,
  e: { title?: string; bodyText: string; bodyHtml: string; tags: string[]; mentionedEmails: string[] },
): Promise<PostRow | undefined> {
  const [row] = await tx
    .update(posts)
    .set({ bodyText: e.bodyText, bodyHtml: e.bodyHtml, editedAt: new Date(), ...(e.title !== undefined ? { title: e.title } : {}) })
    .where(and(eq(posts.id, id), isNull(posts.deletedAt)))
    .returning();
  if (!row) return undefined;
  await replaceTags(tx, id, e.tags);
  await recordMentions(tx, id, null, e.mentionedEmails);
  return row;
}

/** Replace a comment's text; sets `edited_at`. Undefined when it is retracted or gone. */
export async function editEsnComment(
  tx: Tx,
  id: string,
  e: { bodyText: string; bodyHtml: string; mentionedEmails: string[] },
): Promise<CommentRow | undefined> {
  const [row] = await tx
    .update(comments)
    .set({ bodyText: e.bodyText, bodyHtml: e.bodyHtml, editedAt: new Date() })
    .where(and(eq(comments.id, id), isNull(comments.deletedAt)))
    .returning();
  if (row) await recordMentions(tx, row.postId, row.id, e.mentionedEmails);
  return row;
}

/** Like a post, or react with another `kind` of the allow-list. Idempotent: @returns true only when the reaction is new. */
export async function addLike(tx: Tx, postId: string, personId: string, kind: ReactionKind = 'like'): Promise<boolean> {
  const rows = await tx.insert(reactions).values({ postId, personId, kind }).onConflictDoNothing().returning({ postId: reactions.postId });
  return rows.length > 0;
}

/** Take a like (or a reaction of `kind`) back. Idempotent: @returns true only when there was one. */
export async function removeLike(tx: Tx, postId: string, personId: string, kind: ReactionKind = 'like'): Promise<boolean> {
  const rows = await tx
    .delete(reactions)
    .where(and(eq(reactions.postId, postId), eq(reactions.personId, personId), eq(reactions.kind, kind)))
    .returning({ postId: reactions.postId });
  return rows.length > 0;
}
