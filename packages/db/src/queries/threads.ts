import { and, desc, eq, gte, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import type { AdoptionCandidate, MergeCandidate } from '@blend/core';
import type { Tx } from '../client';
import { comments, messageRefs, posts } from '../schema';
import { flushDeferredNotifications } from './activity';
import { emitPostMerged, flushDeferredEvents, type EventContext } from './events';
import { earlierCopyOf, earlierCopySql, findByDedupeKey, type EarlierCopy, type EarlierCopyRow } from './posts';
import { recordPostMerge, type PostMergeKind } from './post-merges';
import { preparedQuery, preparedSql } from './raw-statement';

/** The post each of `messageIds` is mapped to, for those that are mapped. */
async function postsByMessageId(tx: Tx, messageIds: string[]): Promise<Map<string, string>> {
  if (messageIds.length === 0) return new Map();
  const rows = await postsByMessageIdStatement(tx, { messageIds });
  return new Map(rows.map((r) => [r.messageId, r.postId]));
}

/** {@link postsByMessageId}'s statement for any number of ids (once per reply ingested): built once, named. */
const postsByMessageIdStatement = preparedQuery('blend_posts_by_message_id', (tx) =>
  tx
    .select({ messageId: messageRefs.messageId, postId: messageRefs.postId })
    .from(messageRefs)
    .where(sql`${messageRefs.messageId} = any(${sql.placeholder('messageIds')}::text[])`),
);

/**
 * The post a reply belongs to: the first of `messageIds` (best candidate first) that is
 * already mapped to a post or comment.
 */
export async function findThreadPost(tx: Tx, messageIds: string[]): Promise<{ postId: string; matched: string } | undefined> {
  const byId = await postsByMessageId(tx, messageIds);
  for (const id of messageIds) {
    const postId = byId.get(id);
    if (postId) return { postId, matched: id };
  }
  return undefined;
}

/**
 * Map Message-IDs to a post (and comment); an id already mapped keeps its first owner. An id
 * another ingest has just mapped and not committed makes this wait for it: that is what lets a
 * reply and its parent ingested at the same moment find each other afterwards
 * (docs/ARCHITECTURE.md "Threads and merges"). The ids go in sorted, so two such ingests
 * wait in one order and never deadlock.
 * @returns the ids mapped now; the others were mapped already, to this post or another.
 */
export async function recordMessageRefs(
  tx: Tx,
  refs: { messageId: string; postId: string; commentId?: string | null; inboundId?: string | null }[],
): Promise<Set<string>> {
  if (refs.length === 0) return new Set();
  const sorted = [...refs].sort((a, b) => (a.messageId < b.messageId ? -1 : a.messageId > b.messageId ? 1 : 0));
  // One named statement for any number of ids (once or twice per published mail); the rows go in in the order of the arrays.
  const { rows } = await recordRefsStatement(tx, {
    messageIds: sorted.map((r) => r.messageId),
    postIds: sorted.map((r) => r.postId),
    commentIds: sorted.map((r) => r.commentId ?? null),
    inboundIds: sorted.map((r) => r.inboundId ?? null),
  });
  return new Set(rows.map((r) => r.messageId));
}

const recordRefsStatement = preparedSql<{ messageId: string }>('blend_record_message_refs', () => {
  const p = sql.placeholder;
  return sql`
    insert into ${messageRefs} (message_id, post_id, comment_id, inbound_id)
    select m, p, c, i from unnest(${p('messageIds')}::text[], ${p('postIds')}::uuid[], ${p('commentIds')}::uuid[], ${p('inboundIds')}::uuid[]) with ordinality as r(m, p, c, i, n)
    order by n
    on conflict (message_id) do nothing
    returning message_id as "messageId"`;
});

/**
 * A mail's own Message-ID maps to what the mail became, even when a reply that came first
 * mapped it to the post the reply started (the reply names it as its parent). An id that is
 * another stored mail's own (a client that reuses Message-IDs) keeps its owner.
 */
export async function claimMessageRef(tx: Tx, ref: { messageId: string; postId: string; commentId: string | null; inboundId: string }): Promise<void> {
  await tx
    .update(messageRefs)
    .set({ postId: ref.postId, commentId: ref.commentId, inboundId: ref.inboundId })
    .where(
      and(
        eq(messageRefs.messageId, ref.messageId),
        sql`${messageRefs.inboundId} is distinct from ${ref.inboundId}::uuid`,
        sql`not exists (select 1 from inbound_messages i where i.id = ${messageRefs.inboundId} and i.message_id = ${ref.messageId})`,
      ),
    );
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
 * Every post that `messageIds` (best candidate first) lead to, each once, in the order of the
 * first id that leads to it: the thread a reply lands in, then the others it proves to be the
 * same conversation (docs/ARCHITECTURE.md "Threads and merges").
 */
export async function findThreadPosts(tx: Tx, messageIds: string[]): Promise<string[]> {
  const byId = await postsByMessageId(tx, messageIds);
  return [...new Set(messageIds.flatMap((id) => byId.get(id) ?? []))];
}

type ReplyThreadRow = { pending: boolean; refs: { m: string; p: string }[] };

/** A reply's thread facts ({@link earlierCopyAndReplyFacts}) from its statement's row. */
function replyThreadOf(r: ReplyThreadRow | undefined, parentIds: string[]): { parentPending: boolean; postIds: string[] } {
  if (!r || r.pending) return { parentPending: Boolean(r?.pending), postIds: [] };
  const byId = new Map(r.refs.map((x) => [x.m, x.p]));
  return { parentPending: false, postIds: [...new Set(parentIds.flatMap((id) => byId.get(id) ?? []))] };
}

function replyThreadColumns(): SQL {
  const ids = sql`${sql.placeholder('messageIds')}::text[]`;
  return sql`exists (select 1 from inbound_messages i where i.message_id = any(${ids}) and i.state = 'received' and i.id <> ${sql.placeholder('exceptId')}::uuid) as pending,
      coalesce((select json_agg(json_build_object('m', ${messageRefs.messageId}, 'p', ${messageRefs.postId})) from ${messageRefs} where ${messageRefs.messageId} = any(${ids})), '[]'::json) as refs`;
}

/**
 * A reply's earlier copy ({@link findByDedupeKey}) and its thread facts, in one statement. The
 * thread facts are what a reply's thread lookup by its parents' Message-IDs (`parentIds`, best
 * candidate first) needs: whether another stored mail carrying one of them (not
 * `exceptInboundId`) is not ingested yet (`parentPending`: the reply waits for it), and else
 * every post they lead to, as {@link findThreadPosts} gives them. A parent that committed is
 * seen both as ingested and with its Message-IDs mapped, never as one without the other
 * (docs/ARCHITECTURE.md "Threads and merges"). Both are read once the mail's dedupe key and row
 * are locked (docs/ARCHITECTURE.md "Ingest, one mail at a time"), in one snapshot. Without
 * `parentIds` only the copy is read.
 */
export async function earlierCopyAndReplyFacts(
  tx: Tx,
  dedupeKey: string,
  parentIds: string[],
  exceptInboundId: string,
): Promise<{ earlier: EarlierCopy | undefined; reply: { parentPending: boolean; postIds: string[] } }> {
  if (parentIds.length === 0) return { earlier: await findByDedupeKey(tx, dedupeKey), reply: { parentPending: false, postIds: [] } };
  const [r] = (await copyAndReplyStatement(tx, { dedupeKey, messageIds: parentIds, exceptId: exceptInboundId })).rows;
  return { earlier: earlierCopyOf(r?.copy), reply: replyThreadOf(r, parentIds) };
}

const copyAndReplyStatement = preparedSql<ReplyThreadRow & { copy: EarlierCopyRow | null }>(
  'blend_earlier_copy_reply_facts',
  () => sql`select (select row_to_json(c) from (${earlierCopySql(sql.placeholder('dedupeKey'))}) c) as copy, ${replyThreadColumns()}`,
);

/**
 * Of `messageIds`, those a stored mail other than `exceptInboundIds` carries that is not ingested
 * yet, each with whether an ingest has claimed that mail (its try is counted: a job is at it)
 * or not (it waits for a job). One statement, outside any transaction: a batch asks it of the
 * replies it held back for a parent in another batch (docs/ARCHITECTURE.md "Ingest, one mail at a time").
 */
export async function pendingParents(db: Tx, messageIds: string[], exceptInboundIds: string[]): Promise<Map<string, { claimed: boolean }>> {
  if (messageIds.length === 0) return new Map();
  const { rows } = await pendingParentsStatement(db, { messageIds, exceptIds: exceptInboundIds });
  return new Map(rows.map((r) => [r.m, { claimed: r.claimed }]));
}

const pendingParentsStatement = preparedSql<{ m: string; claimed: boolean }>('blend_pending_parents', () => sql`
  select i.message_id as m, bool_or(i.attempts > 0) as claimed from inbound_messages i
  where i.message_id = any(${sql.placeholder('messageIds')}::text[]) and i.state = 'received' and i.id <> all(${sql.placeholder('exceptIds')}::uuid[])
  group by i.message_id`);

/**
 * What the merge decision (`planThreadMerge` in @blend/core) needs to know of each post: its
 * group, time, whether it is a tombstone, and whether `personId` wrote in the thread or was on
 * one of its mails (its participants). Posts that do not exist are left out.
 */
export async function mergeCandidates(tx: Tx, postIds: string[], personId: string): Promise<MergeCandidate[]> {
  if (postIds.length === 0) return [];
  const rows = await tx
    .select({
      id: posts.id,
      createdAt: posts.createdAt,
      groupId: posts.groupId,
      deleted: sql<boolean>`${posts.deletedAt} is not null`,
      senderTookPart: sql<boolean>`(${posts.authorId} = ${personId}::uuid
        or exists (select 1 from thread_participants tp where tp.post_id = ${posts.id} and tp.person_id = ${personId}::uuid)
        or exists (select 1 from comments c where c.post_id = ${posts.id} and c.author_id = ${personId}::uuid))`,
    })
    .from(posts)
    .where(inArray(posts.id, postIds));
  const byId = new Map(rows.map((r) => [r.id, r]));
  return postIds.flatMap((id) => byId.get(id) ?? []);
}

/**
 * Whether Blend has any of `messageIds` already, other than as the mail `exceptInboundId`:
 * stored from the mailbox (in any state), or sent itself. A reply to such a mail that found no
 * thread has nothing to wait for (core `orphanReplyWait`).
 */
export async function anyMessageSeen(tx: Tx, messageIds: string[], exceptInboundId: string): Promise<boolean> {
  if (messageIds.length === 0) return false;
  const ids = sql.join(messageIds.map((id) => sql`${id}`), sql`, `);
  const rows = await tx.execute<{ seen: boolean }>(sql`
    select exists (select 1 from inbound_messages where message_id in (${ids}) and id <> ${exceptInboundId}::uuid)
        or exists (select 1 from outbound_messages where message_id in (${ids})) as seen`);
  return Boolean(rows.rows[0]?.seen);
}

/**
 * Posts started by replies that arrived before their parent (nothing told Blend they belonged
 * to a thread yet): the mail that started each named `parentMessageId` in its References, so
 * `message_refs` maps that id to it, recorded by that mail itself. The parent's post
 * `parentPostId` is left out. Whether they join it is core `planAdoption`'s decision.
 */
export async function earlyReplyPosts(tx: Tx, parentPostId: string, parentMessageId: string): Promise<string[]> {
  const rows = await tx.execute<{ post_id: string }>(sql`
    select distinct r.post_id from message_refs r
    join posts p on p.id = r.post_id
    where r.message_id = ${parentMessageId} and r.post_id <> ${parentPostId}::uuid
      and p.source = 'email' and p.inbound_id is not null and r.inbound_id = p.inbound_id`);
  return rows.rows.map((r) => r.post_id);
}

/** What the adoption decision (core `planAdoption`) needs of each post, in the order asked; missing posts are left out. */
export async function adoptionCandidates(tx: Tx, postIds: string[]): Promise<AdoptionCandidate[]> {
  if (postIds.length === 0) return [];
  const rows = await tx
    .select({ id: posts.id, createdAt: posts.createdAt, groupId: posts.groupId, deleted: sql<boolean>`${posts.deletedAt} is not null` })
    .from(posts)
    .where(inArray(posts.id, postIds));
  const byId = new Map(rows.map((r) => [r.id, r]));
  return postIds.flatMap((id) => byId.get(id) ?? []);
}

/**
 * The one way a post joins another thread: the post `fromPostId` becomes a comment of
 * `toPostId`, keeping its author, text, time and mail identity (dedupe key, inbound row,
 * Message-IDs), and everything attached to it moves along: its comments (which keep their
 * times, so the thread stays in date order), likes, references, reply tokens (a reply to an
 * old reply address lands in the survivor), participants, follows, files, opt-outs, mutes,
 * tags, mentions, Outlook thread index, notifications and outbox rows. The move is recorded
 * in `post_merges`, so links to the old post find the survivor, and is a `post.merged` event.
 * @returns the comment the post became, or undefined when there is no such post.
 */
export async function movePostIntoThread(
  tx: Tx,
  fromPostId: string,
  toPostId: string,
  cause: { kind: PostMergeKind; inboundId: string | null; events?: EventContext },
): Promise<string | undefined> {
  if (fromPostId === toPostId) return undefined;
  // Created events and notifications this transaction holds back are written first, with the
  // posts as they were made (the notifications then move along).
  await flushDeferredEvents(tx);
  await flushDeferredNotifications(tx);
  // Locked: a mail ingested at the same moment that moves the same post waits here, then finds
  // it gone (READ COMMITTED reads the committed delete) instead of moving it twice.
  const [o] = await tx.select().from(posts).where(eq(posts.id, fromPostId)).limit(1).for('update');
  if (!o) return undefined;
  // The dedupe key goes with the text: from the post to the comment it becomes.
  await tx.update(posts).set({ dedupeKey: null }).where(eq(posts.id, fromPostId));
  const [c] = await tx
    .insert(comments)
    .values({ postId: toPostId, authorId: o.authorId, bodyText: o.bodyText, bodyHtml: o.bodyHtml, trimmedText: o.trimmedText, source: o.source, dedupeKey: o.dedupeKey, inboundId: o.inboundId, createdAt: o.createdAt, editedAt: o.editedAt })
    .returning({ id: comments.id });
  const commentId = c!.id;
  const from = sql`${fromPostId}::uuid`;
  const to = sql`${toPostId}::uuid`;
  await tx.execute(sql`update comments set post_id = ${to} where post_id = ${from}`);
  await tx.execute(sql`update mentions set post_id = ${to}, post_created_at = (select created_at from posts where id = ${to}), comment_id = coalesce(comment_id, ${commentId}::uuid) where post_id = ${from}`);
  await tx.execute(sql`insert into reactions (post_id, person_id, kind, created_at) select ${to}, person_id, kind, created_at from reactions where post_id = ${from} on conflict do nothing`);
  await tx.execute(sql`insert into thread_participants (post_id, person_id) select ${to}, person_id from thread_participants where post_id = ${from} on conflict do nothing`);
  await tx.execute(sql`insert into follows (person_id, post_id) select person_id, ${to} from follows where post_id = ${from} on conflict do nothing`);
  await tx.execute(sql`update message_refs set post_id = ${to}, comment_id = coalesce(comment_id, ${commentId}::uuid) where post_id = ${from}`);
  await tx.execute(sql`update reply_tokens set post_id = ${to} where post_id = ${from}`);
  // The post's files belong to the text that is now a comment; a refusal to be mirrored
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
  await recordPostMerge(tx, { mergedPostId: fromPostId, survivingPostId: toPostId, commentId, kind: cause.kind, inboundId: cause.inboundId });
  await tx.execute(sql`delete from posts where id = ${from}`);
  await emitPostMerged(tx, { survivorId: toPostId, mergedId: fromPostId, mergedTitle: o.deletedAt ? '' : o.title, commentId }, cause.events ?? {});
  return commentId;
}
