import { describe, expect, it } from 'vitest';
import { childThreadIndex, isThreadIndex, isThreadIndexReply, newThreadIndex, threadIndexRoot } from './thread-index';

const guid = Uint8Array.from({ length: 16 }, (_, i) => i);
const start = new Date('2026-01-01T00:00:00Z');
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
/** FILETIME (100 ns since 1601) of a date, as a number of milliseconds since 1601. */
const ms1601 = (d: Date) => d.getTime() + 11_644_473_600_000;

describe('newThreadIndex', () => {
  it('writes 0x01, the FILETIME high 40 bits and the GUID', () => {
    const ti = newThreadIndex(start, guid);
    // Outlook's headers of 2025/2026 start with "AQHb"/"AQHc": 0x01 then the FILETIME bytes.
    expect(ti).toBe('AQHcerGSAAECAwQFBgcICQoLDA0ODw==');
    const b = bytes(ti);
    expect(b).toHaveLength(22);
    expect(b[0]).toBe(1);
    expect([...b.subarray(6)]).toEqual([...guid]);
    // The 40 bits keep the time to within 2^24 x 100 ns (about 1.7 s).
    const high = b.subarray(1, 6).reduce((n, x) => n * 256 + x, 0);
    expect(Math.abs((high * 2 ** 24) / 10_000 - ms1601(start))).toBeLessThan(1678);
    expect(isThreadIndex(ti)).toBe(true);
  });

  it('rejects a GUID that is not 16 bytes', () => {
    expect(() => newThreadIndex(start, new Uint8Array(15))).toThrow(RangeError);
  });
});

describe('childThreadIndex', () => {
  const parent = newThreadIndex(start, guid);

  it.each<[string, string, 0 | 1]>([
    ['one second later', '2026-01-01T00:00:01Z', 0],
    ['one hour later', '2026-01-01T01:00:00Z', 0],
    ['a year later', '2027-01-01T00:00:00Z', 0],
    ['two years later (DeltaCode 1)', '2028-01-01T00:00:00Z', 1],
  ])('%s', (_name, at, deltaCode) => {
    const child = childThreadIndex(parent, new Date(at))!;
    const b = bytes(child);
    expect(b).toHaveLength(27);
    expect(child.startsWith(parent.slice(0, 28))).toBe(true);
    expect([...b.subarray(0, 22)]).toEqual([...bytes(parent)]);
    const word = ((b[22]! << 24) | (b[23]! << 16) | (b[24]! << 8) | b[25]!) >>> 0;
    expect(word >>> 31).toBe(deltaCode);
    // Decode the delta back: bits 48..18 (DC 0) or 53..23 (DC 1) of a 100-ns count.
    const units = (word & 0x7fff_ffff) * 2 ** (deltaCode ? 23 : 18);
    const header = b.subarray(1, 6).reduce((n, x) => n * 256 + x, 0) * 2 ** 24;
    const decodedMs = (header + units) / 10_000;
    const resolutionMs = 2 ** (deltaCode ? 23 : 18) / 10_000;
    expect(Math.abs(decodedMs - ms1601(new Date(at)))).toBeLessThanOrEqual(resolutionMs);
    expect(isThreadIndex(child)).toBe(true);
  });

  it('chains: a reply to a reply adds another level', () => {
    const c1 = childThreadIndex(parent, new Date('2026-01-01T01:00:00Z'))!;
    const c2 = childThreadIndex(c1, new Date('2026-01-01T02:00:00Z'))!;
    expect(bytes(c2)).toHaveLength(32);
    expect([...bytes(c2).subarray(0, 27)]).toEqual([...bytes(c1)]);
  });

  it('is deterministic (a retried job builds the same header) and differs by time', () => {
    const at = new Date('2026-01-01T01:00:00Z');
    expect(childThreadIndex(parent, at)).toBe(childThreadIndex(parent, at));
    expect(childThreadIndex(parent, at)).not.toBe(childThreadIndex(parent, new Date(at.getTime() + 1)));
  });

  it('clamps a reply dated before the thread to a zero delta', () => {
    const b = bytes(childThreadIndex(parent, new Date('2025-01-01T00:00:00Z'))!);
    expect([...b.subarray(22, 26)]).toEqual([0, 0, 0, 0]);
  });

  it('accepts a folded header value', () => {
    expect(childThreadIndex(`${parent.slice(0, 10)}\r\n ${parent.slice(10)}`, start)).not.toBeNull();
  });

  it.each([
    ['empty', ''],
    ['not base64', 'not a thread index!'],
    ['too short', Buffer.from(new Uint8Array(21)).toString('base64')],
    ['bad padding', 'AQHcerGSAAECAwQFBgcICQoLDA0ODw='],
  ])('null for %s', (_name, s) => {
    expect(childThreadIndex(s, start)).toBeNull();
  });
});

describe('isThreadIndex', () => {
  it.each([
    ['new', newThreadIndex(start, guid), true],
    ['real Outlook shape', 'AQHcerGSAAECAwQFBgcICQoLDA0ODwACGJFy', true],
    ['empty', '', false],
    ['22 bytes not starting with 0x01', Buffer.from(new Uint8Array(22)).toString('base64'), false],
    ['a partial response level', Buffer.concat([bytes(newThreadIndex(start, guid)), new Uint8Array(3)]).toString('base64'), false],
    ['garbage', '%%%%', false],
  ])('%s -> %s', (_name, s, expected) => {
    expect(isThreadIndex(s)).toBe(expected);
  });
});

describe('threadIndexRoot / isThreadIndexReply', () => {
  const guid = new Uint8Array(16).fill(7);
  const root = newThreadIndex(new Date('2026-11-01T10:00:00Z'), guid);
  const reply = childThreadIndex(root, new Date('2026-11-01T11:00:00Z'))!;
  const replyToReply = childThreadIndex(reply, new Date('2026-11-02T09:00:00Z'))!;
  it.each<[string, string, string | null, boolean]>([
    ['a first mail is its own root, not a reply', root, root, false],
    ['a reply has the root of its conversation', reply, root, true],
    ['so has a reply to a reply', replyToReply, root, true],
    ['garbage has none', 'not base64 !!', null, false],
    ['too short has none', Buffer.from([1, 2, 3]).toString('base64'), null, false],
  ])('%s', (_name, value, expectedRoot, isReply) => {
    expect(threadIndexRoot(value)).toBe(expectedRoot);
    expect(isThreadIndexReply(value)).toBe(isReply);
  });
});
