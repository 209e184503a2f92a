/**
 * Reconnect delay after `attempt` consecutive failures: exponential from `baseMs`,
 * capped, with up to 20% jitter so several pollers do not reconnect in lockstep.
 */
export function reconnectDelay(attempt: number, baseMs = 1_000, maxMs = 60_000, random = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(exp * (0.8 + 0.2 * random()));
}
