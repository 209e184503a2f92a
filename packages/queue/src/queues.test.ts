import { describe, expect, it } from 'vitest';
import { ingestBackoff } from './queues';

describe('ingestBackoff', () => {
  it.each([
    [1, 1_000],
    [2, 2_000],
    [4, 8_000],
    [5, 15_000],
    [30, 15_000],
  ])('after %i attempts waits %i ms', (n, ms) => {
    expect(ingestBackoff(n)).toBe(ms);
  });
});
