import { describe, expect, it } from 'vitest';
import { cleanBody, cleanTitle, titleFromBody } from './post-text';

describe('titleFromBody', () => {
  const long = 'x'.repeat(100);
  it.each<[string, string, string]>([
    ['first non-empty line', '\n  First line here  \nsecond', 'First line here'],
    ['empty body', ' \n ', ''],
    ['exactly the limit stays whole', 'y'.repeat(80), 'y'.repeat(80)],
    ['longer lines are cut to 80 with an ellipsis', long, `${'x'.repeat(79)}…`],
    ['cut in code points, never inside a surrogate pair', '😀'.repeat(90), `${'😀'.repeat(79)}…`],
    ['no space before the ellipsis', `${'a'.repeat(78)} bcd`, `${'a'.repeat(78)}…`],
    ['control and bidi characters go', 'Plan\u202E for Q3\u0007', 'Plan for Q3'],
  ])('%s', (_name, body, title) => {
    expect(titleFromBody(body)).toBe(title);
  });

  it('takes another limit', () => {
    expect(titleFromBody('abcdef', 4)).toBe('abc…');
  });
});

describe('cleanTitle and cleanBody', () => {
  it.each<[string, string, string]>([
    ['title: whitespace collapsed to one line', '  Q3\n plan\t done ', 'Q3 plan done'],
    ['title: bidi override removed', 'a\u202Eb', 'ab'],
  ])('%s', (_name, given, expected) => {
    expect(cleanTitle(given)).toBe(expected);
  });

  it.each<[string, string, string]>([
    ['body: CRLF to LF, blank first line and trailing space dropped', '\r\n \r\nHello\r\nworld  \n\n', 'Hello\nworld'],
    ['body: control characters removed, indentation kept', '  indented\u0000 text', '  indented text'],
  ])('%s', (_name, given, expected) => {
    expect(cleanBody(given)).toBe(expected);
  });
});
