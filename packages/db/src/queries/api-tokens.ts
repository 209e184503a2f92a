import { createHash, randomBytes } from 'node:crypto';
import { and, desc, eq, getTableColumns, isNull, or, sql } from 'drizzle-orm';
import type { Database, Tx } from '../client';
import { apiTokens, auditLog, people, webSessions } from '../schema';
import type { Person } from './people';
import { rawStatement } from './raw-statement';

/** SHA-256 of a bearer token or session secret, hex: the only form of either that is stored. */
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** A token as its owner and admins see it: never the token itself, which is shown once. */
export interface ApiTokenInfo {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
}

/** `last_used_at` is written at most this often per token, so a busy client costs no write per request. */
const TOUCH_EVERY_MS = 60_000;

/**
 * Create an API bearer token for a person. The plaintext is returned once and never stored.
 * `expiresInDays` counts from the database's clock (docs/SECURITY.md F23). `notAfterToken`: the
 * token the request came with (directly or through the web session it opened); the new token
 * expires no later than that one, so an expiring token cannot mint one that lives for ever.
 */
export async function createApiToken(
  db: Tx,
  personId: string,
  opts: { name?: string; expiresInDays?: number; notAfterToken?: string } = {},
): Promise<{ token: string; info: ApiTokenInfo }> {
  const token = `blend_${randomBytes(32).toString('base64url')}`;
  const asked = opts.expiresInDays === undefined ? sql`null::timestamptz` : sql`now() + make_interval(days => ${opts.expiresInDays})`;
  const expiresAt = opts.notAfterToken
    ? sql`(select case when p.expires_at is null then ${asked} else least(coalesce(${asked}, 'infinity'), p.expires_at) end from ${apiTokens} p where p.id = ${opts.notAfterToken})`
    : asked;
  const [row] = await db
    .insert(apiTokens)
    .values({ personId, tokenHash: hashToken(token), name: opts.name ?? '', expiresAt })
    .returning({ id: apiTokens.id, name: apiTokens.name, createdAt: apiTokens.createdAt, lastUsedAt: apiTokens.lastUsedAt, expiresAt: apiTokens.expiresAt });
  return { token, info: row! };
}

/** Issue a new API bearer token (no expiry); the plaintext is returned once and never stored. */
export async function issueApiToken(db: Tx, personId: string, name = ''): Promise<string> {
  return (await createApiToken(db, personId, { name })).token;
}

const tokenQuery = (db: Database) => {
  const columns = getTableColumns(people);
  const query = db
    .select({ ...columns, tokenId: apiTokens.id, tokenLastUsedAt: apiTokens.lastUsedAt })
    .from(apiTokens)
    .innerJoin(people, eq(people.id, apiTokens.personId))
    .where(
      and(
        eq(apiTokens.tokenHash, sql.placeholder('hash')),
        isNull(apiTokens.revokedAt),
        or(isNull(apiTokens.expiresAt), sql`${apiTokens.expiresAt} > now()`),
      ),
    )
    .limit(1);
  type Row = Person & { tokenId: string; tokenLastUsedAt: Date | null };
  return rawStatement<Row>(db, 'person_for_api_token', query, [...Object.keys(columns), 'tokenId', 'tokenLastUsedAt'] as (keyof Row & string)[]);
};
const tokenQueries = new WeakMap<Database, ReturnType<typeof tokenQuery>>();

/**
 * The person a bearer token belongs to and the token's id, if the token is known, not revoked
 * and not expired (all three failures look the same to the caller). Every API request asks,
 * so the query is prepared once per database handle (see {@link rawStatement}); the token's
 * `last_used_at` is written only when it is a minute old.
 */
export async function authenticateApiToken(db: Database, token: string): Promise<{ person: Person; tokenId: string } | undefined> {
  let q = tokenQueries.get(db);
  if (!q) tokenQueries.set(db, (q = tokenQuery(db)));
  const [row] = await q.execute({ hash: hashToken(token) });
  if (!row) return undefined;
  const { tokenId, tokenLastUsedAt, ...person } = row;
  if (!tokenLastUsedAt || Date.now() - tokenLastUsedAt.getTime() > TOUCH_EVERY_MS) {
    await db
      .update(apiTokens)
      .set({ lastUsedAt: sql`now()` })
      .where(and(eq(apiTokens.id, tokenId), or(isNull(apiTokens.lastUsedAt), sql`${apiTokens.lastUsedAt} < now() - interval '1 minute'`)));
  }
  return { person, tokenId };
}

/** The person a bearer token belongs to, if it is known, not revoked and not expired. */
export async function personForToken(db: Database, token: string): Promise<Person | undefined> {
  return (await authenticateApiToken(db, token))?.person;
}

/** A person's tokens that are not revoked (expired ones too, so they can be seen and removed), newest first. */
export async function listApiTokens(db: Tx, personId: string): Promise<ApiTokenInfo[]> {
  return db
    .select({ id: apiTokens.id, name: apiTokens.name, createdAt: apiTokens.createdAt, lastUsedAt: apiTokens.lastUsedAt, expiresAt: apiTokens.expiresAt })
    .from(apiTokens)
    .where(and(eq(apiTokens.personId, personId), isNull(apiTokens.revokedAt)))
    .orderBy(desc(apiTokens.createdAt), desc(apiTokens.id));
}

/**
 * Revoke one of a person's tokens, and end the web sessions opened with it (a leaked token
 * used to sign in must not live on as a session). An admin revoking someone else's token is
 * audited (`actor`: the admin's person id). @returns false when the person has no such live
 * token (unknown, someone else's, or already revoked)
 */
export async function revokeApiToken(db: Database, personId: string, tokenId: string, actor?: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const done = await tx
      .update(apiTokens)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(apiTokens.id, tokenId), eq(apiTokens.personId, personId), isNull(apiTokens.revokedAt)))
      .returning({ id: apiTokens.id });
    if (done.length === 0) return false;
    await tx.update(webSessions).set({ revokedAt: sql`now()` }).where(and(eq(webSessions.apiTokenId, tokenId), isNull(webSessions.revokedAt)));
    if (actor && actor !== personId) await tx.insert(auditLog).values({ action: 'revoke_api_token', actor, subject: personId, detail: { tokenId } });
    return true;
  });
}
