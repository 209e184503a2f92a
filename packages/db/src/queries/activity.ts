import { and, asc, eq, inArray, isNotNull, lte, sql, type Placeholder, type SQL } from 'drizzle-orm';
import type { ActivityFacts, PlannedMail, Recipient } from '@blend/core';
import type { Tx } from '../client';
import { comments, messageRefs, notifications, outboundMessages, people, posts, threadMutes, threadParticipants } from '../schema';
import { groupVisibleTo } from './groups';
import { holdWrites, type Holder, type HeldWrites } from './held-writes';
import { preparedSql } from './raw-statement';

/** Known people among `emails` become participants of the thread's mail conversation. */
export async function addThreadParticipants(tx: Tx, postId: string, emails: string[]): Promise<void> {
  const list = [...new Set(emails.map((e) => e.toLowerCase()))].slice(0, 200);
  if (list.length === 0) return;
  await addParticipantsStatement(tx, { postId, emails: list });
}

/** {@link addThreadParticipants}'s statement, once per published mail: built once, named. */
const addParticipantsStatement = preparedSql(
  'blend_add_thread_participants',
  () => sql`
    insert into thread_participants (post_id, person_id)
    select ${sql.placeholder('postId')}::uuid, id from people where email = any(${sql.placeholder('emails')}::text[])
    on conflict do nothing`,
);

type ActivityFactsRow = { authorId: string; source: 'email' | 'esn'; title: string; published: number; participantIds: string[]; mutedIds: string[]; haveIds: string[]; recipients: Recipient[] };
const activityFactsStatement = preparedSql<ActivityFactsRow>('blend_activity_facts', () => activityFactsSql(false));
/** {@link activityFactsStatement} that also makes the known people among `join` participants of the thread ({@link ActivityEvent.joinEmails}). */
const activityFactsJoiningStatement = preparedSql<ActivityFactsRow>('blend_activity_facts_joining', () => activityFactsSql(true));

function activityFactsSql(joining: boolean) {
  const participants = sql`select ${threadParticipants.personId} from ${threadParticipants} where ${threadParticipants.postId} = p.id`;
  // A data-modifying WITH runs whether or not the query reads it; the query's snapshot does not see its rows.
  const join = joining
    ? sql`with joined as (insert into thread_participants (post_id, person_id)
        select ${sql.placeholder('postId')}::uuid, id from people where email = any(${sql.placeholder('join')}::text[])
        on conflict do nothing) `
    : sql``;
  return sql`${join}
    select p.author_id as "authorId", p.source, p.title,
      ${publishedCountSql(sql.placeholder('countOf'), sql.placeholder('countAtMost'))} as published,
      array(select tp.person_id::text from (${participants}) tp(person_id)) as "participantIds",
      array(select ${threadMutes.personId}::text from ${threadMutes} where ${threadMutes.postId} = p.id) as "mutedIds",
      array(select ${people.id}::text from ${people} where ${people.email} = any(${sql.placeholder('have')}::text[])) as "haveIds",
      coalesce((select json_agg(json_build_object('id', r.id, 'optIn', r.opt_in, 'paused', r.mail_paused_at is not null, 'notifyMentions', r.notify_mentions,
          'notifyReplies', r.notify_replies, 'timezone', r.timezone, 'quietStart', r.quiet_start, 'quietEnd', r.quiet_end))
        from ${people} r
        where (r.id = any(${sql.placeholder('mentioned')}::uuid[]) or r.id = p.author_id or r.id in (${participants}))
          and ${groupVisibleTo(sql`p.group_id`, sql`r.id`)}), '[]'::json) as recipients
    from ${posts} p where p.id = ${sql.placeholder('postId')}::uuid limit 1`;
}

export interface ActivityEvent {
  kind: 'post' | 'comment';
  postId: string;
  commentId: string | null;
  authorId: string;
  source: 'email' | 'esn';
  at: Date;
  /** People mentioned in the new text. */
  mentionedIds: string[];
  /** Addresses on From/To/Cc of the mail that made the event: they have it already. */
  alreadyHaveEmails?: string[];
  /**
   * A person whose published mails are counted in the same statement, as {@link publishedCount}
   * would count them (`atMost` of each), after this event's own post or comment was written
   * (the ingest's receipt, docs/ARCHITECTURE.md "Ingest, one mail at a time").
   */
  countPublished?: { personId: string; atMost: number };
  /**
   * Addresses whose known people become participants of the thread's mail conversation, in the
   * statement that reads the facts ({@link addThreadParticipants} folded in). The facts are read
   * as before they joined; each of them counts as having the mail already (as `alreadyHaveEmails`),
   * so no plan would have mailed them as participants either.
   */
  joinEmails?: string[];
}

