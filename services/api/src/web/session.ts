import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import '@fastify/cookie';
import { PermanentError } from '@blend/core';
import { personForToken, type Database } from '@blend/db';

/**
 * Web sessions: the cookie holds the person's API bearer token and nothing else, so the
 * pages and the API share one credential (revoking the token ends both). Forms carry a
 * CSRF token that is an HMAC of the session token under BLEND_SECRET: nothing to store, and
 * useless to anyone who does not already hold the session.
 */

export const SESSION_COOKIE = 'blend_session';
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{10,200}$/;
/** How long the browser keeps the session. @defaultValue 30 days */
const SESSION_MAX_AGE_S = 30 * 24 * 3600;

export function csrfToken(secret: string, sessionToken: string): string {
  return createHmac('sha256', secret).update(`blend-web-csrf\0${sessionToken}`).digest('base64url');
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function sessionToken(req: FastifyRequest): string | null {
  const t = req.cookies[SESSION_COOKIE];
  return t && TOKEN_SHAPE.test(t) ? t : null;
}

/**
 * Secure when the request came over https, or when BLEND_PUBLIC_URL is https: behind a
 * TLS-terminating proxy the request itself looks like plain http.
 */
const isSecure = (req: FastifyRequest, publicUrl: string | undefined): boolean => req.protocol === 'https' || (publicUrl?.startsWith('https:') ?? false);

export function setSession(req: FastifyRequest, reply: FastifyReply, token: string, publicUrl: string | undefined): void {
  void reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'strict', secure: isSecure(req, publicUrl), maxAge: SESSION_MAX_AGE_S });
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
  const token = sessionToken(req);
  if (!token || !submitted || !sameToken(submitted, csrfToken(deps.secret, token))) {
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
    const token = sessionToken(req);
    const person = token ? await personForToken(db, token) : undefined;
    if (!person) throw new LoginRequired();
    req.person = person;
  };
}
