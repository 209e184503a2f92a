import { sql } from 'drizzle-orm';
import { boolean, customType, index, integer, jsonb, pgEnum, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { groups } from './groups';
import { people } from './people';

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

export const contentSource = pgEnum('content_source', ['email', 'esn']);

export const posts = pgTable(
  'posts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    groupId: uuid('group_id')
      .notNull()
      .references(() => groups.id),
    authorId: uuid('author_id')
      .notNull()
      .references(() => people.id),
    title: text('title').notNull(),
    bodyText: text('body_text').notNull(),
    bodyHtml: text('body_html').notNull(),
    /** What extraction cut from the mail (quotes, signature, footers), redacted; null when nothing. Shown to its author only. */
    trimmedText: text('trimmed_text'),
    source: contentSource('source').notNull(),
    /** Unique per email (normalised Message-ID or content hash): one post per email. */
    dedupeKey: text('dedupe_key').unique(),
    inboundId: uuid('inbound_id'),
    /** Normalised subject, for the subject-plus-participants threading fallback. */
    subjectKey: text('subject_key').notNull().default(''),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /** Retracted by its author or un-mirrored by the sharer: the row stays as a tombstone. */
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    editedAt: timestamp('edited_at', { withTimezone: true }),
    /** The forwarded message shared with the post, shown apart from the note (issue 3). */
    /** Outlook `Thread-Index` of the thread's first mail (base64), so our replies keep Outlook's conversation. */
    threadIndex: text('thread_index'),
    forwarded: jsonb('forwarded').$type<{ from: string; date: string | null; subject: string; text: string }[]>(),
    /** Hidden by an admin (docs/SECURITY.md, moderation): `deletedAt` is set too, the content stays for the author and a restore. */
    hiddenAt: timestamp('hidden_at', { withTimezone: true }),
    hiddenBy: uuid('hidden_by'),
    hiddenReason: text('hidden_reason'),
  },
  (t) => [
    // In the order of the feed's `order by created_at desc, id desc`, which is NULLS FIRST:
    // an index declared DESC NULLS LAST (drizzle's `.desc()`) cannot serve that order, though
    // both columns are NOT NULL, and every feed page was a sort of the whole table.
    index('posts_feed_idx').on(t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    // A group's or an author's page of the feed, read in order from the index (and the
    // foreign-key lookups on group_id and author_id).
    index('posts_group_idx').on(t.groupId, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('posts_author_idx').on(t.authorId, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('posts_thread_index_idx').on(t.threadIndex),
    index('posts_subject_key_idx').on(t.subjectKey, t.createdAt),
  ],
);

export const comments = pgTable(
  'comments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    postId: uuid('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    authorId: uuid('author_id')
      .notNull()
      .references(() => people.id),
    bodyText: text('body_text').notNull(),
    bodyHtml: text('body_html').notNull(),
    /** As on posts: what extraction cut from the mail; shown to its author only. */
    trimmedText: text('trimmed_text'),
    source: contentSource('source').notNull(),
    dedupeKey: text('dedupe_key').unique(),
    inboundId: uuid('inbound_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    editedAt: timestamp('edited_at', { withTimezone: true }),
    /** As on posts: hidden by an admin, `deletedAt` set too. */
    hiddenAt: timestamp('hidden_at', { withTimezone: true }),
    hiddenBy: uuid('hidden_by'),
    hiddenReason: text('hidden_reason'),
    /** The post's group, kept by triggers (migration 0031) for search within a group; never written by Blend. */
    groupId: uuid('group_id'),
  },
  (t) => [
    // A thread's comments in time order.
    index('comments_post_idx').on(t.postId, t.createdAt, t.id),
    // Those not retracted: counted for every post of a feed page from the index alone, and read
    // backwards for its latest few.
    index('comments_visible_idx').on(t.postId, t.createdAt, t.id).where(sql`deleted_at is null`),
  ],
);

/** Attachment contents, stored once per SHA-256 whatever how many mails carry them. */
export const attachmentBlobs = pgTable('attachment_blobs', {
  sha256: text('sha256').primaryKey(),
  content: bytea('content').notNull(),
  size: integer('size').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * A file that came with a mail, listed on its post (or comment). `sha256` is null when the
 * file was not stored (`omitted` says why, e.g. `too_large`); `note` explains special files
 * such as Outlook's winmail.dat.
 */
export const attachments = pgTable(
  'attachments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    postId: uuid('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    commentId: uuid('comment_id').references(() => comments.id, { onDelete: 'cascade' }),
    sha256: text('sha256').references(() => attachmentBlobs.sha256),
    filename: text('filename').notNull(),
    /** As the mail declared it; never used as the served type without checking. */
    declaredType: text('declared_type').notNull(),
    size: integer('size').notNull(),
    /** Shown in the message body (a `cid:` image) rather than attached. */
    inline: boolean('inline').notNull().default(false),
    omitted: text('omitted'),
    note: text('note'),
    /** Order within the mail. */
    position: integer('position').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('attachments_post_idx').on(t.postId), index('attachments_sha_idx').on(t.sha256)],
);

/**
 * A post that became a comment of another thread: an early reply adopted by its parent
 * (`adopted`), or a thread a later mail proved to be part of an earlier one (`merged`). Links
 * to the merged post follow it to the survivor (docs/ARCHITECTURE.md "Threads and merges").
 */
export const postMerges = pgTable(
  'post_merges',
  {
    /** The post that no longer exists (no foreign key: its row is gone). */
    mergedPostId: uuid('merged_post_id').primaryKey(),
    /** Where it lives now; a later merge of the survivor moves this along, so links take one hop. */
    survivingPostId: uuid('surviving_post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    /** The comment the merged post's own text became. */
    commentId: uuid('comment_id').references(() => comments.id, { onDelete: 'set null' }),
    /** `adopted` or `merged`. */
    kind: text('kind').notNull(),
    /** The inbound mail whose conversion caused it. */
    inboundId: uuid('inbound_id'),
    mergedAt: timestamp('merged_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('post_merges_surviving_idx').on(t.survivingPostId)],
);

/** A reader's report of a post or comment (comment null: the post); one open report per reader and item. */
export const reports = pgTable(
  'reports',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    reporterId: uuid('reporter_id')
      .notNull()
      .references(() => people.id, { onDelete: 'cascade' }),
    postId: uuid('post_id')
      .notNull()
      .references(() => posts.id, { onDelete: 'cascade' }),
    commentId: uuid('comment_id').references(() => comments.id, { onDelete: 'cascade' }),
    reason: text('reason').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
    resolvedBy: uuid('resolved_by'),
    /** `hidden` or `dismissed`. */
    resolution: text('resolution'),
  },
  (t) => [index('reports_open_idx').on(t.createdAt).where(sql`resolved_at is null`)],
);