/**
 * What core's `planActivityMail` needs to plan the mail an event causes, read in the event's own
 * transaction: the thread's post, its mail participants, the mentioned people and the thread's
 * author as recipients (in a private group's thread only its members; docs/SECURITY.md, private
 * groups), who muted the thread, and who got the event as mail already. Null when the post is gone.
 */
export async function activityFacts(tx: Tx, ev: ActivityEvent): Promise<(Omit<ActivityFacts, 'coalesceMs'> & { thread: ThreadFacts }) | null> {
  // The post, its participants, who muted it, who has the mail already, and the participants,
  // the mentioned people and the post's author as recipients: one statement, built once (once per published mail).
  const join = [...new Set((ev.joinEmails ?? []).map((e) => e.toLowerCase()))].slice(0, 200);
  const haveEmails = [...new Set([...(ev.alreadyHaveEmails ?? []), ...join].map((e) => e.toLowerCase()))];
  // Without a person to count, nothing is counted (a limit of 0).
  const count = { countOf: ev.countPublished?.personId ?? null, countAtMost: ev.countPublished?.atMost ?? 0 };
  const [post] = (
    join.length > 0
      ? await activityFactsJoiningStatement(tx, { postId: ev.postId, have: haveEmails, mentioned: ev.mentionedIds, join, ...count })
      : await activityFactsStatement(tx, { postId: ev.postId, have: haveEmails, mentioned: ev.mentionedIds, ...count })
  ).rows;
  if (!post) return null;
  if (ev.countPublished) notePublishedCount(tx, ev.countPublished.personId, Number(post.published));
  const participantIds = post.participantIds;
  const byId = new Map(post.recipients.map((r) => [r.id, r]));
  const muted = new Set(post.mutedIds);
  const have = post.haveIds;
  const pick = (ids: string[]) => ids.map((id) => byId.get(id)).filter((r): r is Recipient => Boolean(r));
  return {
    event: { kind: ev.kind, authorId: ev.authorId, source: ev.source, at: ev.at },
    post: { authorId: post.authorId, source: post.source },
    emailParticipants: pick(participantIds),
    mentioned: pick(ev.mentionedIds),
    postAuthor: byId.get(post.authorId) ?? null,
    muted,
    alreadyHave: new Set(have),
    thread: { title: post.title, published: ev.countPublished ? Number(post.published) : null },
  };
}

/** What {@link activityFacts} read of the thread besides the facts of its mail. */
export interface ThreadFacts {
  /** The thread's post's title. */
  title: string;
  /** {@link ActivityEvent.countPublished}'s count, null when none was asked. */
  published: number | null;
}

/**
 * Store the mail planned for an event as `notifications` rows, in the event's transaction:
 * nothing is lost if a process dies before the mail is written, and the notification sweep
 * turns due rows into outbox rows.
 */
export async function insertNotifications(tx: Tx, ev: Pick<ActivityEvent, 'postId' | 'commentId'>, plan: PlannedMail[]): Promise<void> {
  if (plan.length === 0) return;
  const rows = plan.map((p) => ({ personId: p.personId, postId: ev.postId, commentId: ev.commentId, kind: p.kind, dueAt: p.dueAt }));
  const held = heldNotifications.get(tx);
  if (held) return held.add(rows);
  await writeNotifications(tx, rows);
}

interface PlannedNotification {
  personId: string;
  postId: string;
  commentId: string | null;
  kind: PlannedMail['kind'];
  dueAt: Date;
}

async function writeNotifications(tx: Tx, rows: PlannedNotification[]): Promise<void> {
  await insertNotificationsStatement(tx, {
    personIds: rows.map((r) => r.personId),
    postIds: rows.map((r) => r.postId),
    commentIds: rows.map((r) => r.commentId),
    kinds: rows.map((r) => r.kind),
    dueAts: rows.map((r) => r.dueAt.toISOString()),
  });
}

/** The notifications a transaction holds back ({@link deferNotifications}): a list, and where it stands. */
/** Notifications of one transaction written together: {@link deferNotifications}. Its `flush` writes them in one statement. */
export type DeferredNotifications = HeldWrites;

