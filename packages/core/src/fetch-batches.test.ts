import { describe, expect, it } from 'vitest';
import { arrivalsAhead, fetchBatches } from './fetch-batches';

const MB = 1024 * 1024;
const sizes = (batches: { size: number }[][]) => batches.map((b) => b.map((m) => m.size / MB));

describe('fetchBatches', () => {
  it.each<[string, number[], { count: number; bytes: number }, number[][]]>([
    ['nothing', [], { count: 50, bytes: 32 * MB }, []],
    ['small mails: the count decides', [1, 1, 1, 1, 1], { count: 2, bytes: 32 * MB }, [[1, 1], [1, 1], [1]]],
    ['fifty 24 MB mails: one per batch', Array(4).fill(24), { count: 50, bytes: 32 * MB }, [[24], [24], [24], [24]]],
    ['mixed: bytes close a batch before the count', [10, 10, 10, 5, 1, 30], { count: 50, bytes: 32 * MB }, [[10, 10, 10], [5, 1], [30]]],
    ['a mail over the byte budget goes alone', [1, 40, 1], { count: 50, bytes: 32 * MB }, [[1], [40], [1]]],
    ['exactly the budget fits', [16, 16, 1], { count: 50, bytes: 32 * MB }, [[16, 16], [1]]],
  ])('%s', (_what, mb, limits, expected) => {
    expect(sizes(fetchBatches(mb.map((m) => ({ size: m * MB })), limits))).toEqual(expected);
  });

  it('does not count mails that are not downloaded (over the size limit)', () => {
    const items = [{ size: 20 * MB }, { size: 900 * MB, skip: true }, { size: 10 * MB }];
    expect(sizes(fetchBatches(items, { count: 50, bytes: 32 * MB }, (m) => !('skip' in m)))).toEqual([[20, 900, 10]]);
  });

  it('keeps the order of the mails', () => {
    const items = [3, 1, 4, 1, 5, 9, 2, 6].map((n, i) => ({ size: n * MB, i }));
    expect(fetchBatches(items, { count: 3, bytes: 10 * MB }).flat().map((m) => m.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('arrivalsAhead', () => {
  const m = (uid: number, messageId: string | null, inReplyTo: string | null = null) => ({ uid, messageId, inReplyTo });
  it.each<[string, ReturnType<typeof m>[], string[], number[]]>([
    ['nothing arrived', [], ['a'], []],
    ['new threads all go ahead', [m(10, 'x'), m(11, 'y')], ['a', 'b'], [10, 11]],
    ['a reply to a stored or unknown mail goes ahead', [m(10, 'x', 'old'), m(11, null, 'z')], ['a'], [10, 11]],
    ['a reply to a mail still waiting in the catch-up is held back', [m(10, 'x'), m(11, 'y', 'a')], ['a'], [10]],
    ['and so is a reply to the held-back reply', [m(11, 'y', 'a'), m(12, 'z', 'y'), m(13, 'w', 'x')], ['a'], [13]],
    ['in UID order whatever the input order', [m(12, 'z', 'y'), m(11, 'y', 'a'), m(10, 'x')], ['a'], [10]],
    ['a held-back reply without a Message-ID holds nothing else back', [m(11, null, 'a'), m(12, 'z', 'q')], ['a'], [12]],
  ])('%s', (_what, arrivals, waiting, expected) => {
    expect(arrivalsAhead(arrivals, new Set(waiting)).map((a) => a.uid)).toEqual(expected);
  });
});
