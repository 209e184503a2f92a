import { createHash, randomBytes } from 'node:crypto';
import { and, eq, getTableColumns, isNull, sql } from 'drizzle-orm';
import type { Database, Tx } from '../client';
import { apiTokens, optInEvents, people } from '../schema';
import { rawStatement } from './raw-statement';

export type Person = typeof people.$inferSelect;

/** SHA-256 of a bearer token, hex: the only form of a token that is stored. */
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

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
  return db.query.people.findFirst({ where: eq(people.email, email.toLowerCase()) });
}

/** Issue a new API bearer token for a person; the plaintext is returned once and never stored. */
export async function issueApiToken(db: Tx, personId: string, label = ''): Promise<string> {
  const token = `blend_${randomBytes(32).toString('base64url')}`;
  await db.insert(apiTokens).values({ personId, tokenHash: hashToken(token), label });
  return token;
}

const tokenQuery = (db: Database) => {
  const columns = getTableColumns(people);
  const query = db
    .select(columns)
    .from(apiTokens)
    .innerJoin(people, eq(people.id, apiTokens.personId))
    .where(and(eq(apiTokens.tokenHash, sql.placeholder('hash')), isNull(apiTokens.revokedAt)))
    .limit(1);
  return rawStatement<Person>(db, 'person_for_token', query, Object.keys(columns) as (keyof Person)[]);
};
const tokenQueries = new WeakMap<Database, ReturnType<typeof tokenQuery>>();

/**
 * The person a bearer token belongs to, if the token is known and not revoked. Every API
 * request asks, so the query is prepared once per database handle (see {@link rawStatement}).
 */
export async function personForToken(db: Database, token: string): Promise<Person | undefined> {
  let q = tokenQueries.get(db);
  if (!q) tokenQueries.set(db, (q = tokenQuery(db)));
  const rows = await q.execute({ hash: hashToken(token) });
  return rows[0];
}