const heldNotifications = new WeakMap<Tx, Holder<PlannedNotification>>();

/**
 * From now on in `tx`, {@link insertNotifications} given this same handle holds its rows, and
 * `flush` writes all of them in one statement, in the order planned: for a batch of mails one
 * statement instead of one a published mail. Nothing in an ingest reads them back; a merge
 * (`movePostIntoThread`), which moves a thread's notifications, writes them first
 * ({@link flushDeferredNotifications}). The caller flushes before its transaction commits.
 */
export function deferNotifications(tx: Tx): DeferredNotifications {
  return holdWrites(tx, heldNotifications, (rows) => writeNotifications(tx, rows));
}

/** Write the notifications `tx` holds ({@link deferNotifications}), if any. */
export async function flushDeferredNotifications(tx: Tx): Promise<void> {
  await heldNotifications.get(tx)?.flush();
}

/** {@link insertNotifications}' statement for any number of rows (once per published mail): built once, named. */
const insertNotificationsStatement = preparedSql('blend_insert_notifications', () => {
  const p = sql.placeholder;
  return sql`
    insert into ${notifications} (person_id, post_id, comment_id, kind, due_at)
    select r.person_id, r.post_id, r.comment_id, r.kind, r.due_at
    from unnest(${p('personIds')}::uuid[], ${p('postIds')}::uuid[], ${p('commentIds')}::uuid[], ${p('kinds')}::text[], ${p('dueAts')}::timestamptz[])
      with ordinality as r(person_id, post_id, comment_id, kind, due_at, n)
    order by r.n`;
});

/**
 * An ESN author edited or deleted a comment that was mirrored into mail: each person who got
 * the mirror gets one correction, `windowMs` from now; further changes within the window
 * join the pending one (the sweep sends the comment as it is then).
 * @returns how many corrections were newly planned.
 */
export async function recordCorrection(tx: Tx, commentId: string, postId: string, at: Date, windowMs: number): Promise<number> {
  const rows = await tx.execute<{ id: string }>(sql`
    insert into notifications (person_id, post_id, comment_id, kind, due_at)
    select distinct o.person_id, ${postId}::uuid, ${commentId}::uuid, 'correction', ${new Date(at.getTime() + windowMs)}::timestamptz
    from outbound_messages o
    where o.comment_id = ${commentId}::uuid and o.kind = 'mirror' and o.person_id is not null
      and not exists (select 1 from notifications n
                      where n.comment_id = ${commentId}::uuid and n.person_id = o.person_id
                        and n.kind = 'correction' and n.state = 'pending')
    returning id`);
  return rows.rows.length;
}

export type NotificationRow = typeof notifications.$inferSelect;

/**
 * Lock due notifications (skipping rows another worker holds) together with every pending
 * row of the same person and thread, so what gathered in the window goes out as one mail.
 */
export async function lockDueNotifications(tx: Tx, now: Date, limit = 200): Promise<NotificationRow[]> {
  const due = await tx
    .select({ personId: notifications.personId, postId: notifications.postId })
    .from(notifications)
    .where(and(eq(notifications.state, 'pending'), lte(notifications.dueAt, now)))
    .orderBy(asc(notifications.dueAt))
    .limit(limit)
    .for('update', { skipLocked: true });
  if (due.length === 0) return [];
  const pairs = [...new Map(due.map((d) => [`${d.personId}|${d.postId}`, d])).values()];
  return tx
    .select()
    .from(notifications)
    .where(
      and(
        eq(notifications.state, 'pending'),
        sql`(${notifications.personId}, ${notifications.postId}) in (${sql.join(
          pairs.map((p) => sql`(${p.personId}::uuid, ${p.postId}::uuid)`),
          sql`, `,
        )})`,
      ),
    )
    .orderBy(asc(notifications.createdAt))
    .for('update', { skipLocked: true });
}

export type NotificationOutcome = { outboundId: string } | { dropped: string };

/**
 * Settle notification rows, each group with its outcome: `sent` in an outbox row, or `dropped`
 * with the reason. One statement for all (a sweep round settles its groups together).
 */
