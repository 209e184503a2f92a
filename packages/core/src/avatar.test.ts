import { describe, expect, it } from 'vitest';
import { AVATAR_COLOURS, avatarColourIndex, initials } from './avatar';

describe('initials', () => {
  it.each([
    ['Ada Lovelace', 'ada@example.com', 'AL'],
    ['Jean-Luc Picard', 'jl@example.com', 'JP'],
    ['Mary Ann de la Cruz', 'm@example.com', 'MC'],
    ['Cher', 'cher@example.com', 'CH'],
    ['', 'bob@example.com', 'B'],
    ['Łukasz Żak', 'l@example.com', 'ŁŻ'],
    ['山田 太郎', 'y@example.com', '山太'],
    ['"Ops" (night shift)', 'ops@example.com', 'OP'],
    ['', '', '?'],
  ])('%j <%s> -> %s', (name, email, expected) => {
    expect(initials(name, email)).toBe(expected);
  });
});

describe('avatarColourIndex', () => {
  it('is stable, ignores case and spacing, and stays in range', () => {
    expect(avatarColourIndex('Ada@Example.com ')).toBe(avatarColourIndex('ada@example.com'));
    const seen = new Set(['a@x', 'b@x', 'c@x', 'd@x', 'e@x', 'f@x', 'g@x', 'h@x', 'i@x', 'j@x'].map(avatarColourIndex));
    for (const i of seen) expect(i).toBeGreaterThanOrEqual(0), expect(i).toBeLessThan(AVATAR_COLOURS.length);
    expect(seen.size).toBeGreaterThan(3);
  });

  it.each(AVATAR_COLOURS.map((c) => [c]))('%s has at least 4.5:1 contrast with white', (hex) => {
    const lum = (v: number) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    const [r, g, b] = [1, 3, 5].map((i) => lum(parseInt(hex.slice(i, i + 2), 16) / 255));
    const l = 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    expect(1.05 / (l + 0.05)).toBeGreaterThanOrEqual(4.5);
  });
});
