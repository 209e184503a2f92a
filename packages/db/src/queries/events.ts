import { randomUUID } from 'node:crypto';
import { and, asc, eq, gt, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import { eventPassesFilter, postLink, type EventType, type RemovalReason, type WebhookEvent, type WebhookPerson, type WebhookPostRef } from '@blend/core';
import type { Tx } from '../client';
import { groupVisibleTo } from './groups';
import { holdWrites, type Holder, type HeldWrites } from './held-writes';
import { preparedSql, preparedQuery } from './raw-statement';
import { comments, events, groups, people, postMerges, posts, webhookDeliveries, webhooks } from '../schema';

/**
 * The events outbox (docs/ARCHITECTURE.md "Events"). Every change to what the feed shows
 * writes its event here in the transaction that makes the change, with its thread's next
 * sequence number, and one webhook delivery per hook that takes it; so an event exists
 * exactly when its change committed.
 */

export type EventRow = typeof events.$inferSelect;

/** What an emitter knows besides the change: the site's URL for links, and the time. */
export interface EventContext {
  /** BLEND_PUBLIC_URL, for `url` fields; without it they are null. */
  publicUrl?: string | null | undefined;
  at?: Date;
  /** The chat tool a comment was written in (docs/ARCHITECTURE.md "Chat tools"): kept as the event's `via`, and no echo goes back to that tool. */
  via?: string | undefined;
}

type Origin = 'email' | 'esn';
type Body<T extends EventType> = Omit<Extract<WebhookEvent, { event: T }>, 'id' | 'thread' | 'origin' | 'via' | 'event' | 'occurred_at'>;

const threadUrl = (ctx: EventContext, postId: string): string | null => (ctx.publicUrl ? postLink(ctx.publicUrl, postId) : null);

/**
 * Write one event and fan it out to the hooks whose types and filter take it. The thread's
 * sequence is taken under a transaction lock on the thread, so two changes to one thread get
 * 1, 2… in the order they commit.
 */
export async function recordEvent<T extends EventType>(
  tx: Tx,
  e: { type: T; threadId: string | null; groupId: string | null; origin: Origin; via?: string | undefined; postId?: string | null; commentId?: string | null; at?: Date; body: Body<T> },
  /** The caller took the thread's lock ({@link threadLock}) in a statement of its own before. */
  threadLocked = false,
): Promise<{ id: string; sequence: number | null }> {
  // Created events held back in this transaction go first, so a thread's events keep the order of its changes.
  await flushDeferredEvents(tx);
  if (e.threadId && !threadLocked) await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`blend-events:${e.threadId}`}, 0))`);
  const id = randomUUID();
  const payload = eventPayload(id, e);
  // The thread's next sequence is read by the insert itself: a statement after the lock's, so its
  // snapshot holds the previous holder's commit.
  if (e.threadId) {
    // An event of a thread, the common case (each published mail writes one): a named statement built once.
    const res = await threadEventStatement(tx, {
      id,
      type: e.type,
      threadId: e.threadId,
      groupId: e.groupId,
      origin: e.origin,
      postId: e.postId ?? null,
      commentId: e.commentId ?? null,
      payload: JSON.stringify(payload),
      types: JSON.stringify([e.type]),
    });
    const hooks = res.rows.filter((r): r is typeof r & Hook => r.id !== null);
    await fanOut(tx, hooks, { id, type: e.type, groupId: e.groupId, origin: e.origin, via: e.via ?? null });
    return { id, sequence: res.rows[0]?.sequence ?? null };
  }
  const next = e.threadId ? sql`(select coalesce(max(${events.sequence}), 0) + 1 from ${events} where ${events.threadId} = ${e.threadId}::uuid)` : null;
  const insert = tx
    .insert(events)
    .values({
      id,
      type: e.type,
      threadId: e.threadId,
      sequence: next,
      groupId: e.groupId,
      origin: e.origin,
      postId: e.postId ?? null,
      commentId: e.commentId ?? null,
      payload: next ? sql`jsonb_set(${JSON.stringify(payload)}::jsonb, '{thread,sequence}', to_jsonb(${next}))` : payload,
    })
    .returning({ sequence: events.sequence });
  // The event, its sequence, and the active hooks of its type, in one statement.
  const res = await tx.execute<{ sequence: number | null } & { [K in keyof Hook]: Hook[K] | null }>(sql`
    with inserted as (${insert.getSQL()})
    select inserted.sequence, h.id, h.events, h.filter, h.format from inserted
    left join ${webhooks} h on h.active and h.events @> ${JSON.stringify([e.type])}::jsonb`);
  const hooks = res.rows.filter((r): r is typeof r & Hook => r.id !== null);
  await fanOut(tx, hooks, { id, type: e.type, groupId: e.groupId, origin: e.origin, via: e.via ?? null });
  return { id, sequence: res.rows[0]?.sequence ?? null };
}

type Hook = Pick<typeof webhooks.$inferSelect, 'id' | 'events' | 'filter' | 'format'>;

/** An event's JSON as stored, its thread's sequence 0 until the insert sets it. */
function eventPayload(id: string, e: { type: EventType; threadId: string | null; origin: Origin; via?: string | undefined; at?: Date; body: object }): Record<string, unknown> {
  return {
    id,
    event: e.type,
    occurred_at: (e.at ?? new Date()).toISOString(),
    thread: e.threadId ? { id: e.threadId, sequence: 0 } : null,
    origin: e.origin,
    ...(e.via ? { via: e.via } : {}),
    ...e.body,
  };
}

/** {@link recordEvent}'s insert of an event of a thread, as it builds it, with its values as placeholders. */
const threadEventStatement = preparedSql<{ sequence: number | null } & { [K in keyof Hook]: Hook[K] | null }>('blend_record_thread_event', () => {
  const p = sql.placeholder;
  const next = sql`(select coalesce(max(${events.sequence}), 0) + 1 from ${events} where ${events.threadId} = ${p('threadId')}::uuid)`;
  const values = { id: p('id'), type: p('type'), threadId: p('threadId'), sequence: next, groupId: p('groupId'), origin: p('origin'), postId: p('postId'), commentId: p('commentId') };
  return sql`
    with inserted as (insert into ${events} (${sql.raw(['id', 'type', 'thread_id', 'sequence', 'group_id', 'origin', 'post_id', 'comment_id', 'payload'].map((c) => `"${c}"`).join(', '))})
      values (${values.id}, ${values.type}, ${values.threadId}, ${values.sequence}, ${values.groupId}, ${values.origin}, ${values.postId}, ${values.commentId},
        jsonb_set(${p('payload')}::jsonb, '{thread,sequence}', to_jsonb(${next})))
      returning ${events.sequence})
    select inserted.sequence, h.id, h.events, h.filter, h.format from inserted
    left join ${webhooks} h on h.active and h.events @> ${p('types')}::jsonb`;
});

/** Takes the events lock of the thread of a row read in the same statement (see {@link recordEvent}). */
const threadLock = (threadId: SQL | AnyColumn) => sql<unknown>`pg_advisory_xact_lock(hashtextextended('blend-events:' || ${threadId}::text, 0))`;

/** One `pending` delivery per active hook (of the event's type) that takes the event. */
async function fanOut(tx: Tx, hooks: Hook[], e: { id: string; type: string; groupId: string | null; origin: Origin; via: string | null }): Promise<number> {
  if (hooks.length === 0) return 0;
  const group = e.groupId ? (await tx.select({ slug: groups.slug, visibility: groups.visibility }).from(groups).where(eq(groups.id, e.groupId)))[0] : undefined;
  const taking = hooks.filter((h) => eventPassesFilter(h, { type: e.type, groupSlug: group?.slug ?? null, groupPrivate: group?.visibility === 'private', origin: e.origin, via: e.via }));
  if (taking.length === 0) return 0;
  await tx.insert(webhookDeliveries).values(taking.map((h) => ({ webhookId: h.id, event: e.type, eventId: e.id })));
  return taking.length;
}

async function personRef(tx: Tx, id: string): Promise<WebhookPerson> {
  const [p] = await tx.select({ id: people.id, email: people.email, name: people.name }).from(people).where(eq(people.id, id));
  return p ?? { id, email: '', name: '' };
}

async function loadPost(tx: Tx, id: string) {
  const [row] = await tx
    .select({ post: posts, group: { slug: groups.slug, name: groups.name } })
    .from(posts)
    .innerJoin(groups, eq(groups.id, posts.groupId))
    .where(eq(posts.id, id));
  return row;
}

const personColumns = { id: people.id, email: people.email, name: people.name };

/**
 * {@link loadPost} with its author as {@link personRef} gives it, and the thread's events lock
 * taken, in one statement (a named one: once per mail published as a post).
 */
async function loadPostWithAuthor(tx: Tx, id: string) {
  const [row] = await postWithAuthorStatement(tx, { id });
  return row && { post: row.post, group: row.group, author: row.author ?? { id: row.post.authorId, email: '', name: '' } };
}

const postWithAuthorStatement = preparedQuery('blend_event_post', (tx) =>
  tx
    .select({ post: posts, group: { slug: groups.slug, name: groups.name }, author: personColumns, locked: threadLock(posts.id) })
    .from(posts)
    .innerJoin(groups, eq(groups.id, posts.groupId))
    .leftJoin(people, eq(people.id, posts.authorId))
    .where(eq(posts.id, sql.placeholder('id'))),
);

/** A comment, its post and group, and its author, and its thread's events lock taken: one statement (a named one: once per mail published as a comment). */
const commentForEventStatement = preparedQuery('blend_event_comment', (tx) =>
  tx
    .select({ c: comments, post: posts, group: { slug: groups.slug, name: groups.name }, author: personColumns, locked: threadLock(comments.postId) })
    .from(comments)
    .innerJoin(posts, eq(posts.id, comments.postId))
    .innerJoin(groups, eq(groups.id, posts.groupId))
    .leftJoin(people, eq(people.id, comments.authorId))
    .where(eq(comments.id, sql.placeholder('id'))),
);

const postRef = (ctx: EventContext, p: { id: string; title: string; deletedAt: Date | null }): WebhookPostRef => ({
  id: p.id,
  title: p.deletedAt ? '' : p.title,
  url: p.deletedAt ? null : threadUrl(ctx, p.id),
});

/** `post.created` or `post.updated` with the post as it is now. */
export async function emitPostEvent(tx: Tx, type: 'post.created' | 'post.updated', postId: string, ctx: EventContext = {}): Promise<void> {
  const held = type === 'post.created' ? deferred.get(tx) : undefined;
  if (held) return held.add([{ kind: 'post', id: postId, ctx }]);
  const row = await loadPostWithAuthor(tx, postId);
  if (!row || row.post.deletedAt) return;
  await recordEvent(tx, postEvent(type, row, ctx), true);
  if (type === 'post.updated') await refreshEventContent(tx, { postId: row.post.id });
}

type PostForEvent = NonNullable<Awaited<ReturnType<typeof loadPostWithAuthor>>>;
type CommentForEvent = Omit<Awaited<ReturnType<typeof commentForEventStatement>>[number], 'locked'>;

/** The event of a post (as {@link loadPostWithAuthor} reads it), for {@link recordEvent}. */
function postEvent(type: 'post.created' | 'post.updated', row: PostForEvent, ctx: EventContext) {
  const p = row.post;
  return {
    type,
    threadId: p.id,
    groupId: p.groupId,
    origin: p.source,
    postId: p.id,
    ...(ctx.at ? { at: ctx.at } : {}),
    body: {
      post: {
        ...postRef(ctx, p),
        group: row.group,
        body_text: p.bodyText,
        body_html: p.bodyHtml,
        source: p.source,
        author: row.author,
        created_at: p.createdAt.toISOString(),
        edited_at: p.editedAt?.toISOString() ?? null,
      },
    },
  };
}

/** `comment.created` or `comment.updated` with the comment as it is now. */
export async function emitCommentEvent(tx: Tx, type: 'comment.created' | 'comment.updated', commentId: string, ctx: EventContext = {}): Promise<void> {
  const held = type === 'comment.created' ? deferred.get(tx) : undefined;
  if (held) return held.add([{ kind: 'comment', id: commentId, ctx }]);
  const [row] = await commentForEventStatement(tx, { id: commentId });
  if (!row || row.c.deletedAt) return;
  await recordEvent(tx, commentEvent(type, row, ctx), true);
  if (type === 'comment.updated') await refreshEventContent(tx, { commentId: row.c.id });
}

/** The event of a comment (as {@link commentForEventStatement} reads it), for {@link recordEvent}. */
function commentEvent(type: 'comment.created' | 'comment.updated', row: CommentForEvent, ctx: EventContext) {
  const c = row.c;
  return {
    type,
    threadId: c.postId,
    groupId: row.post.groupId,
    origin: c.source,
    via: ctx.via,
    postId: c.postId,
    commentId: c.id,
    ...(ctx.at ? { at: ctx.at } : {}),
    body: {
      post: postRef(ctx, row.post),
      comment: {
        id: c.id,
        body_text: c.bodyText,
        body_html: c.bodyHtml,
        source: c.source,
        author: row.author ?? { id: c.authorId, email: '', name: '' },
        created_at: c.createdAt.toISOString(),
        edited_at: c.editedAt?.toISOString() ?? null,
      },
    },
  };
}

/**
 * `post.created` and `comment.created` events of one transaction written together, in the order
 * they were emitted (docs/ARCHITECTURE.md "Events"): {@link deferCreatedEvents}. Its `flush`
 * writes them in as few statements as there are kinds (four at most).
 */
export type DeferredEvents = HeldWrites;

interface HeldEvent {
  kind: 'post' | 'comment';
  id: string;
  ctx: EventContext;
}

const deferred = new WeakMap<Tx, Holder<HeldEvent>>();

/**
 * From now on in `tx`, `post.created` and `comment.created` ({@link emitPostEvent},
 * {@link emitCommentEvent} given this same handle) are held and written together by `flush`,
 * in the order emitted, with each thread's next sequence numbers: for a batch of mails, four
 * statements instead of two a mail. Any other event written through `tx` writes those held
 * first, and so does {@link flushDeferredEvents}, which a change to a post that may have been
 * created in the transaction calls before it (a merge), so each event still shows its post or
 * comment as it was made and a thread's events keep the order of its changes. The caller
 * flushes before its transaction commits.
 */
export function deferCreatedEvents(tx: Tx): DeferredEvents {
  return holdWrites(tx, deferred, (rows) => writeCreatedEvents(tx, rows));
}

/** Write the created events `tx` holds ({@link deferCreatedEvents}), if any. */
export async function flushDeferredEvents(tx: Tx): Promise<void> {
  await deferred.get(tx)?.flush();
}

const postsForEventsStatement = preparedQuery('blend_event_posts', (tx) =>
  tx
    .select({ post: posts, group: { slug: groups.slug, name: groups.name }, author: personColumns })
    .from(posts)
    .innerJoin(groups, eq(groups.id, posts.groupId))
    .leftJoin(people, eq(people.id, posts.authorId))
    .where(sql`${posts.id} = any(${sql.placeholder('ids')}::uuid[])`),
);

const commentsForEventsStatement = preparedQuery('blend_event_comments', (tx) =>
  tx
    .select({ c: comments, post: posts, group: { slug: groups.slug, name: groups.name }, author: personColumns })
    .from(comments)
    .innerJoin(posts, eq(posts.id, comments.postId))
    .innerJoin(groups, eq(groups.id, posts.groupId))
    .leftJoin(people, eq(people.id, comments.authorId))
    .where(sql`${comments.id} = any(${sql.placeholder('ids')}::uuid[])`),
);

/** Every thread's events lock, of the posts and of the comments' posts, in one order (so two such statements never deadlock). */
const lockThreadsStatement = preparedSql('blend_lock_event_threads', () => sql`
  select ${threadLock(sql`t.id`)} from (
    select id from (select unnest(${sql.placeholder('postIds')}::uuid[]) as id
                    union select ${comments.postId} from ${comments} where ${comments.id} = any(${sql.placeholder('commentIds')}::uuid[])) u
    order by id) t`);

/**
 * The events of one transaction, each with its thread's next sequence (in the order given), and
 * the active hooks of each one's type. The rows come as one JSON array, in order: a `jsonb[]` of
 * the payloads would have node-postgres escape each one into an array literal, another copy of
 * every post and comment a batch writes (docs/ARCHITECTURE.md "Ingest, one mail at a time").
 */
const insertEventsStatement = preparedSql<{ event_id: string } & Hook>('blend_record_thread_events', () => sql`
    with r as (
      select * from rows from (jsonb_to_recordset(${sql.placeholder('rows')}::jsonb)
                                 as (id uuid, type text, thread_id uuid, group_id uuid, origin text, post_id uuid, comment_id uuid, payload jsonb))
        with ordinality as r(id, type, thread_id, group_id, origin, post_id, comment_id, payload, n)
    ), numbered as (
      select r.*, (select coalesce(max(${events.sequence}), 0) from ${events} where ${events.threadId} = r.thread_id)
                  + row_number() over (partition by r.thread_id order by r.n) as seq
      from r
    ), inserted as (
      insert into ${events} ("id", "type", "thread_id", "sequence", "group_id", "origin", "post_id", "comment_id", "payload")
      select id, type, thread_id, seq, group_id, origin, post_id, comment_id, jsonb_set(payload, '{thread,sequence}', to_jsonb(seq))
      from numbered order by n
      returning "id", "type")
    select inserted.id as event_id, h.id, h.events, h.filter, h.format from inserted
    join ${webhooks} h on h.active and h.events @> jsonb_build_array(inserted.type)`);

/**
 * The created events `list` in order: the threads' locks first (a statement before the insert,
 * so the insert's snapshot holds the previous holders' commits, as in {@link recordEvent}), then
 * the posts and comments as they are now, then one insert; a post or comment gone meanwhile has none.
 */
async function writeCreatedEvents(tx: Tx, list: HeldEvent[]): Promise<void> {
  const postIds = [...new Set(list.filter((e) => e.kind === 'post').map((e) => e.id))];
  const commentIds = [...new Set(list.filter((e) => e.kind === 'comment').map((e) => e.id))];
  await lockThreadsStatement(tx, { postIds, commentIds });
  const postRows = postIds.length > 0 ? await postsForEventsStatement(tx, { ids: postIds }) : [];
  const commentRows = commentIds.length > 0 ? await commentsForEventsStatement(tx, { ids: commentIds }) : [];
  const postById = new Map(postRows.map((r) => [r.post.id, { ...r, author: r.author ?? { id: r.post.authorId, email: '', name: '' } }]));
  const commentById = new Map(commentRows.map((r) => [r.c.id, r]));
  const out: (ReturnType<typeof postEvent> | ReturnType<typeof commentEvent>)[] = [];
  for (const e of list) {
    if (e.kind === 'post') {
      const row = postById.get(e.id);
      if (row && !row.post.deletedAt) out.push(postEvent('post.created', row, e.ctx));
    } else {
      const row = commentById.get(e.id);
      if (row && !row.c.deletedAt) out.push(commentEvent('comment.created', row, e.ctx));
    }
  }
  if (out.length === 0) return;
  const ids = out.map(() => randomUUID());
  const eventRows = out.map((e, i) => ({
    id: ids[i]!,
    type: e.type,
    thread_id: e.threadId,
    group_id: e.groupId,
    origin: e.origin,
    post_id: e.postId,
    comment_id: 'commentId' in e ? e.commentId : null,
    payload: eventPayload(ids[i]!, e),
  }));
  const { rows } = await insertEventsStatement(tx, { rows: JSON.stringify(eventRows) });
  if (rows.length === 0) return;
  // Hooks take events rarely from mail: fanned out one event at a time, as recordEvent does.
  for (const [i, e] of out.entries()) {
    const hooks = rows.filter((r) => r.event_id === ids[i]).map(({ event_id: _e, ...h }) => h);
    await fanOut(tx, hooks, { id: ids[i]!, type: e.type, groupId: e.groupId, origin: e.origin, via: ('via' in e ? e.via : undefined) ?? null });
  }
}

/**
 * `post.deleted` (and `comment.deleted` for each comment that left with it), after the rows
 * were made tombstones; earlier events lose the content too (docs/SECURITY.md B35).
 */
export async function emitPostRemoved(tx: Tx, postId: string, reason: RemovalReason, removedCommentIds: readonly string[] = []): Promise<void> {
  const row = await loadPost(tx, postId);
  if (!row) return;
  for (const id of removedCommentIds) await emitCommentRemoved(tx, id, reason);
  await recordEvent(tx, { type: 'post.deleted', threadId: postId, groupId: row.post.groupId, origin: row.post.source, postId, body: { post: { id: postId, title: '', url: null }, reason } });
  await refreshEventContent(tx, { postId });
}

/** `comment.deleted`, after the row was made a tombstone; earlier events lose its text. */
export async function emitCommentRemoved(tx: Tx, commentId: string, reason: RemovalReason, ctx: EventContext = {}): Promise<void> {
  const [c] = await tx.select({ id: comments.id, postId: comments.postId, source: comments.source }).from(comments).where(eq(comments.id, commentId));
  if (!c) return;
  const row = await loadPost(tx, c.postId);
  if (!row) return;
  await recordEvent(tx, {
    type: 'comment.deleted',
    threadId: c.postId,
    groupId: row.post.groupId,
    origin: c.source,
    postId: c.postId,
    commentId: c.id,
    body: { post: postRef(ctx, row.post), comment: { id: c.id }, reason },
  });
  await refreshEventContent(tx, { commentId: c.id });
}

/** `reaction.created` or `reaction.deleted`: a like given or taken back through `origin`. */
export async function emitReactionEvent(
  tx: Tx,
  type: 'reaction.created' | 'reaction.deleted',
  postId: string,
  personId: string,
  origin: Origin,
  ctx: EventContext = {},
): Promise<void> {
  const row = await loadPost(tx, postId);
  if (!row) return;
  await recordEvent(tx, {
    type,
    threadId: postId,
    groupId: row.post.groupId,
    origin,
    postId,
    ...(ctx.at ? { at: ctx.at } : {}),
    body: { post: postRef(ctx, row.post), reaction: { kind: 'like', person: await personRef(tx, personId) } },
  });
}

/** `post.merged`: `mergedId` became comment `commentId` of `survivorId`. */
export async function emitPostMerged(tx: Tx, m: { survivorId: string; mergedId: string; mergedTitle: string; commentId: string }, ctx: EventContext = {}): Promise<void> {
  const row = await loadPost(tx, m.survivorId);
  if (!row) return;
  await recordEvent(tx, {
    type: 'post.merged',
    threadId: m.survivorId,
    groupId: row.post.groupId,
    origin: 'email',
    postId: m.survivorId,
    ...(ctx.at ? { at: ctx.at } : {}),
    body: { post: postRef(ctx, row.post), merged: { id: m.mergedId, title: m.mergedTitle, comment_id: m.commentId, url: threadUrl(ctx, m.mergedId) } },
  });
}

/** `person.erased`, after their items' own removal events; their name and address leave every earlier event. */
export async function emitPersonErased(tx: Tx, personId: string): Promise<void> {
  const blank = JSON.stringify({ id: personId, email: '', name: '' });
  for (const path of ['{post,author}', '{comment,author}', '{reaction,person}']) {
    const [a, b] = path.slice(1, -1).split(',') as [string, string];
    await tx.execute(
      sql`update events set payload = jsonb_set(payload, ${path}::text[], ${blank}::jsonb) where payload->${a}->${b}->>'id' = ${personId}`,
    );
  }
  await recordEvent(tx, { type: 'person.erased', threadId: null, groupId: null, origin: 'esn', body: { person: { id: personId } } });
}

/**
 * Earlier events about an item say what readers see now: after an edit its new text, after a
 * removal nothing; and the thread's title in every event of the thread. So a pending delivery,
 * a replay or `GET /api/v1/events` never carries what was taken back (docs/SECURITY.md B35).
 */
export async function refreshEventContent(tx: Tx, target: { postId: string } | { commentId: string }): Promise<void> {
  if ('postId' in target) {
    const [p] = await tx.select({ title: posts.title, bodyText: posts.bodyText, bodyHtml: posts.bodyHtml, deletedAt: posts.deletedAt }).from(posts).where(eq(posts.id, target.postId));
    if (!p) return;
    const title = p.deletedAt ? '' : p.title;
    await tx.execute(sql`
      update events set payload = jsonb_set(jsonb_set(jsonb_set(payload, '{post,title}', to_jsonb(${title}::text)),
        '{post,body_text}', to_jsonb(${p.deletedAt ? '' : p.bodyText}::text)), '{post,body_html}', to_jsonb(${p.deletedAt ? '' : p.bodyHtml}::text))
      where post_id = ${target.postId} and type in ('post.created', 'post.updated')`);
    await tx.execute(sql`
      update events set payload = jsonb_set(payload, '{post,title}', to_jsonb(${title}::text))
      where thread_id = ${target.postId} and type not in ('post.created', 'post.updated') and payload ? 'post'`);
    if (p.deletedAt) {
      await tx.execute(sql`update events set payload = jsonb_set(payload, '{post,url}', 'null'::jsonb) where thread_id = ${target.postId} and payload ? 'post'`);
      await tx.execute(sql`update events set payload = jsonb_set(payload, '{merged,title}', '""'::jsonb) where type = 'post.merged' and payload->'merged'->>'id' = ${target.postId}`);
    }
    return;
  }
  const [c] = await tx.select({ bodyText: comments.bodyText, bodyHtml: comments.bodyHtml, deletedAt: comments.deletedAt }).from(comments).where(eq(comments.id, target.commentId));
  if (!c) return;
  const text = c.deletedAt ? '' : c.bodyText;
  const markup = c.deletedAt ? '' : c.bodyHtml;
  await tx.execute(sql`
    update events set payload = jsonb_set(jsonb_set(payload, '{comment,body_text}', to_jsonb(${text}::text)), '{comment,body_html}', to_jsonb(${markup}::text))
    where comment_id = ${target.commentId} and type in ('comment.created', 'comment.updated')`);
  // A comment that was a post of its own before a merge: that post's events carry the same words.
  for (const m of await tx.select({ id: postMerges.mergedPostId }).from(postMerges).where(eq(postMerges.commentId, target.commentId))) {
    await tx.execute(sql`
      update events set payload = jsonb_set(jsonb_set(payload, '{post,body_text}', to_jsonb(${text}::text)), '{post,body_html}', to_jsonb(${markup}::text))
      where post_id = ${m.id} and type in ('post.created', 'post.updated')`);
    if (c.deletedAt) {
      await tx.execute(sql`update events set payload = jsonb_set(jsonb_set(payload, '{post,title}', '""'::jsonb), '{post,url}', 'null'::jsonb) where thread_id = ${m.id} and payload ? 'post'`);
      await tx.execute(sql`update events set payload = jsonb_set(payload, '{merged,title}', '""'::jsonb) where type = 'post.merged' and payload->'merged'->>'id' = ${m.id}`);
    }
  }
}

/**
 * Give committed events their place in the whole stream, one caller at a time (a transaction
 * lock): an event that commits after a reader's last page gets a later position, so paging by
 * position never skips one. Within a thread positions follow the sequence.
 * @returns how many were placed.
 */
export async function assignEventPositions(db: Tx, limit = 1000): Promise<number> {
  return db.transaction((tx) => place(tx, limit));
}

async function place(tx: Tx, limit: number): Promise<number> {
  const [locked] = await tx.execute<{ ok: boolean }>(sql`select pg_try_advisory_xact_lock(hashtextextended('blend-event-positions', 0)) as ok`).then((r) => r.rows);
  if (!locked?.ok) return 0;
  // One statement whatever the number: the unplaced events, oldest first, numbered on from the
  // highest position given so far.
  const placed = await tx.execute(sql`
    update ${events} e set position = todo.next
    from (
      select id, (select coalesce(max(position), 0) from ${events}) + row_number() over (order by created_at, "sequence") as next
      from (select id, created_at, "sequence" from ${events} where position is null order by created_at, "sequence" limit ${limit}) unplaced
    ) todo
    where e.id = todo.id`);
  return placed.rowCount ?? 0;
}

/** One event as the pull API gives it: the stored event plus its stream position. */
export interface PulledEvent {
  position: number;
  event: Record<string, unknown>;
}

/**
 * Events after `after` (a position, or an event id standing for its position), oldest first,
 * as `viewerId` may see them: a private group's events only to its members, as its posts
 * (docs/SECURITY.md B37). Places newly committed events first, so a caller sees everything
 * committed before it asked. `last` is the position of the last event looked at, shown or not.
 */
export async function listEvents(db: Tx, opts: { after: number | string | null; limit: number; viewerId: string }): Promise<{ items: PulledEvent[]; last: number | null } | null> {
  await assignEventPositions(db);
  let after = 0;
  if (typeof opts.after === 'number') after = opts.after;
  else if (typeof opts.after === 'string') {
    const [row] = await db.select({ position: events.position }).from(events).where(eq(events.id, opts.after));
    if (!row || row.position === null) return null;
    after = row.position;
  }
  const rows = await db
    .select({ position: events.position, payload: events.payload, groupId: events.groupId, visible: sql<boolean>`${events.groupId} is null or ${groupVisibleTo(events.groupId, opts.viewerId)}` })
    .from(events)
    .where(gt(events.position, after))
    .orderBy(asc(events.position))
    .limit(opts.limit);
  const items = rows.filter((r) => r.visible).map((r) => ({ position: r.position!, event: r.payload }));
  return { items, last: rows.length ? rows[rows.length - 1]!.position! : null };
}

/**
 * Deliver again to one hook every event it takes since `since`, in stream order (threads
 * keep their sequence): new `pending` deliveries of the same events, so a receiver sees the
 * same ids and can drop what it had. @returns how many deliveries were made, or null for no such hook.
 */
export async function replayEvents(db: Tx, webhookId: string, since: Date): Promise<number | null> {
  const [hook] = await db.select().from(webhooks).where(eq(webhooks.id, webhookId));
  if (!hook) return null;
  await assignEventPositions(db);
  const rows = await db
    .select({ id: events.id, type: events.type, origin: events.origin, via: sql<string | null>`${events.payload}->>'via'`, slug: groups.slug, visibility: groups.visibility, groupId: events.groupId })
    .from(events)
    .leftJoin(groups, eq(groups.id, events.groupId))
    .where(and(sql`${events.createdAt} >= ${since.toISOString()}`, sql`${events.position} is not null`))
    .orderBy(asc(events.position));
  const taking = rows.filter((r) => eventPassesFilter(hook, { type: r.type, groupSlug: r.groupId ? (r.slug ?? null) : null, groupPrivate: r.visibility === 'private', origin: r.origin as Origin, via: r.via }));
  // One insert per row in stream order, so created_at follows it too.
  for (const r of taking) await db.insert(webhookDeliveries).values({ webhookId, event: r.type, eventId: r.id, createdAt: sql`clock_timestamp()` as unknown as Date });
  return taking.length;
}

/**
 * A new `pending` delivery of what delivery `id` carried, to the same hook (the admin page's
 * "redeliver"). @returns the new delivery's id, or null when there is no such delivery.
 */
export async function redeliver(db: Tx, id: string): Promise<string | null> {
  const [d] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id));
  if (!d) return null;
  const [row] = await db
    .insert(webhookDeliveries)
    .values({ webhookId: d.webhookId, event: d.event, eventId: d.eventId, payload: d.payload })
    .returning({ id: webhookDeliveries.id });
  return row!.id;
}
