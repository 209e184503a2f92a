import { boolean, check, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';

/**
 * Mailboxes watched besides BLEND_IMAP_URL, added with `blend mailbox add`. Every poller
 * re-reads this table every BLEND_MAILBOX_REFRESH_MS and starts, restarts or stops its
 * watchers to match; inbound rows and checkpoints are keyed by `key`, and stay when a
 * mailbox is removed.
 */
export const watchedMailboxes = pgTable(
  'watched_mailboxes',
  {
    /** `imap://user@host:port/folder`, never the password: the key of checkpoints, leases and inbound rows. */
    key: text('key').primaryKey(),
    /** The mailbox URL without its password, as IT gave it. */
    url: text('url').notNull(),
    /**
     * The login secret, AES-256-GCM under a key derived from BLEND_SECRET (core `sealSecret`), bound
     * to `key`: the IMAP password, or with `auth = oauth2` the JSON of the OAuth 2.0 client settings
     * (token URL, client id and secret or refresh token…).
     */
    passwordSealed: text('password_sealed').notNull(),
    /** How the poller logs in: `password`, or `oauth2` (an access token, SASL XOAUTH2/OAUTHBEARER). */
    auth: text('auth').notNull().default('password'),
    enabled: boolean('enabled').notNull().default(true),
    /** `flag`, `move:FOLDER` or `delete` once an ingest has committed; null follows BLEND_IMAP_AFTER. */
    after: text('after'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('watched_mailboxes_after_ck', sql`${t.after} is null or ${t.after} in ('flag', 'delete') or ${t.after} like 'move:_%'`),
    check('watched_mailboxes_auth_ck', sql`${t.auth} in ('password', 'oauth2')`),
  ],
);
