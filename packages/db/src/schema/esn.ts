import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, jsonb, pgTable, primaryKey, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { groups } from './groups';
import { events } from './events';
import { people } from './people';
import { comments, posts } from './posts';

/** Reactions to posts: likes and the few others of REACTION_KINDS (one of each kind per person and post). */
export const reactions = pgTable(
  'reactions',
  {
    postId: uuid('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    personId: uuid('person_id')
      .notNull()
      .references(() => people.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull().default('like'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  // The allow-list of packages/core/src/reactions.ts (REACTION_KINDS).
  (t) => [primaryKey({ columns: [t.postId, t.personId, t.kind] }), check('reactions_kind_check', sql`${t.kind} in ('like', 'heart', 'tada', 'smile', 'thinking')`)],
);

/** A person following a thread or a group (digests and notifications use it). */
export const follows = pgTable(
  'follows',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    personId: uuid('person_id')
      .notNull()
      .references(() => people.id, { onDelete: 'cascade' }),
    postId: uuid('post_id').references(() => posts.id, { onDelete: 'cascade' }),
    groupId: uuid('group_id').references(() => groups.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique('follows_uq').on(t.personId, t.postId, t.groupId).nullsNotDistinct(), index('follows_post_idx').on(t.postId), index('follows_group_idx').on(t.groupId)],
);

/** Members of a group. */
export const groupMembers = pgTable(
  'group_members',
  {
    groupId: uuid('group_id')
      .notNull()
      .references(() => groups.id, { onDelete: 'cascade' }),
    personId: uuid('person_id')
      .notNull()
      .references(() => people.id, { onDelete: 'cascade' }),
    role: text('role').notNull().default('member'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.personId] })],
);

/** `#tags` of a post. */
export const postTags = pgTable(
  'post_tags',
  {
    postId: uuid('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    tag: text('tag').notNull(),
    /** The post's `created_at` (which never changes), copied so a tag's feed is read from one index. */
    postCreatedAt: timestamp('post_created_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.postId, t.tag] }),
    // A tag's page of the feed in the feed's order (NULLS FIRST, as posts_feed_idx): the
    // newest posts with the tag are the first entries, where walking the feed and probing
    // post_tags for each post read thousands of posts for a tag on 1 post in 100.
    index('post_tags_feed_idx').on(t.tag, t.postCreatedAt.desc().nullsFirst(), t.postId.desc().nullsFirst()),
  ],
);

/** People mentioned in a post or comment (`@name`, `@email`, known people on To/Cc). */
export const mentions = pgTable(
  'mentions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    postId: uuid('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    commentId: uuid('comment_id').references(() => comments.id, { onDelete: 'cascade' }),
    personId: uuid('person_id')
      .notNull()
      .references(() => people.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /** The `created_at` of the post (of the comment's post), copied as in post_tags for `mentions=me`. */
    postCreatedAt: timestamp('post_created_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    index('mentions_person_idx').on(t.personId, t.createdAt),
    unique('mentions_uq').on(t.postId, t.commentId, t.personId).nullsNotDistinct(),
    // The posts that mention a person, in the feed's order (see post_tags_feed_idx).
    index('mentions_feed_idx').on(t.personId, t.postCreatedAt.desc().nullsFirst(), t.postId.desc().nullsFirst()),
  ],
);

/** Outbound webhooks for an external ESN, registered by an admin. */
export const webhooks = pgTable('webhooks', {
  id: uuid('id').primaryKey().defaultRandom(),
  url: text('url').notNull(),
  /** Event types delivered (README "Events"). */
  events: jsonb('events').$type<string[]>().notNull(),
  /** `blend` (our JSON), `cloudevents`, `slack` (also Mattermost, Rocket.Chat…), `teams` or `discord`. */
  format: text('format').notNull().default('blend'),
  /** HMAC key for the signature header; shown once when the hook is created. */
  secret: text('secret').notNull(),
  /** Which events it gets besides their type: `{ groups?: slug[], origin?: 'email' | 'esn' }`. */
  filter: jsonb('filter').$type<{ groups?: string[]; origin?: 'email' | 'esn' }>().notNull().default({}),
  active: boolean('active').notNull().default(true),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** One delivery of one event to one webhook, retried by the `webhook` job. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    webhookId: uuid('webhook_id')
      .notNull()
      .references(() => webhooks.id, { onDelete: 'cascade' }),
    event: text('event').notNull(),
    /** The event it delivers (its payload is read from there at each attempt); null for rows from before the events outbox. */
    eventId: uuid('event_id').references(() => events.id, { onDelete: 'cascade' }),
    /** The payload of a row from before the events outbox. */
    payload: jsonb('payload').$type<Record<string, unknown>>(),
    state: text('state').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (t) => [index('webhook_deliveries_state_idx').on(t.state, t.createdAt), index('webhook_deliveries_event_idx').on(t.eventId)],
);

/**
 * The people of a mirrored conversation on the email side: the authors and the To/Cc
 * recipients of its mails who are known people. ESN comments on the thread are mailed to
 * them (when opted in) as replies in the same conversation.
 */
export const threadParticipants = pgTable(
  'thread_participants',
  {
    postId: uuid('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    personId: uuid('person_id')
      .notNull()
      .references(() => people.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.postId, t.personId] }), index('thread_participants_person_idx').on(t.personId)],
);

/** A person who asked for no more mail about one thread (List-Unsubscribe of a thread mail). */
export const threadMutes = pgTable(
  'thread_mutes',
  {
    postId: uuid('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    personId: uuid('person_id')
      .notNull()
      .references(() => people.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.postId, t.personId] })],
);

/**
 * Mail waiting to be sent about activity: immediate notifications (`mention`, `reply`) and
 * corrections of mirrored comments (`correction`). Rows for the same person and thread that
 * are due together become one mail; `due_at` carries the coalescing window and quiet hours.
 */
export const notifications = pgTable(
  'notifications',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    personId: uuid('person_id')
      .notNull()
      .references(() => people.id, { onDelete: 'cascade' }),
    postId: uuid('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    commentId: uuid('comment_id').references(() => comments.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    /** `pending`, `sent` (in the outbox row `outbound_id`) or `dropped` (with the reason). */
    state: text('state').notNull().default('pending'),
    reason: text('reason'),
    dueAt: timestamp('due_at', { withTimezone: true }).notNull(),
    outboundId: uuid('outbound_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('notifications_due_idx').on(t.state, t.dueAt), index('notifications_person_idx').on(t.personId, t.postId)],
);
