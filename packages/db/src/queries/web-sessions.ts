import { randomBytes } from 'node:crypto';
import { and, desc, eq, getTableColumns, gt, isNull, lt, ne, or, sql } from 'drizzle-orm';
import type { Database, Tx } from '../client';
import { apiTokens, people, webSessions } from '../schema';
import { hashToken } from './api-tokens';
import type { Person } from './people';

/** How long a web session lives (docs/SECURITY.md S1). */
export interface SessionLifetime {
  /** Ends after this long without a request. @defaultValue 12 hours */
  idleSeconds: number;
  /** Ends this long after sign-in, however busy. @defaultValue 7 days */
  absoluteSeconds: number;
}

export const WEB_SESSION_LIFETIME: SessionLifetime = { idleSeconds: 12 * 3600, absoluteSeconds: 7 * 86_400 };

/** `last_seen_at` is written at most this often per session (the idle clock needs no finer grain). */
const TOUCH_EVERY_MS = 60_000;

export interface WebSessionInfo {
  id: string;
  via: string;
  userAgent: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
}

const live = (lifetime: SessionLifetime) =>
  and(
    isNull(webSessions.revokedAt),
    gt(webSessions.expiresAt, sql`now()`),
    gt(webSessions.lastSeenAt, sql`now() - make_interval(secs => ${lifetime.idleSeconds})`),
  );

/**
 * Open a session for a person who has just proved who they are. The secret goes into the
 * cookie and is never stored; a session opened with an API token ends no later than the token.
 * The person's dead sessions are cleared on the way, so the table does not grow.
 */
export async function openWebSession(
  db: Database,
  s: { personId: string; via: 'token' | 'oidc'; apiTokenId?: string; userAgent?: string; lifetime?: SessionLifetime },
): Promise<{ secret: string; id: string; expiresAt: Date }> {
  const lifetime = s.lifetime ?? WEB_SESSION_LIFETIME;
  const secret = `bs_${randomBytes(32).toString('base64url')}`;
  const end = sql`now() + make_interval(secs => ${lifetime.absoluteSeconds})`;
  const expiresAt = s.apiTokenId
    ? sql`least(${end}, coalesce((select ${apiTokens.expiresAt} from ${apiTokens} where ${apiTokens.id} = ${s.apiTokenId}), 'infinity'))`
    : end;
  return db.transaction(async (tx) => {
    await tx
      .delete(webSessions)
      .where(and(eq(webSessions.personId, s.personId), or(sql`${webSessions.revokedAt} is not null`, lt(webSessions.expiresAt, sql`now()`), lt(webSessions.lastSeenAt, sql`now() - make_interval(secs => ${lifetime.idleSeconds})`))));
    const [row] = await tx
      .insert(webSessions)
      .values({ secretHash: hashToken(secret), personId: s.personId, via: s.via, apiTokenId: s.apiTokenId ?? null, userAgent: (s.userAgent ?? '').slice(0, 200), expiresAt })
      .returning({ id: webSessions.id, expiresAt: webSessions.expiresAt });
    return { secret, id: row!.id, expiresAt: row!.expiresAt };
  });
}

/**
 * The person behind a session cookie, if the session is live: not revoked, not past its
 * absolute end, and used within the idle time (which this request renews). All judged on the
 * database's clock (docs/SECURITY.md F23).
 */
export async function personForWebSession(
  db: Database,
  secret: string,
  lifetime: SessionLifetime = WEB_SESSION_LIFETIME,
): Promise<{ person: Person; sessionId: string; apiTokenId: string | null } | undefined> {
  const [row] = await db
    .select({ person: getTableColumns(people), sessionId: webSessions.id, apiTokenId: webSessions.apiTokenId, lastSeenAt: webSessions.lastSeenAt })
    .from(webSessions)
    .innerJoin(people, eq(people.id, webSessions.personId))
    .where(and(eq(webSessions.secretHash, hashToken(secret)), live(lifetime)))
    .limit(1);
  if (!row) return undefined;
  if (Date.now() - row.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
    await db.update(webSessions).set({ lastSeenAt: sql`now()` }).where(eq(webSessions.id, row.sessionId));
  }
  return { person: row.person, sessionId: row.sessionId, apiTokenId: row.apiTokenId };
}

/** Sign-out: the session behind this secret ends now, whoever holds a copy of the cookie. */
export async function endWebSession(db: Tx, secret: string): Promise<boolean> {
  const done = await db
    .update(webSessions)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(webSessions.secretHash, hashToken(secret)), isNull(webSessions.revokedAt)))
    .returning({ id: webSessions.id });
  return done.length > 0;
}

/** A person's live sessions, most recently used first. */
export async function listWebSessions(db: Tx, personId: string, lifetime: SessionLifetime = WEB_SESSION_LIFETIME): Promise<WebSessionInfo[]> {
  return db
    .select({ id: webSessions.id, via: webSessions.via, userAgent: webSessions.userAgent, createdAt: webSessions.createdAt, lastSeenAt: webSessions.lastSeenAt, expiresAt: webSessions.expiresAt })
    .from(webSessions)
    .where(and(eq(webSessions.personId, personId), live(lifetime)))
    .orderBy(desc(webSessions.lastSeenAt), desc(webSessions.id));
}

/** End every session of a person but one (`keep`: the session asking). @returns how many ended */
export async function endOtherWebSessions(db: Tx, personId: string, keep?: string): Promise<number> {
  const done = await db
    .update(webSessions)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(webSessions.personId, personId), isNull(webSessions.revokedAt), ...(keep ? [ne(webSessions.id, keep)] : [])))
    .returning({ id: webSessions.id });
  return done.length;
}

/** Delete every session that has ended (revoked, past its end, idle too long): run by retention. @returns how many */
export async function purgeEndedWebSessions(db: Tx, lifetime: SessionLifetime = WEB_SESSION_LIFETIME): Promise<number> {
  const gone = await db
    .delete(webSessions)
    .where(or(sql`${webSessions.revokedAt} is not null`, lt(webSessions.expiresAt, sql`now()`), lt(webSessions.lastSeenAt, sql`now() - make_interval(secs => ${lifetime.idleSeconds})`)))
    .returning({ id: webSessions.id });
  return gone.length;
}
