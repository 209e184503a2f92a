import { and, eq, isNull } from 'drizzle-orm';
import type { Tx } from '../client';
import { deleteAttachmentsOf } from './attachments';
import { emitCommentRemoved, emitPersonErased, emitPostRemoved } from './events';
import { apiTokens, auditLog, comments, inboundMessages, outboundMessages, people, posts, replyTokens, webSessions } from '../schema';

export interface ErasureCounts {
  posts: number;
  comments: number;
  inbound: number;
  outbound: number;
}

/**
 * Erase a person on request: their posts and comments become tombstones without content
 * (other people's comments in their threads stay), their raw inbound mail and the mails
 * sent to them lose their content, their tokens are deleted, and the person row keeps only
 * an anonymous placeholder address. An audit entry records who did it and the counts.
 */
export async function erasePerson(tx: Tx, personId: string, actor: string): Promise<ErasureCounts> {
  const person = await tx.query.people.findFirst({ where: eq(people.id, personId) });
  if (!person) throw new Error('no such person');
  const now = new Date();
  const livePosts = await tx.select({ id: posts.id }).from(posts).where(and(eq(posts.authorId, personId), isNull(posts.deletedAt)));
  const liveComments = await tx.select({ id: comments.id }).from(comments).where(and(eq(comments.authorId, personId), isNull(comments.deletedAt)));
  const p = await tx
    .update(posts)
    .set({ deletedAt: now, title: '', bodyText: '', bodyHtml: '', trimmedText: null, subjectKey: '' })
    .where(eq(posts.authorId, personId))
    .returning({ id: posts.id });
  const c = await tx
    .update(comments)
    .set({ deletedAt: now, bodyText: '', bodyHtml: '', trimmedText: null })
    .where(eq(comments.authorId, personId))
    .returning({ id: comments.id });
  const i = await tx
    .update(inboundMessages)
    .set({ raw: null, subject: null, fromAddress: null })
    .where(eq(inboundMessages.fromAddress, person.email))
    .returning({ id: inboundMessages.id });
  const o = await tx
    .update(outboundMessages)
    .set({ textBody: '', htmlBody: null, subject: '(erased)', toAddress: 'erased@invalid', state: 'cancelled' })
    .where(and(eq(outboundMessages.toAddress, person.email)))
    .returning({ id: outboundMessages.id });
  await deleteAttachmentsOf(tx, { postIds: p.map((r) => r.id), commentIds: c.map((r) => r.id) });
  // Whatever received their posts and comments by webhook hears they are gone (docs/SECURITY.md B35).
  for (const r of livePosts) await emitPostRemoved(tx, r.id, 'erased');
  for (const r of liveComments) await emitCommentRemoved(tx, r.id, 'erased');
  await tx.delete(replyTokens).where(eq(replyTokens.personId, personId));
  await tx.update(apiTokens).set({ revokedAt: now }).where(and(eq(apiTokens.personId, personId), isNull(apiTokens.revokedAt)));
  await tx.delete(webSessions).where(eq(webSessions.personId, personId));
  await tx
    .update(people)
    .set({ email: `erased-${personId}@invalid`, name: '', optIn: 'opted_out', optInChangedAt: now, isAdmin: false })
    .where(eq(people.id, personId));
  await emitPersonErased(tx, personId);
  const counts = { posts: p.length, comments: c.length, inbound: i.length, outbound: o.length };
  await tx.insert(auditLog).values({ action: 'erase_person', actor, subject: personId, detail: counts });
  return counts;
}
