import { describe, expect, it } from 'vitest';
import { reconnectDelay } from './backoff';

describe('reconnectDelay', () => {
  it.each([
    [0, 1_000],
    [1, 2_000],
    [3, 8_000],
    [6, 60_000],
    [50, 60_000],
  ])('attempt %i without jitter -> %i ms', (attempt, ms) => {
    expect(reconnectDelay(attempt, 1_000, 60_000, () => 1)).toBe(ms);
  });

  it('jitter only ever shortens the delay, by at most 20%', () => {
    expect(reconnectDelay(2, 1_000, 60_000, () => 0)).toBe(3_200);
  });
});
