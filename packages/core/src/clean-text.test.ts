import { describe, expect, it } from 'vitest';
import { cleanDisplayName, squashWhitespace, stripBidiControls, stripControlChars, truncate } from './clean-text';

describe('stripControlChars', () => {
  it.each([
    ['plain', 'plain'],
    ['a\r\nb', 'a\nb'],
    ['a\rb', 'a\nb'],
    ['a\r\r\nb', 'a\n\nb'],
    ['tab\tand\nnewline kept', 'tab\tand\nnewline kept'],
    ['nul\u0000byte', 'nulbyte'],
    ['bell\u0007 esc\u001b[31m', 'bell esc[31m'],
    ['vt\u000B ff\u000C', 'vt ff'],
    ['del\u007F', 'del'],
    ['c1\u0085\u009B', 'c1'],
    ['nbsp\u00A0kept', 'nbsp\u00A0kept'],
    ['ünïcødé ✓ 😀', 'ünïcødé ✓ 😀'],
  ])('%j -> %j', (input, expected) => {
    expect(stripControlChars(input)).toBe(expected);
  });
});

describe('squashWhitespace', () => {
  it.each([
    ['', ''],
    ['one', 'one'],
    ['two words', 'two words'],
    ['  padded  ', 'padded'],
    ['a  b\t\tc\nd', 'a b c d'],
    ['tab\tonly', 'tab only'],
    ['no\u00A0break', 'no break'],
    ['\u3000全角\u3000\u3000空白\u3000', '全角 空白'],
    [' \u00A0 \t', ''],
  ])('%j -> %j', (input, expected) => {
    expect(squashWhitespace(input)).toBe(expected);
    expect(squashWhitespace(input)).toBe(input.replace(/\s+/g, ' ').trim());
  });
});

describe('stripBidiControls', () => {
  it.each([
    ['abc\u202Edef', 'abcdef'],
    ['\u2066x\u2069', 'x'],
    ['\u200Fx\u200E', 'x'],
    ['\uFEFFx', 'x'],
    // ZWJ stays: it joins emoji sequences such as the family emoji
    ['👨\u200D👩\u200D👧', '👨\u200D👩\u200D👧'],
  ])('%j -> %j', (input, expected) => {
    expect(stripBidiControls(input)).toBe(expected);
  });
});

describe('cleanDisplayName', () => {
  it.each([
    ['Jane Doe', 'Jane Doe'],
    ['  Jane   Doe  ', 'Jane Doe'],
    ['Jane\r\nBcc: x@evil.io', 'Jane Bcc: x@evil.io'],
    ['Jane\tDoe', 'Jane Doe'],
    ['Jane\u0000Doe', 'JaneDoe'],
    ['Jane \u202Eeod\u202C', 'Jane eod'],
    ['\u202Agpj.exe\u202B', 'gpj.exe'],
    ['\u2066Jane\u2067\u2068\u2069', 'Jane'],
    ['J\u200Ba\u200Cn\u200De', 'Jane'],
    ['\uFEFFJane', 'Jane'],
    ['Jane\u2028Doe\u2029', 'JaneDoe'],
    ['Jane \u2028 Doe', 'Jane Doe'],
    ['"ceo@corp.com"', '"ceo@corp.com"'],
    ['Zoë Ærøskøbing', 'Zoë Ærøskøbing'],
    ['', ''],
    ['\u200B\u202E', ''],
  ])('%j -> %j', (input, expected) => {
    expect(cleanDisplayName(input)).toBe(expected);
  });

  it.each([
    ['x'.repeat(500), 200],
    ['😀'.repeat(500), 400],
    [`${'x'.repeat(199)} tail`, 199],
  ])('caps at 200 code points (%#)', (input, units) => {
    expect(cleanDisplayName(input)).toHaveLength(units);
  });
});

describe('truncate', () => {
  it.each([
    ['abc', 5, 'abc'],
    ['abc', 3, 'abc'],
    ['abcdef', 3, 'abc'],
    ['abc', 0, ''],
    ['😀😀😀', 2, '😀😀'],
    ['a😀b', 2, 'a😀'],
    ['😀😀', 3, '😀😀'],
    ['', 10, ''],
  ])('truncate(%j, %i) -> %j', (input, max, expected) => {
    expect(truncate(input, max)).toBe(expected);
  });

  it('never leaves a lone surrogate', () => {
    const out = truncate('😀'.repeat(10), 5);
    expect('😀'.repeat(10).slice(0, 5)).toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(out).toBe('😀'.repeat(5));
    expect(out).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
  });

  it.each([-1, 1.5, Number.NaN])('rejects max=%s', (max) => {
    expect(() => truncate('abc', max)).toThrow(RangeError);
  });
});
