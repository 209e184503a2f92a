import { describe, expect, it } from 'vitest';
import { reconnectDelay, throttledDelay } from './backoff';

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

describe('throttledDelay', () => {
  it.each([
    // attempt, server hint, jitter, delay
    [0, undefined, 1, 30_000],
    [0, undefined, 0, 30_000], // jitter never takes it under 30 s
    [1, undefined, 1, 60_000],
    [4, undefined, 1, 480_000],
    [5, undefined, 1, 900_000],
    [40, undefined, 1, 900_000],
    [0, 92_415, 1, 92_415], // Exchange: "Suggested Backoff Time: 92415 milliseconds"
    [0, 10_000, 1, 30_000],
    [0, 86_400_000, 1, 900_000], // a hint of a day is capped
    [0, Number.NaN, 1, 30_000],
  ])('attempt %i, hint %s, jitter %i -> %i ms', (attempt, hint, jitter, ms) => {
    expect(throttledDelay(attempt, hint, () => jitter)).toBe(ms);
  });
});
