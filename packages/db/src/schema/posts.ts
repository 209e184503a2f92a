import { index, jsonb, pgEnum, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { groups } from './groups';
import { people } from './people';

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
  },
  (t) => [
    index('posts_feed_idx').on(t.createdAt.desc(), t.id.desc()),
    index('posts_group_idx').on(t.groupId),
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
    source: contentSource('source').notNull(),
    dedupeKey: text('dedupe_key').unique(),
    inboundId: uuid('inbound_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    editedAt: timestamp('edited_at', { withTimezone: true }),
  },
  (t) => [index('comments_post_idx').on(t.postId, t.createdAt)],
);
