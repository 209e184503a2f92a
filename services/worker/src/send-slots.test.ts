import { describe, expect, it } from 'vitest';
import { composedBytes } from './jobs/send';
import { MemoryBudget } from './memory-budget';

/** A task that runs until `finish()` is called, recording when it started and ended. */
function gate(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { fn: async () => { log.push(`start ${name}`); await done; log.push(`end ${name}`); }, finish: () => finish() };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('composedBytes', () => {
  const row = { textBody: 'x'.repeat(100), htmlBody: 'y'.repeat(300), kind: 'mirror', hasFiles: true, filesBytes: 10_000 } as const;
  it.each<[string, Parameters<typeof composedBytes>[0], number, number]>([
    ['a mirror with files: text, HTML and files', row, 1_000_000, 10_400],
    ['files past the per-mail limit count as much as the mail carries', row, 5_000, 5_400],
    ['a mirror without files', { ...row, hasFiles: false, filesBytes: 0 }, 1_000_000, 400],
    ['other mail carries no files', { ...row, kind: 'digest' }, 1_000_000, 400],
    ['no HTML', { ...row, htmlBody: null, hasFiles: false }, 1_000_000, 100],
  ])('%s', (_name, r, max, bytes) => {
    expect(composedBytes(r, max)).toBe(bytes);
  });
});

/** The composing limit of a send (`composedLimit`): a MemoryBudget of `bytes` with at most `count` at once. */
const slots = (count: number, bytes: number) => new MemoryBudget(bytes, count);

describe('MemoryBudget with a count (the composing limit)', () => {
  it('rejects a count that is not a positive integer, or bytes that are not positive', () => {
    expect(() => slots(0, 10)).toThrow(RangeError);
    expect(() => slots(1.5, 10)).toThrow(RangeError);
    expect(() => slots(2, 0)).toThrow(RangeError);
  });

  it('runs light mails up to the count, heavy ones within the bytes, and one heavier than all the bytes alone', async () => {
    const log: string[] = [];
    const limit = slots(3, 100);
    const [a, b, c, d, big, e] = ['a', 'b', 'c', 'd', 'big', 'e'].map((n) => gate(log, n));
    const runs = [limit.run(1, a!.fn), limit.run(1, b!.fn), limit.run(1, c!.fn), limit.run(60, d!.fn), limit.run(500, big!.fn), limit.run(1, e!.fn)];
    await tick();
    // Three light ones fill the count; d waits for a slot, the big one for all of them, e behind it.
    expect(log).toEqual(['start a', 'start b', 'start c']);
    a!.finish();
    await tick();
    expect(log.slice(-2)).toEqual(['end a', 'start d']);
    expect(limit.inUse).toEqual({ count: 3, bytes: 62 });
    b!.finish();
    c!.finish();
    await tick();
    // Two runs are free, but the big one needs all of them; e does not pass it.
    expect(log.slice(-2)).toEqual(['end b', 'end c']);
    d!.finish();
    await tick();
    expect(log.slice(-2)).toEqual(['end d', 'start big']);
    expect(limit.inUse).toEqual({ count: 1, bytes: 500 });
    big!.finish();
    await tick();
    expect(log.slice(-2)).toEqual(['end big', 'start e']);
    e!.finish();
    await Promise.all(runs);
    expect(limit.inUse).toEqual({ count: 0, bytes: 0 });
  });

  it('keeps two heavy mails apart when they do not fit together', async () => {
    const log: string[] = [];
    const limit = slots(10, 100);
    const [x, y] = ['x', 'y'].map((n) => gate(log, n));
    const runs = [limit.run(60, x!.fn), limit.run(60, y!.fn)];
    await tick();
    expect(log).toEqual(['start x']);
    x!.finish();
    await tick();
    expect(log).toEqual(['start x', 'end x', 'start y']);
    y!.finish();
    await Promise.all(runs);
  });

  it('gives the slot and its bytes back when the send throws', async () => {
    const limit = slots(1, 10);
    await expect(limit.run(10, () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    expect(limit.inUse).toEqual({ count: 0, bytes: 0 });
    await expect(limit.run(10, async () => 'next')).resolves.toBe('next');
  });

  it.each([1, 2, 3])('never holds more than its count or bytes (but a heavy mail alone), and finishes every mail (seed %i)', async (seed) => {
    // Random weights, durations and arrivals, some failing: every run must end, within the limits.
    let s = seed;
    const rand = () => ((s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const limit = slots(4, 1_000);
    let count = 0;
    let bytes = 0;
    const violations: string[] = [];
    const runs: Promise<unknown>[] = [];
    for (let i = 0; i < 300; i++) {
      const weight = rand() < 0.1 ? 600 + Math.floor(rand() * 1_500) : Math.floor(rand() * 120);
      const ms = Math.floor(rand() * 3);
      const fails = rand() < 0.1;
      runs.push(
        limit
          .run(weight, async () => {
            count++;
            bytes += weight;
            if (count > 4) violations.push(`${count} at once`);
            if (bytes > 1_000 && count > 1) violations.push(`${bytes} bytes over ${count} mails`);
            await new Promise((r) => setTimeout(r, ms));
            count--;
            bytes -= weight;
            if (fails) throw new Error('refused');
          })
          .catch(() => undefined),
      );
      if (rand() < 0.3) await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(runs);
    expect(violations).toEqual([]);
    expect(limit.inUse).toEqual({ count: 0, bytes: 0 });
    expect(limit.peak).toBe(4);
    expect(limit.peakBytes).toBeGreaterThan(1_000);
  });
});
