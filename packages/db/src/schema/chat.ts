import { index, pgTable, primaryKey, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { people } from './people';
import { comments, posts } from './posts';

/**
 * Who a chat account is: an account in an organisation's chat tool (Slack user id, Mattermost
 * or Rocket.Chat user id) linked to a Blend person by IT (`blend people link`). Only linked
 * accounts can comment from the chat tool (docs/SECURITY.md B36).
 */
export const chatIdentities = pgTable(
  'chat_identities',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    personId: uuid('person_id')
      .notNull()
      .references(() => people.id, { onDelete: 'cascade' }),
    /** `slack`, `mattermost` or `rocketchat`. */
    tool: text('tool').notNull(),
    /** The account's id in that tool, as its payloads name it (Slack `U…`, Mattermost `user_id`). */
    externalId: text('external_id').notNull(),
    /** Who linked it (`cli:USER`). */
    linkedBy: text('linked_by').notNull().default(''),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique('chat_identities_uq').on(t.tool, t.externalId), index('chat_identities_person_idx').on(t.personId)],
);

/**
 * A thread in a chat tool that mirrors a Blend thread: the message Blend's webhook posted there
 * (Slack: channel and `ts`; Rocket.Chat: room and message id), learnt when the tool tells Blend
 * about that message (docs/ARCHITECTURE.md "Chat tools").
 */
export const chatThreads = pgTable(
  'chat_threads',
  {
    tool: text('tool').notNull(),
    /** Where the message is: Slack `TEAM/CHANNEL`, Rocket.Chat room id. */
    space: text('space').notNull(),
    /** The message that starts the thread: Slack `ts`, Rocket.Chat message id. */
    threadId: text('thread_id').notNull(),
    postId: uuid('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tool, t.space, t.threadId] }), index('chat_threads_post_idx').on(t.postId)],
);

/**
 * Every chat message that reached a thread and what became of it: `commented`, or `withheld`
 * with a reason (`unknown_author`, `not_opted_in`, `opted_out`), as inbound mail is recorded.
 * Unique per tool and event, so a retried delivery is a duplicate, never a second comment.
 * The text of a withheld message is not kept.
 */
export const chatInbound = pgTable(
  'chat_inbound',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tool: text('tool').notNull(),
    /** The delivery's own id: Slack `event_id`, Mattermost `post_id`, Rocket.Chat `message_id`, the generic `id`. */
    eventKey: text('event_key').notNull(),
    /** The author as the tool named them (account id, or an e-mail address on the generic endpoint). */
    authorRef: text('author_ref').notNull(),
    personId: uuid('person_id').references(() => people.id, { onDelete: 'set null' }),
    postId: uuid('post_id').references(() => posts.id, { onDelete: 'set null' }),
    commentId: uuid('comment_id').references(() => comments.id, { onDelete: 'set null' }),
    state: text('state').notNull(),
    reason: text('reason'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique('chat_inbound_event_uq').on(t.tool, t.eventKey), index('chat_inbound_received_idx').on(t.receivedAt)],
);
