import { describe, expect, it } from 'vitest';
import { parseSince } from './cli-webhooks';

describe('parseSince', () => {
  const now = new Date('2026-12-06T12:00:00.000Z');
  it.each<[string, string | null]>([
    ['2h', '2026-12-06T10:00:00.000Z'],
    ['30m', '2026-12-06T11:30:00.000Z'],
    ['1d', '2026-12-05T12:00:00.000Z'],
    ['2026-12-01', '2026-12-01T00:00:00.000Z'],
    ['2026-12-01T08:00:00Z', '2026-12-01T08:00:00.000Z'],
    ['2026-12-01T08:00:00+01:00', '2026-12-01T07:00:00.000Z'],
    ['yesterday', null],
    ['2h ago', null],
    ['2026-13-45', null],
  ])('%s -> %s', (s, expected) => {
    expect(parseSince(s, now)?.toISOString() ?? null).toBe(expected);
  });
});
