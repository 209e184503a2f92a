import { createHash, createHmac } from 'node:crypto';
import { base32Encode } from './base32';

/**
 * Reply-by-email tokens, the `TOKEN` of `reply+TOKEN@<bridge-domain>` (docs/SECURITY.md 3.1).
 *
 * A token is random and opaque: it says nothing by itself. The database keeps only
 * {@link hashReplyToken} of it next to the person and post it is bound to, so a token
 * can be revoked and audited, and a leaked table cannot be replayed. There is
 * deliberately no stateless (HMAC-payload) form.
 */

/** Days a reply token stays valid (docs/SECURITY.md 3.1: 14–30 days). @defaultValue 30 */
export const DEFAULT_REPLY_TOKEN_TTL_DAYS = 30;

/**
 * Accepted replies per token. Not single-use: people reply twice and MUAs resend
 * (docs/SECURITY.md 3.1 "Expiry and use count"). @defaultValue 20
 */
export const DEFAULT_REPLY_TOKEN_MAX_USES = 20;

/** Version prefix, so a later format can be told apart without a lookup. */
const VERSION = 'v1';

/** 26 characters of 5 bits = 130 bits of randomness (at least 128, as in docs/SECURITY.md 3.1). */
const BODY_CHARS = 26;

/** Bytes needed for 130 bits. */
const RANDOM_BYTES = Math.ceil((BODY_CHARS * 5) / 8);

/**
 * `v1` + 26 base32 characters: 28 characters, so `reply+<token>` is 34 octets, well
 * under the 64-octet local-part limit of RFC 5321 section 4.5.3.1.1.
 */
const WELL_FORMED = /^v1[a-z2-7]{26}$/;

/** Domain separation: BLEND_SECRET also keys signed links and the origin header. */
const HASH_CONTEXT = 'blend-reply-token|';

/**
 * Creates a new reply token: `v1` followed by 26 lower-case base32 characters
 * carrying 130 random bits.
 *
 * @param random - a cryptographically secure source such as node's `randomBytes`;
 *   tests pass a deterministic one.
 * @throws Error if `random` returns fewer bytes than asked for (a short read must
 *   never turn into a weak token).
 */
export function generateReplyToken(random: (n: number) => Uint8Array): string {
  const bytes = random(RANDOM_BYTES);
  if (bytes.length < RANDOM_BYTES) {
    throw new Error(`random source returned ${bytes.length} bytes, expected ${RANDOM_BYTES}`);
  }
  return VERSION + base32Encode(bytes.subarray(0, RANDOM_BYTES)).slice(0, BODY_CHARS);
}

/**
 * The canonical (lower-case) form of a reply token, or `null` when `s` is not a
 * well-formed v1 token. Only ASCII letters are folded: `toLowerCase()` would also map
 * look-alikes such as U+212A KELVIN SIGN to `k`.
 */
export function normaliseReplyToken(s: string): string | null {
  if (s.length !== VERSION.length + BODY_CHARS) return null;
  const lower = s.replace(/[A-Z]/g, (c) => c.toLowerCase());
  return WELL_FORMED.test(lower) ? lower : null;
}

/** Whether `s` is a well-formed v1 reply token, in any letter case. */
export function isWellFormedReplyToken(s: string): boolean {
  return normaliseReplyToken(s) !== null;
}

/**
 * The form of a token that is stored and looked up: HMAC-SHA256 keyed with the
 * deployment secret, as lower-case hex.
 *
 * Keyed rather than a plain SHA-256, so a leaked table can neither be replayed nor
 * checked offline against guessed tokens without the secret. Equality lookups on this
 * value need no constant-time compare: without the secret an attacker cannot steer
 * which hash a probe hits, so index timing reveals nothing (docs/SECURITY.md B18).
 *
 * Never throws on odd input: a malformed token (wrong version, length or alphabet) is
 * hashed as given, lower-cased, and simply matches no row.
 *
 * @param secret - the deployment key (BLEND_SECRET).
 * @throws Error if `secret` is empty, which would make the hash unkeyed.
 */
