import { describe, expect, it } from 'vitest';
import { cachingResolver } from './dns-cache';
import { staticResolver, type DnsResolver } from './sender-auth';

/** A resolver that counts its lookups; `fail` names fail with that code instead. */
function counting(fail: Record<string, string> = {}) {
  const calls: string[] = [];
  const zone = staticResolver({ 'corp.test': { TXT: ['v=spf1 -all'] } });
  const resolver: DnsResolver = async (name, rrtype) => {
    calls.push(`${rrtype} ${name}`);
    const code = fail[name];
    if (code) throw Object.assign(new Error(code), { code });
    return zone(name, rrtype);
  };
  return { calls, resolver };
}

describe('cachingResolver', () => {
  it('shares a lookup in flight and keeps its answer until the TTL', async () => {
    const { calls, resolver } = counting();
    let now = 0;
    const cached = cachingResolver(resolver, { ttlMs: 1_000 }, () => now);
    const [a, b] = await Promise.all([cached('corp.test', 'TXT'), cached('CORP.test.', 'TXT')]);
    expect(a).toEqual([['v=spf1 -all']]);
    expect(b).toBe(a);
    now = 999;
    await cached('corp.test', 'TXT');
    expect(calls).toEqual(['TXT corp.test']);
    now = 1_000;
    await cached('corp.test', 'TXT');
    expect(calls).toEqual(['TXT corp.test', 'TXT corp.test']);
  });

  it('keeps "no such name" for the negative TTL, a temporary error not at all', async () => {
    const { calls, resolver } = counting({ 'down.test': 'ETIMEOUT' });
    let now = 0;
    const cached = cachingResolver(resolver, { negativeTtlMs: 100 }, () => now);
    for (let i = 0; i < 2; i++) {
      await expect(cached('none.test', 'TXT')).rejects.toMatchObject({ code: 'ENOTFOUND' });
      await expect(cached('corp.test', 'MX')).rejects.toMatchObject({ code: 'ENODATA' });
      await expect(cached('down.test', 'TXT')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    }
    expect(calls).toEqual(['TXT none.test', 'MX corp.test', 'TXT down.test', 'TXT down.test']);
    now = 100;
    await expect(cached('none.test', 'TXT')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(calls).toHaveLength(5);
  });

  it('holds at most maxEntries answers', async () => {
    const { calls, resolver } = counting();
    const cached = cachingResolver(resolver, { maxEntries: 1 });
    await cached('corp.test', 'TXT');
    await expect(cached('corp.test', 'A')).rejects.toMatchObject({ code: 'ENODATA' });
    await cached('corp.test', 'TXT');
    expect(calls).toEqual(['TXT corp.test', 'A corp.test', 'TXT corp.test']);
  });
});
