import { DNS_CACHE_DEFAULTS, dnsCacheKey, dnsCacheTtlMs, ExpiringLru, type DnsCacheLimits } from '@blend/core';
import type { DnsResolver } from './sender-auth';

/** A settled lookup as the cache keeps it: the answer, or the "no record" error to throw again. */
type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * `inner` with a bounded cache in front: answers are kept for `ttlMs` (a fixed cap: node's
 * `dns.promises.resolve` does not report TTLs), "no such name/record" for `negativeTtlMs`,
 * temporary errors not at all, and at most `maxEntries` answers, the least recently used
 * dropped first. A lookup already in flight is shared, so concurrent checks of many mails ask
 * the resolver once. `now` is for tests.
 */
export function cachingResolver(inner: DnsResolver, limits: Partial<DnsCacheLimits> = {}, now: () => number = Date.now): DnsResolver {
  const l: DnsCacheLimits = { ...DNS_CACHE_DEFAULTS, ...limits };
  const cache = new ExpiringLru<Settled>(l.maxEntries);
  const inFlight = new Map<string, Promise<unknown>>();
  return (name, rrtype) => {
    const key = dnsCacheKey(rrtype, name);
    const kept = cache.get(key, now());
    if (kept) return kept.ok ? Promise.resolve(kept.value) : Promise.reject(kept.error);
    const pending = inFlight.get(key);
    if (pending) return pending;
    const lookup = inner(name, rrtype).then(
      (value) => {
        cache.set(key, { ok: true, value }, now() + dnsCacheTtlMs({ ok: true }, l));
        return value;
      },
      (error: unknown) => {
        const ttl = dnsCacheTtlMs({ ok: false, code: (error as { code?: string } | null)?.code }, l);
        if (ttl > 0) cache.set(key, { ok: false, error }, now() + ttl);
        throw error;
      },
    );
    inFlight.set(key, lookup);
    void lookup.then(
      () => inFlight.delete(key),
      () => inFlight.delete(key),
    );
    return lookup;
  };
}
