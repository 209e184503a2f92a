import { boolean, index, integer, pgEnum, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

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
  /**
   * Receipts after published mail. On by default for a person's first few published mails
   * only; once the person sets it (`receiptsExplicit`), it applies to every mail.
   */
  receipts: boolean('receipts').notNull().default(true),
  receiptsExplicit: boolean('receipts_explicit').notNull().default(false),
  /** Day of the week of weekly digests, 1 = Monday … 7 = Sunday (ISO). */
  digestWeekday: integer('digest_weekday').notNull().default(1),
  /** When the last digest was built: the next one covers activity after this. */
  lastDigestAt: timestamp('last_digest_at', { withTimezone: true }),
  /** When the next digest is due; null = to be computed from the preferences. */
  nextDigestAt: timestamp('next_digest_at', { withTimezone: true }),
  /** Quiet hours (local `HH:MM`, may wrap midnight): notifications wait until they end. Equal = none. */
  quietStart: text('quiet_start').notNull().default('22:00'),
  quietEnd: text('quiet_end').notNull().default('07:00'),
  /** Language of Blend's mail and pages for this person (core LANGUAGES); null = the organisation's default. */
  language: text('language'),
  /** Set after repeated hard bounces: no more mail is sent to this address until cleared. */
  mailPausedAt: timestamp('mail_paused_at', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (t) => [index('people_next_digest_idx').on(t.nextDigestAt)]);

/**
 * API bearer tokens. Only the SHA-256 of a token is stored, so a database leak cannot be replayed.
 * A token works until it is revoked or its optional expiry passes (docs/SECURITY.md S2).
 */
export const apiTokens = pgTable('api_tokens', {
  id: uuid('id').primaryKey().defaultRandom(),
  personId: uuid('person_id')
    .notNull()
    .references(() => people.id, { onDelete: 'cascade' }),
  tokenHash: text('token_hash').notNull().unique(),
  /** What the person called it ("laptop script", "cli"), shown in their list of tokens. */
  name: text('name').notNull().default(''),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  /** Set when a request used it, at most once a minute. */
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  /** After this the token is refused like an unknown one; null = until revoked. */
  expiresAt: timestamp('expires_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
}, (t) => [index('api_tokens_person_idx').on(t.personId)]);

/**
 * Web sessions: one row per signed-in browser. The cookie holds a random secret; only its
 * SHA-256 is stored. A session ends when it has been idle too long, at its absolute expiry,
 * or when revoked (sign-out, or revoking the API token it was opened with): docs/SECURITY.md S1.
 */
export const webSessions = pgTable('web_sessions', {
  id: uuid('id').primaryKey().defaultRandom(),
  secretHash: text('secret_hash').notNull().unique(),
  personId: uuid('person_id')
    .notNull()
    .references(() => people.id, { onDelete: 'cascade' }),
  /** How the person signed in: `token` (the login form) or `oidc` (single sign-on). */
  via: text('via').notNull(),
  /** The API token used at sign-in: revoking it ends this session too. */
  apiTokenId: uuid('api_token_id').references(() => apiTokens.id, { onDelete: 'cascade' }),
  /** A short description of the browser, for the person's list of sessions. */
  userAgent: text('user_agent').notNull().default(''),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
  /** Absolute end, whatever the activity. */
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
}, (t) => [index('web_sessions_person_idx').on(t.personId)]);
