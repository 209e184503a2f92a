import { describe, expect, it } from 'vitest';
import { singleLine } from './compose';

describe('singleLine', () => {
  it.each([
    ['Budget\r\nBcc: eve@evil.test', 250, 'Budget Bcc: eve@evil.test'],
    ['  a \t b\u2028c  ', 250, 'a b c'],
    ['abcdef', 6, 'abcdef'],
    ['abcdef', 4, 'abcd'],
    // Cut by code points: a character outside the BMP is not split into half a pair.
    ['😀😀😀', 2, '😀😀'],
    ['😀😀😀', 4, '😀😀😀'],
    ['😀😀😀', 6, '😀😀😀'],
    ['', 5, ''],
  ])('%j, at most %i -> %j', (s, max, out) => expect(singleLine(s, max)).toBe(out));
});
