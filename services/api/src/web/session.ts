import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import '@fastify/cookie';
import { browserLabel, PermanentError } from '@blend/core';
import { endWebSession, openWebSession, personForWebSession, WEB_SESSION_LIFETIME, type Database } from '@blend/db';

declare module 'fastify' {
  interface FastifyRequest {
    /** The web session the request came with (pages only). */
    webSessionId?: string;
  }
}

/**
 * Web sessions are records of their own (`web_sessions`): the cookie holds a random secret
 * whose SHA-256 names the row, never an API token. A session ends after 12 idle hours, 7 days
 * after sign-in, at sign-out, or when the token it was opened with is revoked
 * (docs/SECURITY.md S1). Forms carry a CSRF token that is an HMAC of the session secret under
 * BLEND_SECRET: nothing to store, and useless to anyone who does not already hold the session.
 */

export const SESSION_COOKIE = 'blend_session';
const SECRET_SHAPE = /^[A-Za-z0-9_-]{10,200}$/;

export function csrfToken(secret: string, sessionSecret: string): string {
  return createHmac('sha256', secret).update(`blend-web-csrf\0${sessionSecret}`).digest('base64url');
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The session secret from the cookie, if it has the right shape (not yet checked against the database). */
export function sessionSecret(req: FastifyRequest): string | null {
  const t = req.cookies[SESSION_COOKIE];
  return t && SECRET_SHAPE.test(t) ? t : null;
}

/**
 * Secure when the request came over https, or when BLEND_PUBLIC_URL is https: behind a
 * TLS-terminating proxy the request itself looks like plain http.
 */
export const isSecure = (req: FastifyRequest, publicUrl: string | undefined): boolean => req.protocol === 'https' || (publicUrl?.startsWith('https:') ?? false);

/**
 * Open a session for a person who has just proved who they are (a token, or the IdP) and give
 * the browser its cookie. The cookie lasts as long as the session could; the server decides.
 */
export async function startSession(
  req: FastifyRequest,
  reply: FastifyReply,
  deps: { db: Database; publicUrl?: string },
  who: { personId: string; via: 'token' | 'oidc'; apiTokenId?: string },
): Promise<void> {
  const s = await openWebSession(deps.db, { ...who, userAgent: browserLabel(req.headers['user-agent']) });
  void reply.setCookie(SESSION_COOKIE, s.secret, { path: '/', httpOnly: true, sameSite: 'strict', secure: isSecure(req, deps.publicUrl), maxAge: WEB_SESSION_LIFETIME.absoluteSeconds });
  req.log.info({ personId: who.personId, sessionId: s.id, via: who.via }, 'web sign-in');
}

/** Sign-out: end the session in the database (a copied cookie stops working too) and drop the cookie. */
export async function endSession(req: FastifyRequest, reply: FastifyReply, deps: { db: Database; publicUrl?: string }): Promise<void> {
  const secret = sessionSecret(req);
  if (secret) await endWebSession(deps.db, secret);
  clearSession(req, reply, deps.publicUrl);
}

export function clearSession(req: FastifyRequest, reply: FastifyReply, publicUrl: string | undefined): void {
  void reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: isSecure(req, publicUrl) });
}

/**
 * A form POST must come from our own pages: an Origin other than this host (or the host of
 * BLEND_PUBLIC_URL, for a proxy that rewrites Host), an opaque `null` Origin, or
 * `Sec-Fetch-Site: cross-site` is refused. This also covers the login form, which has no
 * session and so no CSRF token yet.
 */
export function assertSameOrigin(req: FastifyRequest, publicUrl: string | undefined): void {
  const origin = req.headers.origin;
  // Through URL, so that `localhost:80` and `localhost` compare equal (default ports).
  const self = `${req.protocol}://${req.host}`;
  const allowed = new Set([self, ...(publicUrl ? [publicUrl] : [])].filter((u) => URL.canParse(u)).map((u) => new URL(u).host));
  const foreign = origin !== undefined && (!URL.canParse(origin) || !allowed.has(new URL(origin).host));
  if (foreign || req.headers['sec-fetch-site'] === 'cross-site') throw new PermanentError('FORBIDDEN', 'cross-site form submission');
}

/** Check the `_csrf` field of a form against the session. */
export function assertCsrf(req: FastifyRequest, deps: { secret: string; publicUrl?: string }, submitted: string | undefined): void {
  assertSameOrigin(req, deps.publicUrl);
  const secret = sessionSecret(req);
  if (!secret || !submitted || !sameToken(submitted, csrfToken(deps.secret, secret))) {
    throw new PermanentError('FORBIDDEN', 'the form has expired or did not come from Blend; reload the page and try again');
  }
}

/** Marks a request the web pages answer by sending the browser to the login page. */
export class LoginRequired extends Error {
  constructor() {
    super('login required');
    this.name = 'LoginRequired';
  }
}

/** preHandler for the pages: the person behind the session cookie, or the login page. */
export function requireWebPerson(db: Database) {
  return async (req: FastifyRequest): Promise<void> => {
    const secret = sessionSecret(req);
    const found = secret ? await personForWebSession(db, secret) : undefined;
    if (!found) throw new LoginRequired();
    req.person = found.person;
    req.webSessionId = found.sessionId;
    if (found.apiTokenId) req.apiTokenId = found.apiTokenId;
  };
}
