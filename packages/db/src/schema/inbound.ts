import { sql } from 'drizzle-orm';
import { bigint, customType, index, integer, pgEnum, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { comments, posts } from './posts';

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/**
 * Where an inbound message is in its life. `received` is the only non-terminal state;
 * the reconciler re-enqueues every `received` row, so Redis can be lost without losing mail.
 */
export const inboundState = pgEnum('inbound_state', [
  'received',
  'posted',
  'commented',
  'command',
  'withheld',
  'rejected',
  'failed',
  'duplicate',
  'held',
  'liked',
]);

/**
 * Stored with fillfactor 50 (migration 0036; docs/ARCHITECTURE.md "Storage and WAL"): the attempt
 * and IMAP-flag updates are heap-only, so no column they set may be indexed.
 */
export const inboundMessages = pgTable(
  'inbound_messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** The watched mailbox, `imap://user@host:port/folder` (never the password). */
    mailbox: text('mailbox').notNull(),
    uidValidity: bigint('uid_validity', { mode: 'number' }).notNull(),
    uid: bigint('uid', { mode: 'number' }).notNull(),
    /** RFC822.SIZE reported by the server. */
    size: integer('size').notNull(),
    /** The message as fetched; null when it was never downloaded (too large) or after retention. */
    raw: bytea('raw'),
    messageId: text('message_id'),
    dedupeKey: text('dedupe_key'),
    state: inboundState('state').notNull().default('received'),
    /** Stable reason code for every non-success state, e.g. `too_large`, `sender_unknown`. */
    reason: text('reason'),
    attempts: integer('attempts').notNull().default(0),
    postId: uuid('post_id').references(() => posts.id, { onDelete: 'set null' }),
    commentId: uuid('comment_id').references(() => comments.id, { onDelete: 'set null' }),
    duplicateOf: uuid('duplicate_of'),
    /** Canonical From address (kept for withheld/held mail so it can be released on opt-in). */
    fromAddress: text('from_address'),
    /** Decoded subject, control characters removed, for IT's listings. */
    subject: text('subject'),
    /** When the sharer confirmed a thread held for external participants. */
    confirmedAt: timestamp('confirmed_at', { withTimezone: true }),
    /** When a mail held for a rate limit was sent back to the pipeline: its rate is judged then, not at arrival. */
    releasedAt: timestamp('released_at', { withTimezone: true }),
    internalDate: timestamp('internal_date', { withTimezone: true }),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    processedAt: timestamp('processed_at', { withTimezone: true }),
    /** When the IMAP message was flagged as done; only after the ingest committed. */
    imapMarkedAt: timestamp('imap_marked_at', { withTimezone: true }),
  },
  (t) => [
    unique('inbound_mailbox_uid_uq').on(t.mailbox, t.uidValidity, t.uid),
    index('inbound_state_idx').on(t.state, t.receivedAt),
    index('inbound_dedupe_idx').on(t.dedupeKey),
    index('inbound_message_id_idx').on(t.messageId),
    // The rate windows count by arrival, coalesce(internal_date, received_at): the sender's and the
    // organisation's read only the window's rows (migration 0038).
    index('inbound_from_idx').on(t.fromAddress, sql`coalesce(${t.internalDate}, ${t.receivedAt})`),
    index('inbound_post_idx').on(t.postId),
    index('inbound_arrived_idx').on(sql`coalesce(${t.internalDate}, ${t.receivedAt})`),
    // The withheld replies of a post, counted on every post of a feed page: read from this small
    // index alone, where inbound_post_idx led to every mail of the thread.
    index('inbound_withheld_idx').on(t.postId).where(sql`state = 'withheld'`),
  ],
);

/** Per-mailbox IMAP cursor. It never passes a UID that has no inbound row. */
export const mailboxCheckpoints = pgTable('mailbox_checkpoints', {
  mailbox: text('mailbox').primaryKey(),
  uidValidity: bigint('uid_validity', { mode: 'number' }).notNull(),
  lastUid: bigint('last_uid', { mode: 'number' }).notNull(),
  /**
   * How many times IT moved the cursor back (`blend mailbox backfill`). A poller advances the
   * cursor only if this is still what it read before fetching, so a sync in flight cannot
   * undo a rewind.
   */
  rewinds: integer('rewinds').notNull().default(0),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Message-ID -> post/comment. Every mail that became part of a thread, and later every
 * mail Blend sends, is recorded here so that replies find their thread.
 */
export const messageRefs = pgTable(
  'message_refs',
  {
    messageId: text('message_id').primaryKey(),
    postId: uuid('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    commentId: uuid('comment_id').references(() => comments.id, { onDelete: 'cascade' }),
    inboundId: uuid('inbound_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('message_refs_post_idx').on(t.postId)],
);

/**
 * Who polls a mailbox. The holder renews `expires_at` every few seconds; when it dies,
 * another poller takes over once the lease has expired (times on the database clock).
 */
export const mailboxLeases = pgTable('mailbox_leases', {
  mailbox: text('mailbox').primaryKey(),
  holder: text('holder').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  acquiredAt: timestamp('acquired_at', { withTimezone: true }).notNull().defaultNow(),
  /** The holder's IMAP connection state as of its last renewal (`connected`, `auth_failed`, …). */
  state: text('state'),
  /** The holder's last IMAP error, if any (never a password). */
  lastError: text('last_error'),
  /** When the holder last finished a sync of the mailbox. */
  lastSyncAt: timestamp('last_sync_at', { withTimezone: true }),
});

/**
 * Poller processes alive now, leases held or not: each writes its row every few seconds, so
 * the pollers can share the mailboxes out evenly (a standby holds no lease to be seen by).
 */
export const pollerProcesses = pgTable('poller_processes', {
  holder: text('holder').primaryKey(),
  seenAt: timestamp('seen_at', { withTimezone: true }).notNull().defaultNow(),
});