export function hashReplyToken(token: string, secret: string): string {
  if (secret === '') throw new Error('hashReplyToken: empty secret');
  const canonical = normaliseReplyToken(token) ?? token.replace(/[A-Z]/g, (c) => c.toLowerCase());
  return createHmac('sha256', secret).update(HASH_CONTEXT + canonical).digest('hex');
}

/**
 * A short id for logs: the first 8 hex characters of SHA-256 of the canonical token.
 * Logs never carry the token itself (docs/SECURITY.md I3). Eight hex characters (32 bits)
 * are enough to correlate log lines and give nothing useful towards the 130-bit token.
 */
export function tokenLogId(token: string): string {
  const canonical = normaliseReplyToken(token) ?? token;
  return createHash('sha256').update(canonical).digest('hex').slice(0, 8);
}

/** The stored row of a reply token, as {@link judgeReplyToken} needs it. */
export interface ReplyTokenRow {
  /** The person the token was issued to. */
  personId: string;
  /** The post (thread) a reply with this token comments on. */
  postId: string;
  expiresAt: Date;
  revokedAt: Date | null;
  /** Replies already accepted with this token. */
  uses: number;
  maxUses: number;
}

/** What is known about the sender of a reply. */
export interface ReplySender {
  /** The person whose verified address is the canonical From, or null if none. */
  personId: string | null;
  /** DMARC pass, or aligned SPF/DKIM where no DMARC is published (docs/SECURITY.md 3.1 rule 2). */
  authenticated: boolean;
  /** The person is opted in now (docs/SECURITY.md 3.2). */
  optedIn: boolean;
}

export type ReplyTokenReason = 'bad_token' | 'sender_mismatch' | 'unauthenticated' | 'not_opted_in';

export type ReplyTokenVerdict = { ok: true; postId: string } | { ok: false; reason: ReplyTokenReason };

/**
 * Decides whether a reply may comment as the token's person. Checks, first failure wins:
 *
 * 1. `bad_token`: no row (unknown token, or the caller found the post deleted or
 *    locked), revoked, expired (`now >= expiresAt`), or `uses >= maxUses`. All give the
 *    same reason, so nothing distinguishes "exists" from "expired" (docs/SECURITY.md B18).
 * 2. `sender_mismatch`: the sender is not the bound person, e.g. a colleague
 *    replying to a forwarded digest (B19; GitLab and Discourse do the same). A token
 *    alone is never enough, unlike a bearer token.
 * 3. `unauthenticated`: the From claims the bound person but is not authenticated, so
 *    it may be spoofed (B8).
 * 4. `not_opted_in`: the person opted out since the token was issued (3.1 rule 4).
 *
 * The token is judged before the sender so that every failure of the token itself is
 * one reason whoever sends it. The reasons are for records and metrics only: nothing
 * that differs by reason may be sent to a sender who is not the authenticated bound
 * person (3.1 "Never confirm to an unauthenticated sender whether a token exists").
 *
 * @param now - the database clock (`now()`), not the worker's: a skewed worker must
 *   neither reject a fresh token nor extend an expired one (F23).
 * @returns on success the post the reply belongs to. The caller then increments
 *   `uses` in the same transaction as the comment, conditionally
 *   (`WHERE uses < max_uses`), so two concurrent replies cannot both take the last use.
 */
export function judgeReplyToken(row: ReplyTokenRow | null, sender: ReplySender, now: Date): ReplyTokenVerdict {
  if (row === null) return { ok: false, reason: 'bad_token' };
  if (row.revokedAt !== null) return { ok: false, reason: 'bad_token' };
  // Fail closed on an invalid date: NaN compares false with everything.
  if (!(now.getTime() < row.expiresAt.getTime())) return { ok: false, reason: 'bad_token' };
  if (!(row.uses < row.maxUses)) return { ok: false, reason: 'bad_token' };
  if (sender.personId === null || sender.personId !== row.personId) return { ok: false, reason: 'sender_mismatch' };
  if (!sender.authenticated) return { ok: false, reason: 'unauthenticated' };
  if (!sender.optedIn) return { ok: false, reason: 'not_opted_in' };
  return { ok: true, postId: row.postId };
}
