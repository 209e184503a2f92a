import { asc, eq, sql } from 'drizzle-orm';
import type { Tx } from '../client';
import { people } from '../schema';
import { preparedQuery } from './raw-statement';

export const DIGEST_FREQUENCIES = ['off', 'hourly', 'daily', 'weekly'] as const;
export type DigestFrequency = (typeof DIGEST_FREQUENCIES)[number];

/** A person's mail preferences, as the API shows them. */
export interface Preferences {
  digest_frequency: string;
  digest_time: string;
  timezone: string;
  notify_mentions: boolean;
  notify_replies: boolean;
  receipts: boolean;
  /** Weekly digests go out on this ISO weekday (1 = Monday). */
  digest_weekday: number;
  /** Quiet hours, local `HH:MM`; equal values mean none. */
  quiet_start: string;
  quiet_end: string;
  /** Language of mail and pages; null = the organisation's default. */
  language: string | null;
}

const prefColumns = {
  digestFrequency: people.digestFrequency,
  digestTime: people.digestTime,
  timezone: people.timezone,
  notifyMentions: people.notifyMentions,
  notifyReplies: people.notifyReplies,
  receipts: people.receipts,
  digestWeekday: people.digestWeekday,
  quietStart: people.quietStart,
  quietEnd: people.quietEnd,
  language: people.language,
};

type PrefRow = { [K in keyof typeof prefColumns]: (typeof people.$inferSelect)[K] };

const toPreferences = (r: PrefRow): Preferences => ({
  digest_frequency: r.digestFrequency,
  digest_time: r.digestTime,
  timezone: r.timezone,
  notify_mentions: r.notifyMentions,
  notify_replies: r.notifyReplies,
  receipts: r.receipts,
  digest_weekday: r.digestWeekday,
  quiet_start: r.quietStart,
  quiet_end: r.quietEnd,
  language: r.language,
});

export async function getPreferences(db: Tx, personId: string): Promise<Preferences | undefined> {
  const [row] = await db.select(prefColumns).from(people).where(eq(people.id, personId)).limit(1);
  return row ? toPreferences(row) : undefined;
}

/** Change some preferences (values already validated); @returns all of them afterwards. */
export async function updatePreferences(db: Tx, personId: string, changes: Partial<Preferences>): Promise<Preferences | undefined> {
  const set: Partial<typeof people.$inferInsert> = {
    ...(changes.digest_frequency !== undefined ? { digestFrequency: changes.digest_frequency } : {}),
    ...(changes.digest_time !== undefined ? { digestTime: changes.digest_time } : {}),
    ...(changes.timezone !== undefined ? { timezone: changes.timezone } : {}),
    ...(changes.notify_mentions !== undefined ? { notifyMentions: changes.notify_mentions } : {}),
    ...(changes.notify_replies !== undefined ? { notifyReplies: changes.notify_replies } : {}),
    ...(changes.receipts !== undefined ? { receipts: changes.receipts, receiptsExplicit: true } : {}),
    ...(changes.digest_weekday !== undefined ? { digestWeekday: changes.digest_weekday } : {}),
    ...(changes.quiet_start !== undefined ? { quietStart: changes.quiet_start } : {}),
    ...(changes.quiet_end !== undefined ? { quietEnd: changes.quiet_end } : {}),
    ...(changes.language !== undefined ? { language: changes.language } : {}),
  };
  // A changed schedule is recomputed by the next digest tick.
  const schedule = ['digest_frequency', 'digest_time', 'timezone', 'digest_weekday'] as const;
  if (schedule.some((k) => changes[k] !== undefined)) set.nextDigestAt = null;
  if (Object.keys(set).length === 0) return getPreferences(db, personId);
  const [row] = await db.update(people).set(set).where(eq(people.id, personId)).returning(prefColumns);
  return row ? toPreferences(row) : undefined;
}

export interface PersonListing {
  id: string;
  email: string;
  name: string;
  opt_in: 'pending' | 'opted_in' | 'opted_out';
  opt_in_changed_at: string | null;
  admin: boolean;
  mail_paused: boolean;
}

/** People for IT, by email: identity, opt-in state and role only. */
export async function listPeopleForAdmin(db: Tx, opts: { limit: number }): Promise<PersonListing[]> {
  const rows = await db.select().from(people).orderBy(asc(people.email)).limit(opts.limit);
  return rows.map((p) => ({
    id: p.id,
    email: p.email,
    name: p.name,
    opt_in: p.optIn,
    opt_in_changed_at: p.optInChangedAt?.toISOString() ?? null,
    admin: p.isAdmin,
    mail_paused: p.mailPausedAt !== null,
  }));
}

/** Digests off (one-click unsubscribe). */
export async function turnDigestsOff(db: Tx, personId: string): Promise<void> {
  await db.update(people).set({ digestFrequency: 'off', nextDigestAt: null }).where(eq(people.id, personId));
}

/**
 * The chosen language of each address that belongs to a person (null: the organisation's
 * default); addresses of no one are absent. For mail to several people at once.
 */
export async function languagesByEmail(db: Tx, emails: string[]): Promise<Map<string, string | null>> {
  if (emails.length === 0) return new Map();
  const rows = await languagesByEmailStatement(db, { emails: emails.map((e) => e.toLowerCase()) });
  return new Map(rows.map((r) => [r.email, r.language]));
}

/** {@link languagesByEmail}'s statement for any number of addresses (once per mail that notifies people): built once, named. */
const languagesByEmailStatement = preparedQuery('blend_languages_by_email', (tx) =>
  tx
    .select({ email: people.email, language: people.language })
    .from(people)
    .where(sql`${people.email} = any(${sql.placeholder('emails')}::text[])`),
);
