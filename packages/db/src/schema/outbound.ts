import { index, integer, jsonb, pgEnum, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { people } from './people';
import { posts } from './posts';

/** `pending` rows are sent by the `send` job; the reconciler re-queues them after a Redis loss. */
export const outboundState = pgEnum('outbound_state', ['pending', 'sent', 'failed', 'bounced', 'cancelled']);

/**
 * Every mail Blend sends, written in the same transaction as the change that caused it
 * (an outbox), and sent by the `send` job. Keyed by its own id and Message-ID, so a
 * retried send is one mail (docs/ARCHITECTURE.md invariant 2).
 */
/** Stored with fillfactor 70 (migration 0036; docs/ARCHITECTURE.md "Storage and WAL"): a claim (`claimed_until`, not indexed) is a heap-only update. */
export const outboundMessages = pgTable(
  'outbound_messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** What the mail is for, e.g. `opt_in_confirm`, `withheld_notice`, `thread_notice`. */
    kind: text('kind').notNull(),
    toAddress: text('to_address').notNull(),
    personId: uuid('person_id').references(() => people.id, { onDelete: 'set null' }),
    postId: uuid('post_id').references(() => posts.id, { onDelete: 'set null' }),
    messageId: text('message_id').notNull().unique(),
    subject: text('subject').notNull(),
    textBody: text('text_body').notNull(),
    htmlBody: text('html_body'),
    inReplyTo: text('in_reply_to'),
    references: jsonb('references').$type<string[]>().notNull().default([]),
    /** RFC 3834 value: `auto-replied` for answers to a mail, else `auto-generated`. */
    autoSubmitted: text('auto_submitted').notNull().default('auto-generated'),
    replyTo: text('reply_to'),
    /** Display name of From, e.g. `Alice Example via Blend`; null = `Blend`. */
    fromName: text('from_name'),
    /** Extra headers: List-Unsubscribe, Precedence, Thread-Index, Thread-Topic. */
    headers: jsonb('headers').$type<Record<string, string>>().notNull().default({}),
    /** The comment a mirrored mail carries, so a later edit or deletion can follow it. */
    commentId: uuid('comment_id'),
    state: outboundState('state').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** A send in progress holds the row until then, so two runs of one job never both send it. */
    claimedUntil: timestamp('claimed_until', { withTimezone: true }),
    lastError: text('last_error'),
    /** At most one mail per key, e.g. one withheld notice per address per week. */
    dedupeKey: text('dedupe_key').unique(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [index('outbound_state_idx').on(t.state, t.createdAt), index('outbound_to_idx').on(t.toAddress), index('outbound_comment_idx').on(t.commentId)],
);

/**
 * Reply-by-email tokens (`reply+TOKEN@DOMAIN`): random, stored only as an HMAC, bound to
 * one person and one thread, expiring and revocable (docs/SECURITY.md 3.1).
 */
export const replyTokens = pgTable(
  'reply_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    personId: uuid('person_id')
      .notNull()
      .references(() => people.id, { onDelete: 'cascade' }),
    postId: uuid('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    outboundId: uuid('outbound_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    uses: integer('uses').notNull().default(0),
    maxUses: integer('max_uses').notNull().default(20),
  },
  (t) => [index('reply_tokens_person_idx').on(t.personId)],
);
