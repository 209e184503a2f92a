import { and, asc, eq, ilike, or, sql } from 'drizzle-orm';
import type { Tx } from '../client';
import { people } from '../schema';

/** A person as the composer's `@` suggestions show them. */
export interface PersonSuggestion {
  id: string;
  name: string;
  email: string;
}

/** `%`, `_` and `\` taken literally in a LIKE pattern. */
const likeLiteral = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * People whose name (any word of it) or address starts with `q`, for `@` mentions. Only people
 * who opted in: their names are on the ESN already, while a person who has not agreed to take
 * part is not listed to anyone (docs/SECURITY.md B44).
 * @param limit @defaultValue 8
 */
export async function suggestPeople(db: Tx, q: string, limit = 8): Promise<PersonSuggestion[]> {
  const term = likeLiteral(q.trim().replace(/^@/, '').toLowerCase());
  if (term === '') return [];
  return db
    .select({ id: people.id, name: people.name, email: people.email })
    .from(people)
    .where(and(eq(people.optIn, 'opted_in'), or(ilike(people.email, `${term}%`), ilike(people.name, `${term}%`), ilike(people.name, `% ${term}%`))))
    .orderBy(asc(sql`lower(${people.name})`), asc(people.email))
    .limit(limit);
}
