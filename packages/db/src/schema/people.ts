import { boolean, pgEnum, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** Whether a person's mail may be mirrored. Only `opted_in` authors are ever published. */
export const optInState = pgEnum('opt_in_state', ['pending', 'opted_in', 'opted_out']);

export const people = pgTable('people', {
  id: uuid('id').primaryKey().defaultRandom(),
  /** Canonical addr-spec (lower-case); identity lookups are exact matches on this. */
  email: text('email').notNull().unique(),
  name: text('name').notNull().default(''),
  optIn: optInState('opt_in').notNull().default('pending'),
  optInChangedAt: timestamp('opt_in_changed_at', { withTimezone: true }),
  isAdmin: boolean('is_admin').notNull().default(false),
  /** Digest frequency chosen by mail command or preferences: off, hourly, daily, weekly. */
  digestFrequency: text('digest_frequency').notNull().default('daily'),
  /** Local time of day for digests, `HH:MM`, in `timezone`. */
  digestTime: text('digest_time').notNull().default('08:00'),
  /** IANA time zone name, e.g. `Europe/Berlin`. */
  timezone: text('timezone').notNull().default('UTC'),
  notifyMentions: boolean('notify_mentions').notNull().default(true),
  notifyReplies: boolean('notify_replies').notNull().default(true),
  /** Send a receipt after each published mail (issue: publish receipts). */
  receipts: boolean('receipts').notNull().default(true),
  /** Set after repeated hard bounces: no more mail is sent to this address until cleared. */
  mailPausedAt: timestamp('mail_paused_at', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** API bearer tokens. Only the SHA-256 of a token is stored, so a database leak cannot be replayed. */
export const apiTokens = pgTable('api_tokens', {
  id: uuid('id').primaryKey().defaultRandom(),
  personId: uuid('person_id')
    .notNull()
    .references(() => people.id, { onDelete: 'cascade' }),
  tokenHash: text('token_hash').notNull().unique(),
  label: text('label').notNull().default(''),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});
