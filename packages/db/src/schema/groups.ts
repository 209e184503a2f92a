import { check, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { people } from './people';

/** A group of the feed. Its inbound address is `<slug>@BLEND_MAIL_DOMAIN` (`MAILBOX+<slug>@DOMAIN` with BLEND_ADDRESSING=plus). */
export const groups = pgTable('groups', {
  id: uuid('id').primaryKey().defaultRandom(),
  slug: text('slug').notNull().unique(),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  /** `private`: only members see its posts and may mail it (docs/SECURITY.md, private groups). */
  visibility: text('visibility', { enum: ['public', 'private'] }).notNull().default('public'),
  /** Set when archived: read-only, mail to it is refused with a receipt. */
  archivedAt: timestamp('archived_at', { withTimezone: true }),
  /** Who made it (may manage it besides admins); null for groups made by mail or the CLI. */
  ownerId: uuid('owner_id').references(() => people.id, { onDelete: 'set null' }),
}, (t) => [check('groups_visibility_check', sql`${t.visibility} in ('public', 'private')`)]);
