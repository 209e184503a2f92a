import { describe, expect, it } from 'vitest';
import { budgetParts, MemoryBudget } from './memory-budget';

/** A task that runs until `finish()` is called, recording when it started. */
function gate(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { fn: async () => { log.push(`start ${name}`); await done; log.push(`end ${name}`); }, finish: () => finish() };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('MemoryBudget', () => {
  it.each([
    [100, 0, 1],
    [100, 1, 1],
    [100, 40.5, 41],
    [100, 100, 100],
    [100, 5_000, 100],
  ])('with capacity %i a message of %d bytes takes %i', (capacity, bytes, weight) => {
    expect(new MemoryBudget(capacity).weightOf(bytes)).toBe(weight);
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new MemoryBudget(0)).toThrow(RangeError);
    expect(() => new MemoryBudget(1.5)).toThrow(RangeError);
  });

  it('runs small messages side by side and a large one alone', async () => {
    const log: string[] = [];
    const budget = new MemoryBudget(100);
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const big = gate(log, 'big');
    const c = gate(log, 'c');
    const runs = [budget.run(30, a.fn), budget.run(30, b.fn), budget.run(500, big.fn), budget.run(10, c.fn)];
    await tick();
    // a and b fit together; the big one waits for the whole budget, and c waits behind it.
    expect(log).toEqual(['start a', 'start b']);
    expect(budget.available).toBe(40);
    a.finish();
    await tick();
    expect(log).toEqual(['start a', 'start b', 'end a']);
    b.finish();
    await tick();
    expect(log).toEqual(['start a', 'start b', 'end a', 'end b', 'start big']);
    expect(budget.available).toBe(0);
    big.finish();
    await tick();
    expect(log.slice(-2)).toEqual(['end big', 'start c']);
    c.finish();
    await Promise.all(runs);
    expect(budget.available).toBe(100);
  });

  it('gives the bytes back when the conversion throws', async () => {
    const budget = new MemoryBudget(10);
    await expect(budget.run(10, () => Promise.reject(new Error('bad mail')))).rejects.toThrow('bad mail');
    expect(budget.available).toBe(10);
    await expect(budget.run(10, async () => 'next')).resolves.toBe('next');
  });
});

describe('budgetParts', () => {
  it.each([
    [100, [10, 20, 30], [[10, 20, 30]]],
    [100, [60, 50, 40, 10], [[60], [50, 40, 10]]],
    [100, [100, 1], [[100], [1]]],
    [100, [500, 10, 20], [[500], [10, 20]]],
    [100, [10, 500, 20], [[10], [500], [20]]],
    [100, [], []],
    [Infinity, [500, 500], [[500, 500]]],
  ])('capacity %d cuts %j into %j, in order', (capacity, sizes, parts) => {
    expect(budgetParts(sizes.map((size) => ({ size })), capacity).map((p) => p.map((r) => r.size))).toEqual(parts);
  });
});