export async function finishNotifications(tx: Tx, done: { ids: string[]; outcome: NotificationOutcome }[]): Promise<void> {
  const rows = done.flatMap((d) => d.ids.map((id) => ({ id, outboundId: 'outboundId' in d.outcome ? d.outcome.outboundId : null, dropped: 'dropped' in d.outcome ? d.outcome.dropped : null })));
  if (rows.length === 0) return;
  await tx.execute(sql`
    update ${notifications} n
    set state = case when v.outbound_id is null then 'dropped' else 'sent' end,
        outbound_id = coalesce(v.outbound_id, n.outbound_id),
        reason = case when v.outbound_id is null then v.reason else n.reason end
    from unnest(${sql.param(rows.map((r) => r.id))}::uuid[], ${sql.param(rows.map((r) => r.outboundId))}::uuid[], ${sql.param(rows.map((r) => r.dropped))}::text[]) as v(id, outbound_id, reason)
    where n.id = v.id`);
}

/** What the notification sweep needs to know about the people, posts and comments of due rows. */
export interface NotificationContext {
  people: Map<string, { id: string; email: string; name: string; optIn: string; paused: boolean; timezone: string; language: string | null }>;
  posts: Map<string, { id: string; title: string; threadIndex: string | null; createdAt: Date; deletedAt: Date | null; bodyText: string; authorId: string }>;
  comments: Map<string, { id: string; bodyText: string; authorId: string; createdAt: Date; deletedAt: Date | null }>;
}

/**
 * Load the comments, posts and people (recipients and authors) that locked notification rows
 * refer to, in three queries.
 */
export async function notificationContext(tx: Tx, rows: NotificationRow[]): Promise<NotificationContext> {
  const commentIds = [...new Set(rows.map((r) => r.commentId).filter((c): c is string => Boolean(c)))];
  const commentRows = commentIds.length
    ? await tx
        .select({ id: comments.id, bodyText: comments.bodyText, authorId: comments.authorId, createdAt: comments.createdAt, deletedAt: comments.deletedAt })
        .from(comments)
        .where(inArray(comments.id, commentIds))
    : [];
  const postIds = [...new Set(rows.map((r) => r.postId))];
  const postRows = await tx
    .select({ id: posts.id, title: posts.title, threadIndex: posts.threadIndex, createdAt: posts.createdAt, deletedAt: posts.deletedAt, bodyText: posts.bodyText, authorId: posts.authorId })
    .from(posts)
    .where(inArray(posts.id, postIds));
  const personIds = [...new Set([...rows.map((r) => r.personId), ...commentRows.map((c) => c.authorId), ...postRows.map((p) => p.authorId)])];
  const personRows = await tx
    .select({ id: people.id, email: people.email, name: people.name, optIn: people.optIn, paused: people.mailPausedAt, timezone: people.timezone, language: people.language })
    .from(people)
    .where(inArray(people.id, personIds));
  return {
    people: new Map(personRows.map((p) => [p.id, { ...p, paused: p.paused !== null }])),
    posts: new Map(postRows.map((p) => [p.id, p])),
    comments: new Map(commentRows.map((c) => [c.id, c])),
  };
}

/**
 * The Message-IDs of a thread's mail conversation, oldest first: the mails that came in
 * (not our own replies, which differ per recipient).
 */
export async function threadMessageIds(tx: Tx, postId: string, limit = 30): Promise<string[]> {
  const rows = await tx
    .select({ id: messageRefs.messageId })
    .from(messageRefs)
    .where(and(eq(messageRefs.postId, postId), isNotNull(messageRefs.inboundId)))
    .orderBy(asc(messageRefs.createdAt))
    .limit(500);
  const ids = rows.map((r) => r.id);
  // The first and the latest ones: clients thread on the root and the direct parent.
  return ids.length <= limit ? ids : [ids[0]!, ...ids.slice(ids.length - limit + 1)];
}

/**
 * {@link threadMessageIds} of several threads in one statement (a notification sweep's round
 * reads those of all its posts at once): each post's Message-IDs, oldest first, the same ones.
 */
export async function threadsMessageIds(tx: Tx, postIds: string[], limit = 30): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(postIds.map((id) => [id, []]));
  if (postIds.length === 0) return out;
  const { rows } = await threadsMessageIdsStatement(tx, { postIds });
  for (const r of rows) out.get(r.post_id)?.push(r.message_id);
  for (const [id, ids] of out) if (ids.length > limit) out.set(id, [ids[0]!, ...ids.slice(ids.length - limit + 1)]);
  return out;
}

