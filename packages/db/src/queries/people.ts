import { eq, sql } from 'drizzle-orm';
import type { Tx } from '../client';
import { optInEvents, people } from '../schema';
import { preparedQuery } from './raw-statement';

export type Person = typeof people.$inferSelect;

/** Create a person, or update name/opt-in/admin of the existing one with that address. */
export async function upsertPerson(
  db: Tx,
  p: { email: string; name?: string; optIn?: boolean; isAdmin?: boolean; digestFrequency?: string; via?: 'cli' | 'import' | 'mail' | 'api' | 'admin' },
): Promise<{ person: Person; created: boolean }> {
  const email = p.email.toLowerCase();
  const existing = await db.query.people.findFirst({ where: eq(people.email, email) });
  if (!existing) {
    const [person] = await db
      .insert(people)
      .values({
        email,
        name: p.name ?? '',
        optIn: p.optIn ? 'opted_in' : 'pending',
        optInChangedAt: p.optIn ? new Date() : null,
        isAdmin: p.isAdmin ?? false,
        ...(p.digestFrequency ? { digestFrequency: p.digestFrequency } : {}),
      })
      .returning();
    if (p.optIn) await db.insert(optInEvents).values({ personId: person!.id, state: 'opted_in', via: p.via ?? 'admin' });
    return { person: person!, created: true };
  }
  const changes: Partial<typeof people.$inferInsert> = {};
  if (p.name !== undefined) changes.name = p.name;
  if (p.optIn && existing.optIn !== 'opted_in') Object.assign(changes, { optIn: 'opted_in', optInChangedAt: new Date() });
  if (p.isAdmin !== undefined) changes.isAdmin = p.isAdmin;
  if (p.digestFrequency !== undefined) Object.assign(changes, { digestFrequency: p.digestFrequency, nextDigestAt: null });
  if (Object.keys(changes).length === 0) return { person: existing, created: false };
  const [person] = await db.update(people).set(changes).where(eq(people.id, existing.id)).returning();
  if (changes.optIn) await db.insert(optInEvents).values({ personId: existing.id, state: 'opted_in', via: p.via ?? 'admin' });
  return { person: person!, created: false };
}

export async function findPersonByEmail(db: Tx, email: string): Promise<Person | undefined> {
  return personByEmailStatement(db, { email: email.toLowerCase() });
}

/** {@link findPersonByEmail}'s statement: once per ingested mail, so built once and named. */
const personByEmailStatement = preparedQuery('blend_person_by_email', (tx) => tx.query.people.findFirst({ where: eq(people.email, sql.placeholder('email')) }));

export async function findPersonById(db: Tx, id: string): Promise<Person | undefined> {
  return db.query.people.findFirst({ where: eq(people.id, id) });
}
