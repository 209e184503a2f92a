import { describe, expect, it } from 'vitest';
import { formatDateTime, formatRelativeTime } from './format';
import type { Language } from './languages';

const at = new Date(Date.UTC(2026, 0, 5, 12, 30));

describe('formatDateTime', () => {
  it.each<[Language, string, 'short' | 'medium', string]>([
    ['en', 'Europe/Berlin', 'short', 'Mon 5 Jan, 13:30'],
    ['en', 'UTC', 'short', 'Mon 5 Jan, 12:30'],
    ['en', 'Not/AZone', 'short', 'Mon 5 Jan, 12:30'],
    ['de', 'Europe/Berlin', 'short', 'Mo., 5. Jan., 13:30'],
    ['fr', 'Europe/Paris', 'short', 'lun. 5 janv., 13:30'],
    ['es', 'Europe/Madrid', 'short', 'lun, 5 ene, 13:30'],
    ['ja', 'Asia/Tokyo', 'short', '1月5日(月) 21:30'],
    ['en', 'UTC', 'medium', '5 Jan 2026, 12:30'],
    ['de', 'UTC', 'medium', '05.01.2026, 12:30'],
    ['ja', 'UTC', 'medium', '2026/01/05 12:30'],
  ])('%s in %s (%s) -> %s', (lang, zone, style, expected) => {
    expect(formatDateTime(lang, at, zone, style)).toBe(expected);
  });
});

describe('formatRelativeTime', () => {
  const min = 60_000;
  it.each<[Language, number, string]>([
    ['en', -10_000, 'now'],
    ['en', -5 * min, '5 minutes ago'],
    ['en', -1 * min, '1 minute ago'],
    ['en', -3 * 60 * min, '3 hours ago'],
    ['en', -24 * 60 * min, 'yesterday'],
    ['en', 2 * 60 * min, 'in 2 hours'],
    ['de', -5 * min, 'vor 5 Minuten'],
    ['de', -24 * 60 * min, 'gestern'],
    ['fr', -3 * 60 * min, 'il y a 3 heures'],
    ['es', -5 * min, 'hace 5 minutos'],
    ['ja', -24 * 60 * min, '昨日'],
    ['ja', -14 * 24 * 60 * min, '2 週間前'],
    ['en', -400 * 24 * 60 * min, 'last year'],
  ])('%s, %d ms -> %s', (lang, offset, expected) => {
    expect(formatRelativeTime(lang, new Date(at.getTime() + offset), at)).toBe(expected);
  });
});
