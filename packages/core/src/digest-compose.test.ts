import { describe, expect, it } from 'vitest';
import { composeDigest, excerpt, type ActivityItem } from './digest-compose';

let n = 0;
const item = (over: Omit<Partial<ActivityItem>, 'at'> & { postId: string; at: string }): ActivityItem => ({
  kind: 'comment',
  commentId: `c${++n}`,
  threadTitle: `Thread ${over.postId}`,
  groupName: 'General',
  authorName: 'Alice',
  authorEmail: 'alice@example.com',
  source: 'email',
  text: 'hello',
  mentionsMe: false,
  ...over,
  at: new Date(over.at),
});

describe('composeDigest', () => {
  it('groups by post, newest activity first, items oldest first', () => {
    const d = composeDigest([
      item({ postId: 'a', kind: 'post', commentId: null, at: '2026-01-01T08:00:00Z' }),
      item({ postId: 'b', at: '2026-01-01T09:00:00Z' }),
      item({ postId: 'a', at: '2026-01-01T10:00:00Z', commentId: 'a2' }),
      item({ postId: 'a', at: '2026-01-01T09:30:00Z', commentId: 'a1' }),
    ]);
    expect(d.threads.map((t) => t.postId)).toEqual(['a', 'b']);
    expect(d.threads[0]!.items.map((i) => i.commentId)).toEqual([null, 'a1', 'a2']);
    expect(d.threads[0]!.latestAt.toISOString()).toBe('2026-01-01T10:00:00.000Z');
    expect(d).toMatchObject({ omittedThreads: 0, omittedItems: 0, totalItems: 4 });
  });

  it('keeps strict time order even when an older thread mentions the reader', () => {
    const d = composeDigest([
      item({ postId: 'old', at: '2026-01-01T08:00:00Z', mentionsMe: true }),
      item({ postId: 'new', at: '2026-01-01T09:00:00Z' }),
    ]);
    expect(d.threads.map((t) => [t.postId, t.mentionsMe])).toEqual([
      ['new', false],
      ['old', true],
    ]);
  });

  it('collapses duplicates (same kind, post, comment), keeping a mention', () => {
    const d = composeDigest([
      item({ postId: 'a', commentId: 'x', at: '2026-01-01T08:00:00Z' }),
      item({ postId: 'a', commentId: 'x', at: '2026-01-01T08:00:00Z', mentionsMe: true }),
      item({ postId: 'a', kind: 'post', commentId: null, at: '2026-01-01T07:00:00Z' }),
      item({ postId: 'a', kind: 'post', commentId: null, at: '2026-01-01T07:00:00Z' }),
    ]);
    expect(d.totalItems).toBe(2);
    expect(d.threads[0]!.items).toHaveLength(2);
    expect(d.threads[0]!.items[1]!.mentionsMe).toBe(true);
    expect(d.threads[0]!.mentionsMe).toBe(true);
  });

  it('keeps the newest items per thread and counts the rest', () => {
    const items = Array.from({ length: 7 }, (_, i) =>
      item({ postId: 'a', commentId: `k${i}`, at: `2026-01-01T0${i}:00:00Z`, mentionsMe: i === 0 }),
    );
    const d = composeDigest(items, { maxItemsPerThread: 3 });
    expect(d.threads[0]!.items.map((i) => i.commentId)).toEqual(['k4', 'k5', 'k6']);
    expect(d.threads[0]!.omittedItems).toBe(4);
    // the mention was in an omitted item: the thread is still flagged
    expect(d.threads[0]!.mentionsMe).toBe(true);
    expect(d).toMatchObject({ omittedItems: 4, totalItems: 7 });
  });

  it('caps threads and counts the omitted threads items', () => {
    const items = [
      ...['t1', 't2', 't3'].map((p, i) => item({ postId: p, at: `2026-01-0${i + 1}T00:00:00Z` })),
      item({ postId: 't1', at: '2025-12-31T00:00:00Z' }),
      item({ postId: 't1', at: '2025-12-30T00:00:00Z' }),
    ];
    const d = composeDigest(items, { maxThreads: 2, maxItemsPerThread: 1 });
    expect(d.threads.map((t) => t.postId)).toEqual(['t3', 't2']);
    expect(d).toMatchObject({ omittedThreads: 1, omittedItems: 3, totalItems: 5 });
  });

  it('takes title and group from the newest item', () => {
    const d = composeDigest([
      item({ postId: 'a', at: '2026-01-01T08:00:00Z', threadTitle: 'Old', groupName: 'G1' }),
      item({ postId: 'a', at: '2026-01-01T09:00:00Z', threadTitle: 'New', groupName: 'G2' }),
    ]);
    expect(d.threads[0]).toMatchObject({ title: 'New', groupName: 'G2' });
  });

  it('cuts long texts', () => {
    const d = composeDigest([item({ postId: 'a', at: '2026-01-01T08:00:00Z', text: 'word '.repeat(300) })], {
      excerptChars: 50,
    });
    const text = d.threads[0]!.items[0]!.text;
    expect(text.endsWith('word…')).toBe(true);
    expect(Array.from(text).length).toBeLessThanOrEqual(50);
  });

  it('empty input', () => {
    expect(composeDigest([])).toEqual({ threads: [], omittedThreads: 0, omittedItems: 0, totalItems: 0 });
  });

  it('rejects bad limits', () => {
    expect(() => composeDigest([], { maxThreads: 0 })).toThrow(RangeError);
  });
});

describe('excerpt', () => {
  it.each([
    ['short', 10, 'short'],
    ['  padded  ', 10, 'padded'],
    ['one two three four', 12, 'one two…'],
    ['one two three', 8, 'one two…'],
    ['one two three', 9, 'one two…'],
    ['abcdefghijklmnopqrstuvwxyz', 10, 'abcdefghi…'],
    ['a\r\n\r\n\r\n\r\nb', 10, 'a\n\nb'],
    ['😀😀😀😀😀😀', 4, '😀😀😀…'],
    ['anything', 1, '…'],
    ['x', 1, 'x'],
    ['😀😀😀😀', 4, '😀😀😀😀'],
    ['😀a😀 b😀😀c', 5, '😀a😀…'],
    ['abcd efgh', 5, 'abcd…'],
  ])('%j (%i) -> %j', (text, max, expected) => {
    expect(excerpt(text, max)).toBe(expected);
  });
});
