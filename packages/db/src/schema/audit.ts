import { index, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { people } from './people';

/**
 * Opt-in history: who changed a person's state, when and how. Kept when a person's
 * content is erased (it holds no content).
 */
export const optInEvents = pgTable(
  'opt_in_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    personId: uuid('person_id')
      .notNull()
      .references(() => people.id, { onDelete: 'cascade' }),
    state: text('state').notNull(),
    /** `cli`, `import`, `mail`, `api`, `admin`. */
    via: text('via').notNull(),
    actorId: uuid('actor_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('opt_in_events_person_idx').on(t.personId, t.createdAt)],
);

/** Admin actions (erasure, replays, key rotation). Never purged by retention. */
export const auditLog = pgTable('audit_log', {
  id: uuid('id').primaryKey().defaultRandom(),
  action: text('action').notNull(),
  actor: text('actor').notNull(),
  subject: text('subject'),
  detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** A participant who asked not to have their replies mirrored in one thread. */
export const threadOptOuts = pgTable(
  'thread_opt_outs',
  {
    postId: uuid('post_id').notNull(),
    address: text('address').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.postId, t.address] })],
);
