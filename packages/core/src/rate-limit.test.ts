import { describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMITS, judgeRate, type RateCounts, type RateLimits, type RateVerdict } from './rate-limit';

const quiet: RateCounts = { senderLastMinute: 0, senderLastHour: 0, threadLastMinute: 0, orgLastMinute: 0 };
const ok: RateVerdict = { ok: true };
const held = (reason: 'sender_rate' | 'thread_rate' | 'org_rate'): RateVerdict => ({ ok: false, reason });

describe('judgeRate with the defaults', () => {
  it.each<[string, Partial<RateCounts>, RateVerdict]>([
    ['nothing accepted yet', {}, ok],
    ['a normal afternoon', { senderLastMinute: 1, senderLastHour: 12, threadLastMinute: 3, orgLastMinute: 20 }, ok],
    // boundaries: counts are of messages already accepted, so count == limit holds
    ['sender: 9 this minute, the 10th passes', { senderLastMinute: 9, senderLastHour: 9 }, ok],
    ['sender: 10 this minute, the 11th is held', { senderLastMinute: 10, senderLastHour: 10 }, held('sender_rate')],
    ['sender: far over', { senderLastMinute: 500, senderLastHour: 500 }, held('sender_rate')],
    ['sender: 59 this hour passes', { senderLastMinute: 2, senderLastHour: 59 }, ok],
    ['sender: 60 this hour is held', { senderLastMinute: 2, senderLastHour: 60 }, held('sender_rate')],
    ['thread: 19 this minute passes', { threadLastMinute: 19 }, ok],
    ['thread: 20 this minute is held (loop breaker)', { threadLastMinute: 20 }, held('thread_rate')],
    ['org: 49 this minute passes', { orgLastMinute: 49 }, ok],
    ['org: 50 this minute is held', { orgLastMinute: 50 }, held('org_rate')],
    // narrowest scope wins
    ['sender and thread both over: sender', { senderLastMinute: 10, senderLastHour: 10, threadLastMinute: 20 }, held('sender_rate')],
    ['sender hour and org over: sender', { senderLastHour: 60, orgLastMinute: 50 }, held('sender_rate')],
    ['thread and org over: thread', { threadLastMinute: 20, orgLastMinute: 50 }, held('thread_rate')],
    // fail closed on a broken count
    ['NaN count holds', { orgLastMinute: Number.NaN }, held('org_rate')],
  ])('%s', (_name, counts, expected) => {
    expect(judgeRate({ ...quiet, ...counts }, DEFAULT_RATE_LIMITS)).toEqual(expected);
  });
});

describe('judgeRate with custom limits', () => {
  const base: RateLimits = { senderPerMinute: 3, senderPerHour: 5, threadPerMinute: 4, orgPerMinute: 6 };

  it.each<[string, Partial<RateLimits>, Partial<RateCounts>, RateVerdict]>([
    ['under every limit', {}, { senderLastMinute: 2, senderLastHour: 4, threadLastMinute: 3, orgLastMinute: 5 }, ok],
    ['sender minute', {}, { senderLastMinute: 3, senderLastHour: 3 }, held('sender_rate')],
    ['sender hour', {}, { senderLastHour: 5 }, held('sender_rate')],
    ['thread', {}, { threadLastMinute: 4 }, held('thread_rate')],
    ['org', {}, { orgLastMinute: 6 }, held('org_rate')],
    ['Infinity switches the org limit off', { orgPerMinute: Number.POSITIVE_INFINITY }, { orgLastMinute: 1e9 }, ok],
    ['Infinity switches the thread limit off', { threadPerMinute: Number.POSITIVE_INFINITY }, { threadLastMinute: 1e9 }, ok],
    ['a zero limit holds everything', { senderPerMinute: 0 }, {}, held('sender_rate')],
    ['a NaN limit fails closed', { threadPerMinute: Number.NaN }, {}, held('thread_rate')],
  ])('%s', (_name, limits, counts, expected) => {
    expect(judgeRate({ ...quiet, ...counts }, { ...base, ...limits })).toEqual(expected);
  });
});

describe('DEFAULT_RATE_LIMITS', () => {
  it('is frozen and in the order of magnitude of docs/SECURITY.md F27', () => {
    expect(Object.isFrozen(DEFAULT_RATE_LIMITS)).toBe(true);
    expect(DEFAULT_RATE_LIMITS).toEqual({ senderPerMinute: 10, senderPerHour: 60, threadPerMinute: 20, orgPerMinute: 50 });
    // The thread breaker must sit above one sender's limit, or one person's burst would trip it first.
    expect(DEFAULT_RATE_LIMITS.threadPerMinute).toBeGreaterThan(DEFAULT_RATE_LIMITS.senderPerMinute);
  });
});
