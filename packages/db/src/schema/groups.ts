import { pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** A group of the feed. Its inbound address is `<slug>@BLEND_MAIL_DOMAIN` (`MAILBOX+<slug>@DOMAIN` with BLEND_ADDRESSING=plus). */
export const groups = pgTable('groups', {
  id: uuid('id').primaryKey().defaultRandom(),
  slug: text('slug').notNull().unique(),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
