import { describe, expect, it } from 'vitest';
import { DNS_CACHE_DEFAULTS, dnsCacheKey, dnsCacheTtlMs, ExpiringLru, senderDnsQuestions } from './dns-cache';

describe('dnsCacheKey', () => {
  it.each([
    ['TXT', 'corp.test', 'TXT corp.test'],
    ['txt', 'Corp.TEST.', 'TXT corp.test'],
    ['A', 'mx.corp.test', 'A mx.corp.test'],
  ])('%s %s -> %s', (rrtype, name, key) => expect(dnsCacheKey(rrtype, name)).toBe(key));
});

describe('dnsCacheTtlMs', () => {
  const limits = { maxEntries: 10, ttlMs: 300_000, negativeTtlMs: 60_000 };
  it.each([
    ['an answer', { ok: true } as const, 300_000],
    ['no such name', { ok: false, code: 'ENOTFOUND' } as const, 60_000],
    ['no record of the type', { ok: false, code: 'ENODATA' } as const, 60_000],
    ['a timeout', { ok: false, code: 'ETIMEOUT' } as const, 0],
    ['SERVFAIL', { ok: false, code: 'ESERVFAIL' } as const, 0],
    ['an error without a code', { ok: false, code: undefined } as const, 0],
  ])('%s', (_, outcome, ttl) => expect(dnsCacheTtlMs(outcome, limits)).toBe(ttl));

  it('keeps answers for at most five minutes by default', () => expect(DNS_CACHE_DEFAULTS.ttlMs).toBe(300_000));
});

describe('ExpiringLru', () => {
  it('returns a value until it expires, then forgets it', () => {
    const lru = new ExpiringLru<string>(3);
    lru.set('a', 'x', 1_000);
    expect(lru.get('a', 999)).toBe('x');
    expect(lru.get('a', 1_000)).toBeUndefined();
    expect(lru.size).toBe(0);
  });

  it('drops the least recently used entry when full', () => {
    const lru = new ExpiringLru<number>(2);
    lru.set('a', 1, 100);
    lru.set('b', 2, 100);
    expect(lru.get('a', 0)).toBe(1); // a is now newer than b
    lru.set('c', 3, 100);
    expect([lru.get('a', 0), lru.get('b', 0), lru.get('c', 0)]).toEqual([1, undefined, 3]);
    expect(lru.size).toBe(2);
  });

  it('replaces a value and its expiry', () => {
    const lru = new ExpiringLru<number>(2);
    lru.set('a', 1, 10);
    lru.set('a', 2, 20);
    expect(lru.get('a', 15)).toBe(2);
    expect(lru.size).toBe(1);
  });

  it.each([0, -1, 1.5])('refuses a capacity of %s', (n) => expect(() => new ExpiringLru(n)).toThrow(RangeError));
});

describe('senderDnsQuestions', () => {
  const sig = (d: string, s: string) => `v=1; a=rsa-sha256; c=relaxed/relaxed; d=${d};\r\n s=${s}; h=from:to; bh=abc=; b=def=`;
  it.each([
    ['nothing known', {}, []],
    ['the From domain', { from: 'jane@corp.test' }, ['_dmarc.corp.test']],
    ['one signature', { dkimSignatures: [sig('corp.test', 'sel1')] }, ['sel1._domainkey.corp.test']],
    [
      'two signatures, SPF of MAIL FROM, DMARC of From',
      { dkimSignatures: [sig('corp.test', 'a'), sig('esp.test', 'b')], mailFrom: 'bounce@esp.test', helo: 'mx.esp.test', from: 'jane@corp.test' },
      ['a._domainkey.corp.test', 'b._domainkey.esp.test', 'esp.test', '_dmarc.corp.test'],
    ],
    ['the null path: SPF of the HELO name', { mailFrom: '', helo: 'mx.corp.test' }, ['mx.corp.test']],
    ['the null path with an address literal HELO: no SPF question', { mailFrom: '', helo: '[192.0.2.1]' }, []],
    ['no SMTP client: no SPF question', { mailFrom: 'jane@corp.test' }, []],
    ['names folded to lower case and asked once', { dkimSignatures: [sig('Corp.Test', 'S'), sig('corp.test', 's')], from: 'x@CORP.test' }, ['s._domainkey.corp.test', '_dmarc.corp.test']],
    ['a signature without s= or d=', { dkimSignatures: ['v=1; d=corp.test; b=x'] }, []],
    ['a name that is no host name', { dkimSignatures: [sig('corp!test', 'a')], from: 'x@[192.0.2.1]' }, []],
  ])('%s', (_, input, names) => {
    expect(senderDnsQuestions({ dkimSignatures: [], ...input })).toEqual(names.map((name) => ({ rrtype: 'TXT', name })));
  });
});
