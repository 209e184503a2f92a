import { describe, expect, it } from 'vitest';
import { FeedCache, joinPage, noneMatch, pageEtag, splitPage, type CachedPage } from './feed-cache';

const page = (items: { id: string; liked: boolean; title?: string }[]) =>
  JSON.stringify({ items: items.map((i) => ({ id: i.id, title: i.title ?? '', reactions: { like: 1, liked_by_me: i.liked } })), next_cursor: null });

describe('splitPage and joinPage', () => {
  it.each([
    ['no posts', [], new Set<string>()],
    ['one post the reader liked', [{ id: 'a', liked: false }], new Set(['a'])],
    ['liked by the writer, not by the reader', [{ id: 'a', liked: true }, { id: 'b', liked: false }], new Set(['b'])],
    ['a title that spells the key', [{ id: 'a', liked: false, title: '"liked_by_me":true' }, { id: 'b', liked: true, title: '\\"liked_by_me\\":false' }], new Set(['a'])],
  ])('%s: the joined page is the page as the reader would see it', (_name, items, liked) => {
    const split = splitPage(page(items), items.map((i) => i.id), 0)!;
    expect(split.parts).toHaveLength(items.length + 1);
    expect(joinPage(split, liked).toString()).toBe(page(items.map((i) => ({ ...i, liked: liked.has(i.id) }))));
  });

  it('gives up when the values are not one per post', () => {
    expect(splitPage(page([{ id: 'a', liked: false }]), ['a', 'b'], 0)).toBeNull();
    expect(splitPage(page([{ id: 'a', liked: false }, { id: 'b', liked: false }]), ['a'], 0)).toBeNull();
  });
});

describe('ETags', () => {
  const two = [{ id: 'a', liked: false }, { id: 'b', liked: false }];
  const split = splitPage(page(two), ['a', 'b'], 0)!;
  it('differ by reader only where their likes differ, and by content', () => {
    expect(pageEtag(split, new Set(['a']))).toBe(pageEtag(split, new Set(['a', 'not-on-the-page'])));
    expect(pageEtag(split, new Set(['a']))).not.toBe(pageEtag(split, new Set(['b'])));
    expect(pageEtag(split, new Set())).not.toBe(pageEtag(splitPage(page([{ id: 'a', liked: false, title: 'x' }, { id: 'b', liked: false }]), ['a', 'b'], 0)!, new Set()));
    expect(pageEtag(split, new Set())).toMatch(/^"[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{8}"$/);
  });

  it.each([
    [undefined, false],
    ['', false],
    ['"abc.def"', true],
    ['W/"abc.def"', true],
    ['"other", "abc.def"', true],
    ['"other"', false],
    ['*', true],
    ['"abc"', false],
  ])('If-None-Match %j matches "abc.def": %s', (header, expected) => {
    expect(noneMatch(header, '"abc.def"')).toBe(expected);
  });
});

describe('FeedCache', () => {
  const entry = (bytes: number, storedAt = 0): CachedPage => ({ tag: 't', parts: [Buffer.alloc(bytes)], postIds: [], bytes, storedAt });
  const make = (maxBytes = 100, maxAgeMs = 1_000) => {
    let now = 0;
    const cache = new FeedCache({ maxBytes, maxAgeMs, now: () => now });
    cache.setListening(true);
    return { cache, at: (t: number) => (now = t) };
  };

  it('keeps nothing and serves nothing until changes are heard, and forgets all when they no longer are', () => {
    const cache = new FeedCache({ maxBytes: 100, maxAgeMs: 1_000, now: () => 0 });
    expect(cache.put('k', cache.begin(), entry(10))).toBe(false);
    cache.setListening(true);
    expect(cache.put('k', cache.begin(), entry(10))).toBe(true);
    expect(cache.get('k')).toBeDefined();
    cache.setListening(false);
    expect(cache.get('k')).toBeUndefined();
    expect(cache.size).toEqual({ pages: 0, bytes: 0 });
  });

  it('drops a page read before a change and stored after it', () => {
    const { cache } = make();
    const generation = cache.begin();
    cache.changed();
    expect(cache.put('k', generation, entry(10))).toBe(false);
    expect(cache.put('k', cache.begin(), entry(10))).toBe(true);
  });

  it('a change forgets every page', () => {
    const { cache } = make();
    cache.put('a', cache.begin(), entry(10));
    cache.put('b', cache.begin(), entry(10));
    cache.changed();
    expect(cache.size).toEqual({ pages: 0, bytes: 0 });
  });

  it('evicts the least recently used pages past its size, and never keeps one larger than all of it', () => {
    const { cache } = make(100);
    for (const k of ['a', 'b', 'c']) cache.put(k, cache.begin(), entry(40));
    expect(cache.get('a')).toBeUndefined();
    cache.get('b'); // b is now newer than c
    cache.put('d', cache.begin(), entry(40));
    expect([cache.get('b') !== undefined, cache.get('c') !== undefined, cache.get('d') !== undefined]).toEqual([true, false, true]);
    expect(cache.size).toEqual({ pages: 2, bytes: 80 });
    expect(cache.put('huge', cache.begin(), entry(101))).toBe(false);
  });

  it('reads a page again once it is older than the safety net', () => {
    const { cache, at } = make(100, 1_000);
    cache.put('k', cache.begin(), entry(10, 0));
    at(1_000);
    expect(cache.get('k')).toBeDefined();
    at(1_001);
    expect(cache.get('k')).toBeUndefined();
    expect(cache.size.bytes).toBe(0);
  });

  it('is off with no memory', () => {
    const cache = new FeedCache({ maxBytes: 0, maxAgeMs: 1_000 });
    cache.setListening(true);
    expect(cache.active).toBe(false);
  });
});
