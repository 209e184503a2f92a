/**
 * Rate limits and circuit breaker for inbound mail: a burst is held (quarantined),
 * not dropped and not published, so a misbehaving client or a loop between two
 * systems cannot flood the feed (docs/SECURITY.md B11, F27).
 */

/** Most messages accepted per window; `Infinity` switches a limit off. */
export interface RateLimits {
  /** Per sender address, last 60 s. @defaultValue 10 */
  senderPerMinute: number;
  /** Per sender address, last hour. @defaultValue 60 */
  senderPerHour: number;
  /** Per thread (post), last 60 s: the circuit breaker against loops. @defaultValue 20 */
  threadPerMinute: number;
  /** The whole organisation, last 60 s. @defaultValue 50 */
  orgPerMinute: number;
}

/**
 * Defaults, chosen so that no person writing by hand ever meets them while a loop
 * trips within a minute:
 *
 * - sender 10/min: nobody types ten mails a minute; an auto-responder or a
 *   forwarding loop does. Sharing a backlog in one go is held, not lost.
 * - sender 60/h: one mail a minute sustained for an hour is a script, not a person.
 * - thread 20/min: above one sender's limit, so it trips on what the sender limits
 *   miss: a reply-all storm from many people, or a loop whose sender address changes
 *   (a list or gateway rewriting From), as in the per-thread breaker of B11.
 * - org 50/min: Zulip's organisation-wide order of magnitude (F27: 50/min,
 *   120/5 min, 600/h). Raise it for a large organisation.
 */
export const DEFAULT_RATE_LIMITS: Readonly<RateLimits> = Object.freeze({
  senderPerMinute: 10,
  senderPerHour: 60,
  threadPerMinute: 20,
  orgPerMinute: 50,
});

/** Messages already accepted in each window, counted by the caller (from Postgres). */
export interface RateCounts {
  senderLastMinute: number;
  senderLastHour: number;
  /** 0 for a new thread. */
  threadLastMinute: number;
  orgLastMinute: number;
}

export type RateReason = 'sender_rate' | 'thread_rate' | 'org_rate';

export type RateVerdict = { ok: true } | { ok: false; reason: RateReason };

/**
 * Whether one more message may be accepted. The counts are of messages already
 * accepted in the window, so the message is held when a count has reached its limit
 * (`count >= limit`): with a limit of 10, the 11th message in a minute is held.
 *
 * Narrowest scope first, so the reason points at the party to look at: the sender
 * (minute, then hour), then the thread, then the organisation, which says nothing
 * about who caused it. A count that is not a number (NaN) holds the mail: fail closed.
 */
export function judgeRate(counts: RateCounts, limits: RateLimits): RateVerdict {
  if (reached(counts.senderLastMinute, limits.senderPerMinute)) return { ok: false, reason: 'sender_rate' };
  if (reached(counts.senderLastHour, limits.senderPerHour)) return { ok: false, reason: 'sender_rate' };
  if (reached(counts.threadLastMinute, limits.threadPerMinute)) return { ok: false, reason: 'thread_rate' };
  if (reached(counts.orgLastMinute, limits.orgPerMinute)) return { ok: false, reason: 'org_rate' };
  return { ok: true };
}

function reached(count: number, limit: number): boolean {
  return !(count < limit);
}
