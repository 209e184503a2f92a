import { bigint, index, integer, jsonb, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';

/**
 * The events outbox (docs/ARCHITECTURE.md "Events"): one row per change to what the feed
 * shows, written in the transaction that made the change, whatever its channel (mail, API,
 * web, CLI). Webhook deliveries are made from these rows; `GET /api/v1/events` reads them.
 */
export const events = pgTable(
  'events',
  {
    /** Stable id: the CloudEvents `id`, the Standard Webhooks `webhook-id`, the same at every redelivery. */
    id: uuid('id').primaryKey().defaultRandom(),
    /** `post.created`, `comment.deleted`, … (README "Events"). */
    type: text('type').notNull(),
    /** The thread (its post) the event belongs to; null only for `person.erased`. */
    threadId: uuid('thread_id'),
    /** 1, 2, 3… per thread, in commit order (assigned under a per-thread lock). */
    sequence: integer('sequence'),
    /** Position in the whole stream, given once the event has committed (the pull cursor). */
    position: bigint('position', { mode: 'number' }),
    groupId: uuid('group_id'),
    /** `email` or `esn`: the channel the change came through. */
    origin: text('origin').notNull(),
    postId: uuid('post_id'),
    commentId: uuid('comment_id'),
    /** The event in Blend's JSON; contents are kept as readers see them now (edits and removals rewrite them). */
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().default(sql`clock_timestamp()`),
  },
  (t) => [
    unique('events_thread_sequence_uq').on(t.threadId, t.sequence),
    unique('events_position_uq').on(t.position),
    index('events_unpositioned_idx').on(t.createdAt).where(sql`${t.position} is null`),
    index('events_post_idx').on(t.postId),
    index('events_comment_idx').on(t.commentId),
    index('events_created_idx').on(t.createdAt),
  ],
);