const threadsMessageIdsStatement = preparedSql<{ post_id: string; message_id: string }>('blend_threads_message_ids', () => sql`
  select p.id as post_id, m.message_id
  from unnest(${sql.placeholder('postIds')}::uuid[]) with ordinality as p(id, n)
  cross join lateral (
    select r.message_id, r.created_at from ${messageRefs} r
    where r.post_id = p.id and r.inbound_id is not null
    order by r.created_at limit 500
  ) m
  order by p.n, m.created_at`);

/** The mirror mail a person got for a comment, so a correction can answer it. */
export async function mirrorMessageId(tx: Tx, commentId: string, personId: string): Promise<string | null> {
  const rows = await tx
    .select({ id: outboundMessages.messageId })
    .from(outboundMessages)
    .where(and(eq(outboundMessages.commentId, commentId), eq(outboundMessages.personId, personId), eq(outboundMessages.kind, 'mirror')))
    .limit(1);
  return rows[0]?.id ?? null;
}

/** Stop mail about one thread to one person (List-Unsubscribe of a thread mail). */
export async function muteThread(tx: Tx, postId: string, personId: string): Promise<void> {
  await tx.insert(threadMutes).values({ postId, personId }).onConflictDoNothing();
  await tx
    .update(notifications)
    .set({ state: 'dropped', reason: 'muted' })
    .where(and(eq(notifications.postId, postId), eq(notifications.personId, personId), eq(notifications.state, 'pending')));
}

/** Whether a person has stopped mail about one thread. */
export async function isThreadMuted(db: Tx, postId: string, personId: string): Promise<boolean> {
  const rows = await db
    .select({ p: threadMutes.personId })
    .from(threadMutes)
    .where(and(eq(threadMutes.postId, postId), eq(threadMutes.personId, personId)))
    .limit(1);
  return rows.length > 0;
}

/**
 * How many of a person's mails were published (posts and comments from email), counting at
 * most `atMost` of each: enough to tell whether it is more than a few, without reading all of a
 * prolific author's rows (once per published mail, so a named statement too).
 */
export async function publishedCount(tx: Tx, personId: string, atMost: number): Promise<number> {
  // It is asked once a mail, after the mail's own post or comment is written. Within one
  // transaction a person's count only grows (a merge turns a post into a comment of the same
  // author), so a count read stands as a floor for every later mail of the transaction (a
  // batch's, docs/ARCHITECTURE.md "Ingest, one mail at a time"): the mail it counted may be
  // rolled back to its savepoint, but a later one counts its own item in its place.
  const known = publishedCountKnown(tx, personId, atMost);
  if (known !== undefined) return known;
  const rows = await publishedCountStatement(tx, { personId, atMost });
  const n = Number(rows.rows[0]?.n ?? 0);
  notePublishedCount(tx, personId, n);
  return n;
}

/** {@link publishedCount} when this transaction already knows the person's count reached `atMost`, else undefined. */
export function publishedCountKnown(tx: Tx, personId: string, atMost: number): number | undefined {
  const known = countsSeen.get(tx)?.get(personId);
  return known !== undefined && known >= atMost ? known : undefined;
}

/** A person's published count read in `tx`: a floor for its later mails ({@link publishedCount}). */
function notePublishedCount(tx: Tx, personId: string, n: number): void {
  let seen = countsSeen.get(tx);
  if (!seen) countsSeen.set(tx, (seen = new Map()));
  seen.set(personId, n);
}

/** Published counts read in a transaction, per person: a floor for its later mails ({@link publishedCount}). */
const countsSeen = new WeakMap<Tx, Map<string, number>>();

const publishedCountStatement = preparedSql<{ n: number }>('blend_published_count', () => sql`select ${publishedCountSql(sql.placeholder('personId'), sql.placeholder('atMost'))} as n`);

/** {@link publishedCount}'s count as an expression (also read along with {@link activityFacts}). */
function publishedCountSql(personId: Placeholder, atMost: Placeholder): SQL {
  return sql`((select count(*) from (select 1 from posts where author_id = ${personId}::uuid and source = 'email' limit ${atMost}) a)::int
         + (select count(*) from (select 1 from comments where author_id = ${personId}::uuid and source = 'email' limit ${atMost}) b)::int)`;
}

/** The kinds of our own mails among `messageIds` (a reply to a receipt or digest is not a comment). */
export async function ownMailKinds(tx: Tx, messageIds: string[]): Promise<string[]> {
  if (messageIds.length === 0) return [];
  const rows = await tx.select({ kind: outboundMessages.kind }).from(outboundMessages).where(inArray(outboundMessages.messageId, messageIds));
  return rows.map((r) => r.kind);
}
