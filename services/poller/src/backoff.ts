/**
 * Reconnect delay after `attempt` consecutive failures: exponential from `baseMs`,
 * capped, with up to 20% jitter so several pollers do not reconnect in lockstep.
 */
export function reconnectDelay(attempt: number, baseMs = 1_000, maxMs = 60_000, random = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(exp * (0.8 + 0.2 * random()));
}

/** Shortest wait after the server said it is throttling us. */
export const THROTTLED_MIN_MS = 30_000;
/** Longest wait while throttled, and the cap on a server's own backoff hint. */
export const THROTTLED_MAX_MS = 15 * 60_000;

/**
 * Reconnect delay while the server throttles the mailbox (Exchange Online's `NO [THROTTLED]`,
 * Gmail's "Too many simultaneous connections"): from 30 s, doubling to 15 min, and never
 * shorter than the server's own hint (Exchange's "Suggested Backoff Time", imapflow's
 * `throttleReset`). Reconnecting at the usual pace would spend the budget the server is
 * waiting to refill, and each refused login counts against it again.
 */
export function throttledDelay(attempt: number, hintMs = 0, random = Math.random): number {
  const hint = Number.isFinite(hintMs) ? Math.min(Math.max(0, hintMs), THROTTLED_MAX_MS) : 0;
  return Math.max(THROTTLED_MIN_MS, hint, reconnectDelay(attempt, THROTTLED_MIN_MS, THROTTLED_MAX_MS, random));
}
