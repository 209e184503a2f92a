import { describe, expect, it } from 'vitest';
import { isoWeek } from './outbox';

describe('isoWeek', () => {
  it.each([
    ['2026-11-25T12:00:00Z', '2026-W48'],
    ['2026-01-01T00:00:00Z', '2026-W01'],
    ['2027-01-01T00:00:00Z', '2026-W53'],
    ['2024-12-30T00:00:00Z', '2025-W01'],
  ])('%s is in %s', (date, week) => {
    expect(isoWeek(new Date(date))).toBe(week);
  });
});
