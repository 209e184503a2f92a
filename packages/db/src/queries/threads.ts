import { and, desc, eq, gte, inArray, isNull, sql } from 'drizzle-orm';
import type { Tx } from '../client';
import { comments, messageRefs, posts } from '../schema';

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

/** The live post of an Outlook conversation, by the root of its `Thread-Index`. */
export async function findPostByThreadIndex(tx: Tx, root: string): Promise<string | undefined> {
  const rows = await tx
    .select({ id: posts.id })
    .from(posts)
    .where(and(eq(posts.threadIndex, root), isNull(posts.deletedAt)))
    .orderBy(desc(posts.createdAt))
    .limit(1);
  return rows[0]?.id;
}

/**
 * The fallback for clients that drop In-Reply-To and References: the newest live post since
 * `since` with the same normalised subject, tied to the new mail by someone who wrote: its
 * `sender` is a participant of the thread's mail conversation, or the author of the post or
 * of a comment is among its `people` (From, To, Cc). Both mails merely being addressed to
 * the same address, such as a mailing list's, is not enough (see `subjectFallbackPeople`).
 */
export async function findPostBySubject(
  tx: Tx,
  subjectKey: string,
  who: { sender: string | null; people: string[] },
  since: Date,
): Promise<string | undefined> {
  const emails = who.people.slice(0, 100).map((e) => sql`${e.toLowerCase()}`);
  if (!subjectKey || (who.sender === null && emails.length === 0)) return undefined;
  const senderTookPart = who.sender
    ? sql`exists (select 1 from thread_participants tp join people p on p.id = tp.person_id
                  where tp.post_id = ${posts.id} and p.email = ${who.sender.toLowerCase()})`
    : sql`false`;
  const authorOnMail =
    emails.length > 0
      ? sql`exists (select 1 from people p where p.email in (${sql.join(emails, sql`, `)})
                    and (p.id = ${posts.authorId}
                         or exists (select 1 from comments c where c.post_id = ${posts.id} and c.author_id = p.id and c.deleted_at is null)))`
      : sql`false`;
  const rows = await tx
    .select({ id: posts.id })
    .from(posts)
    .where(
      and(
        eq(posts.subjectKey, subjectKey),
        gte(posts.createdAt, since),
        isNull(posts.deletedAt),
        eq(posts.source, 'email'),
        sql`(${senderTookPart} or ${authorOnMail})`,
      ),
    )
    .orderBy(desc(posts.createdAt))
    .limit(1);
  return rows[0]?.id;
}

/**
 * Replies that arrived before their parent became posts of their own (nothing told Blend
 * they belonged to a thread yet); they named the parent's Message-ID in their References,
 * so `message_refs` maps that id to them. When the parent arrives and becomes `parentPostId`,
 * each such early reply turns into a comment on it, keeping its author, text and time, and
 * everything attached to it (comments, likes, references, tokens, participants, files,
 * opt-outs, mutes, tags) moves along.
 * @returns the comment ids the early replies became.
 */
export async function adoptEarlyReplies(tx: Tx, parentPostId: string, parentMessageId: string): Promise<string[]> {
  const early = await tx.execute<{ post_id: string }>(sql`
    select distinct r.post_id from message_refs r
    join posts p on p.id = r.post_id
    where r.message_id = ${parentMessageId} and r.post_id <> ${parentPostId}::uuid
      and p.source = 'email' and p.deleted_at is null and p.inbound_id is not null
      and r.inbound_id = p.inbound_id`);
  const adopted: string[] = [];
  for (const { post_id: orphan } of early.rows) {
    const [o] = await tx.select().from(posts).where(eq(posts.id, orphan)).limit(1);
    if (!o) continue;
    // The dedupe key goes with the text: from the post to the comment it becomes.
    await tx.update(posts).set({ dedupeKey: null }).where(eq(posts.id, orphan));
    const [c] = await tx
      .insert(comments)
      .values({ postId: parentPostId, authorId: o.authorId, bodyText: o.bodyText, bodyHtml: o.bodyHtml, trimmedText: o.trimmedText, source: 'email', dedupeKey: o.dedupeKey, inboundId: o.inboundId, createdAt: o.createdAt })
      .returning({ id: comments.id });
    const commentId = c!.id;
    const from = sql`${orphan}::uuid`;
    const to = sql`${parentPostId}::uuid`;
    await tx.execute(sql`update comments set post_id = ${to} where post_id = ${from}`);
    await tx.execute(sql`update mentions set post_id = ${to}, post_created_at = (select created_at from posts where id = ${to}), comment_id = coalesce(comment_id, ${commentId}::uuid) where post_id = ${from}`);
    await tx.execute(sql`insert into reactions (post_id, person_id, kind, created_at) select ${to}, person_id, kind, created_at from reactions where post_id = ${from} on conflict do nothing`);
    await tx.execute(sql`insert into thread_participants (post_id, person_id) select ${to}, person_id from thread_participants where post_id = ${from} on conflict do nothing`);
    await tx.execute(sql`insert into follows (person_id, post_id) select person_id, ${to} from follows where post_id = ${from} on conflict do nothing`);
    await tx.execute(sql`update message_refs set post_id = ${to}, comment_id = coalesce(comment_id, ${commentId}::uuid) where post_id = ${from}`);
    await tx.execute(sql`update reply_tokens set post_id = ${to} where post_id = ${from}`);
    // The early post's files belong to the text that is now a comment; a refusal to be mirrored
    // (thread_opt_outs has no foreign key) and a muted thread must hold for the joined thread
    // too, or the person's choice would be lost; its tags and Outlook thread index go along.
    await tx.execute(sql`update attachments set post_id = ${to}, comment_id = coalesce(comment_id, ${commentId}::uuid) where post_id = ${from}`);
    await tx.execute(sql`insert into thread_opt_outs (post_id, address, created_at) select ${to}, address, created_at from thread_opt_outs where post_id = ${from} on conflict do nothing`);
    await tx.execute(sql`delete from thread_opt_outs where post_id = ${from}`);
    await tx.execute(sql`insert into thread_mutes (post_id, person_id, created_at) select ${to}, person_id, created_at from thread_mutes where post_id = ${from} on conflict do nothing`);
    await tx.execute(sql`insert into post_tags (post_id, tag, post_created_at) select ${to}, tag, (select created_at from posts where id = ${to}) from post_tags where post_id = ${from} on conflict do nothing`);
    await tx.execute(sql`update posts set thread_index = (select thread_index from posts where id = ${from}) where id = ${to} and thread_index is null`);
    await tx.execute(sql`update notifications set post_id = ${to} where post_id = ${from}`);
    await tx.execute(sql`update outbound_messages set post_id = ${to} where post_id = ${from}`);
    await tx.execute(sql`update inbound_messages set state = case when id = (select inbound_id from comments where id = ${commentId}::uuid) then 'commented' else state end,
                          comment_id = case when id = (select inbound_id from comments where id = ${commentId}::uuid) then ${commentId}::uuid else comment_id end,
                          post_id = ${to} where post_id = ${from}`);
    await tx.execute(sql`delete from posts where id = ${from}`);
    adopted.push(commentId);
  }
  return adopted;
}
