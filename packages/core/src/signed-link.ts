import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a signed link lets its holder do; the purpose is part of the signature. */
export type LinkPurpose = 'opt_in' | 'thread_withhold' | 'share_confirm' | 'unsubscribe' | 'list_unsubscribe' | 'undo' | 'fix';

export interface LinkClaims {
  purpose: LinkPurpose;
  /** The person, address or row the link acts on. */
  subject: string;
  /** Optional second subject, e.g. the post of a per-thread withhold link. */
  scope?: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
  /**
   * When the link was made, seconds since the epoch: a link is void once its person chose
   * otherwise after it was sent (link-standing.ts). Optional: a link already in someone's
   * mailbox may carry none; see {@link linkIssuedAt}.
   */
  iat?: number;
}

/** Days the opt-in, opt-out and share links in Blend's notices work. */
export const LINK_LIFETIME_DAYS = 14;

/**
 * When a link was made: its `iat`, or for a link made before `iat` was signed in, its expiry
 * less the lifetime its purpose was given (exact for the 14-day links, the only ones whose
 * issue time matters).
 */
export function linkIssuedAt(claims: LinkClaims): Date {
  return new Date((claims.iat ?? claims.exp - LINK_LIFETIME_DAYS * 86_400) * 1000);
}

/**
 * A compact signed token for links in mails (`<payload>.<mac>`, base64url): HMAC-SHA256
 * over the payload with BLEND_SECRET, truncated to 128 bits. Stateless, so a forged mail
 * cannot produce one; expiry is checked against the caller's clock (the database's `now()`
 * in services, docs/SECURITY.md F23).
 */
export function signLink(claims: LinkClaims, secret: string): string {
  const fields = [claims.purpose, claims.subject, claims.scope ?? '', claims.exp, ...(claims.iat !== undefined ? [claims.iat] : [])];
  const payload = Buffer.from(JSON.stringify(fields)).toString('base64url');
  return `${payload}.${mac(payload, secret)}`;
}

/** The claims of a valid, unexpired link for `purpose`, or null (one answer for every failure). */
export function verifyLink(token: string, purpose: LinkPurpose, secret: string, now: Date): LinkClaims | null {
  const [payload, given, extra] = token.split('.');
  if (!payload || !given || extra !== undefined || token.length > 1000) return null;
  const expected = Buffer.from(mac(payload, secret));
  const actual = Buffer.from(given);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null;
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(v) || (v.length !== 4 && v.length !== 5)) return null;
  const [p, subject, scope, exp, iat] = v as unknown[];
  if (p !== purpose || typeof subject !== 'string' || typeof scope !== 'string' || typeof exp !== 'number') return null;
  if (iat !== undefined && typeof iat !== 'number') return null;
  if (exp * 1000 <= now.getTime()) return null;
  return { purpose, subject, ...(scope ? { scope } : {}), exp, ...(iat !== undefined ? { iat } : {}) };
}

function mac(payload: string, secret: string): string {
  return createHmac('sha256', secret).update(`blend-link|${payload}`).digest().subarray(0, 16).toString('base64url');
}

/**
 * The `X-Blend-Origin` value of a mail we send: an HMAC of its Message-ID, so a looped
 * copy of our own mail is recognised even when a forwarder rewrites From (docs/SECURITY.md B11).
 */
export function originTag(messageId: string, secret: string): string {
  return createHmac('sha256', secret).update(`blend-origin|${messageId}`).digest('hex').slice(0, 32);
}
