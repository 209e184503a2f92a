import { describe, expect, it } from 'vitest';
import { BUILTIN_REDACTIONS, compileRedactions, patternProblem, redact, type Redaction } from './redaction';

const { card, iban, phone } = BUILTIN_REDACTIONS;
const ALL = [iban, card, phone];

describe('redact with the built-ins', () => {
  it.each<[string, string, string]>([
    // cards: Luhn-valid test numbers of the card networks
    ['Visa, contiguous', 'pay with 4111111111111111 please', 'pay with [redacted card] please'],
    ['Visa, spaced', 'Card 4111 1111 1111 1111 exp 12/25', 'Card [redacted card] exp 12/25'],
    ['Visa, dashed', '4111-1111-1111-1111.', '[redacted card].'],
    ['Mastercard', 'mc: 5555 5555 5555 4444', 'mc: [redacted card]'],
    ['Amex 4-6-5', 'Amex 3782 822463 10005', 'Amex [redacted card]'],
    ['Diners 14 digits', '30569309025904', '[redacted card]'],
    ['19 digits', '4111111111111111110', '[redacted card]'],
    ['CSV cell', 'jane,4111111111111111,2025', 'jane,[redacted card],2025'],
    ['Luhn fails', '4111 1111 1111 1112', '4111 1111 1111 1112'],
    ['all zeros pass Luhn but are not a card', '0000 0000 0000 0000', '0000 0000 0000 0000'],
    ['12 digits', '411111111111', '411111111111'],
    ['20 digits', '41111111111111111110', '41111111111111111110'],
    ['card followed by its security code', 'card 4111 1111 1111 1111 123', 'card [redacted card] 123'],
    ['card followed by expiry and code', '4111 1111 1111 1111 1225 123', '[redacted card] 1225 123'],
    ['contiguous card followed by its code', '4111111111111111 123', '[redacted card] 123'],
    ['card after a year', '2024 4111 1111 1111 1111', '2024 [redacted card]'],
    ['card after an order number', 'order 5512 4111111111111111', 'order 5512 [redacted card]'],
    ['card inside a longer grouped number: redacted, the safer error', '1234 4111 1111 1111 1111 9999', '1234 [redacted card] 9999'],
    ['grouped number, no Luhn-valid prefix', '1234 5678 9012 3456 7890', '1234 5678 9012 3456 7890'],
    ['decimal digits', 'pi 3.14159265358979323', 'pi 3.14159265358979323'],
    ['Luhn-valid decimal fraction', 'ratio 0.4111111111111111', 'ratio 0.4111111111111111'],
    ['Luhn-valid digits before a decimal point', '4111111111111111.5 units', '4111111111111111.5 units'],
    ['CSV cell after a number', '12,4111111111111111', '12,[redacted card]'],
    ['part of a word', 'id A4111111111111111', 'id A4111111111111111'],
    // IBANs: examples of the ISO 13616 registry
    ['German IBAN, paper format', 'IBAN DE89 3704 0044 0532 0130 00 BIC COBADEFFXXX', 'IBAN [redacted iban] BIC COBADEFFXXX'],
    ['German IBAN, electronic', 'DE89370400440532013000', '[redacted iban]'],
    ['British IBAN', 'GB29 NWBK 6016 1331 9268 19.', '[redacted iban].'],
    ['Norwegian IBAN, 15 characters', 'NO93 8601 1117 947', '[redacted iban]'],
    ['Maltese IBAN, 31 characters', 'MT84 MALT 0110 0001 2345 MTLC AST0 01S', '[redacted iban]'],
    ['IBAN followed by a short upper-case word', 'CZ65 0800 0000 1920 0014 5399 OK', '[redacted iban] OK'],
    ['IBAN check digits wrong', 'DE88 3704 0044 0532 0130 00', 'DE88 3704 0044 0532 0130 00'],
    ['IBAN check digits 02', 'DE02 3704 0044 0532 0000 16', '[redacted iban]'],
    ['check digits 99 pass mod 97 but are never issued', 'DE99 3704 0044 0532 0000 16', 'DE99 3704 0044 0532 0000 16'],
    ['lower-case is not an IBAN', 'de89 3704 0044 0532 0130 00', 'de89 3704 0044 0532 0130 00'],
    ['product code shaped like an IBAN', 'SKU AB12 CDEF GHIJ KLMN', 'SKU AB12 CDEF GHIJ KLMN'],
    // phones: international form only
    ['German phone', 'call +49 30 1234567 today', 'call [redacted phone] today'],
    ['US phone with area code', '+1 (415) 555-2671', '[redacted phone]'],
    ['UK phone with trunk prefix', '+44 (0)20 7946 0958', '[redacted phone]'],
    ['French phone, pairs', '+33 1 23 45 67 89', '[redacted phone]'],
    ['E.164', '+14155552671', '[redacted phone]'],
    ['dotted', '+32.2.555.12.12', '[redacted phone]'],
    ['in parentheses', '(mobile: +49 151 23456789)', '(mobile: [redacted phone])'],
    ['two phones', '+49 30 1234567, +49 30 7654321', '[redacted phone], [redacted phone]'],
    ['phone then a date', '+49 30 1234567 12.05.2024', '[redacted phone] 12.05.2024'],
    ['phone then a year', '+44 20 7946 0958 2024', '[redacted phone] 2024'],
    ['"+1" then a date is agreement, not a phone', '+1 2024-05-06 works for me', '+1 2024-05-06 works for me'],
    ['"+1" then a count', '+1 for the 2024 plan', '+1 for the 2024 plan'],
    ['too short', '+49 1234', '+49 1234'],
    ['arithmetic, not a phone', '2+12345678=12345680', '2+12345678=12345680'],
    ['a phone whose digits pass Luhn is still a phone', '+1 4155 5526 71123', '[redacted phone]'],
    ['16 digits in one token', '+1234567890123456', '+1234567890123456'],
    ['doubled separators', '+49  30  1234567', '+49  30  1234567'],
    // things that must stay
    ['dates, times, versions, years, order ids', 'v1.2.3 on 2024-05-06 at 12:30; order 123456, build 20240506', 'v1.2.3 on 2024-05-06 at 12:30; order 123456, build 20240506'],
    ['national phone format is not caught', '(030) 1234 5678', '(030) 1234 5678'],
    ['a US number without + is not caught', '415-555-2671', '415-555-2671'],
    ['plain prose', 'Nothing to see here.', 'Nothing to see here.'],
  ])('%s', (_name, input, expected) => {
    expect(redact(input, ALL).text).toBe(expected);
  });

  it('counts replacements and lists the kinds in the order they ran', () => {
    const text = 'IBAN DE89 3704 0044 0532 0130 00, card 4111111111111111, +49 30 1234567, 5555555555554444';
    expect(redact(text, ALL)).toEqual({
      text: 'IBAN [redacted iban], card [redacted card], [redacted phone], [redacted card]',
      count: 4,
      kinds: ['iban', 'card', 'phone'],
    });
  });

  it('does not take an IBAN for a card, whatever the order', () => {
    // The digits 3704 0044 0532 0107 of this IBAN pass Luhn.
    const text = 'IBAN DE12 3704 0044 0532 0107 00';
    expect(redact(text, [card, iban]).text).toBe('IBAN [redacted iban]');
  });

  it('changes nothing without redactions', () => {
    expect(redact('4111111111111111', [])).toEqual({ text: '4111111111111111', count: 0, kinds: [] });
  });

  it('uses a pattern without the g flag globally', () => {
    const r: Redaction = { name: 'x', pattern: /secret/ };
    expect(redact('secret and secret', [r])).toEqual({ text: '[redacted x] and [redacted x]', count: 2, kinds: ['x'] });
  });

  it('skips empty matches', () => {
    expect(redact('abc', [{ name: 'x', pattern: /z*/g }])).toEqual({ text: 'abc', count: 0, kinds: [] });
  });

  // No timing assertions: a quadratic pattern would not return at all.
  const MB = 1 << 20;
  it.each<[string, string]>([
    ['1 MB of digits', '7'.repeat(MB)],
    ['1 MB of spaced digit groups', '4111 '.repeat(MB / 5)],
    ['1 MB of dashed digit pairs', '12-'.repeat(MB / 3)],
    ['1 MB of plus signs and digits', '+1'.repeat(MB / 2)],
    ['1 MB after one plus', `+${'9'.repeat(MB)}`],
    ['1 MB of spaced single digits after a plus', `+${'1 '.repeat(MB / 2)}`],
    ['1 MB of IBAN-like groups', 'AB12 '.repeat(MB / 5)],
    ['1 MB of IBAN-like run', 'AB12'.repeat(MB / 4)],
  ])('returns on %s', (_name, input) => {
    const out = redact(input, [...ALL, ...compileRedactions('regex:/\\bPROJ-\\d+\\b/i,regex:/[\\w.]{1,64}@corp\\.example/')]);
    expect(out.text.length).toBeGreaterThan(0);
  });
});

describe('compileRedactions', () => {
  it.each<[string, string[]]>([
    ['', []],
    ['  ', []],
    ['card', ['card']],
    ['card,iban,phone', ['card', 'iban', 'phone']],
    [' Card , IBAN ,', ['card', 'iban']],
    ['card,card', ['card']],
    ['iban,,card', ['iban', 'card']],
    ['regex:/\\bPROJ-\\d+\\b/i', ['custom']],
    ['project=regex:/\\bPROJ-\\d+\\b/i', ['project']],
    ['Project = regex:/PROJ-\\d+/', ['project']],
    ['card,regex:/PROJ-\\d{2,4}/,phone', ['card', 'custom', 'phone']],
    ['regex:/a[,/]b/,iban', ['custom', 'iban']],
    ['regex:/a\\/b,c/', ['custom']],
    ['regex:/PROJ/,regex:/proj/', ['custom', 'custom']],
  ])('%j -> %j', (spec, names) => {
    expect(compileRedactions(spec).map((r) => r.name)).toEqual(names);
  });

  it('keeps commas, flags and escapes of a pattern', () => {
    const [r] = compileRedactions('ticket=regex:/\\bT-\\d{2,4}\\b/i');
    expect(r?.pattern.flags).toBe('gi');
    expect(redact('see t-123 and T-45678', r ? [r] : []).text).toBe('see [redacted ticket] and T-45678');
  });

  it.each<[string, RegExp]>([
    ['cards', /entry 1 \("cards"\): expected card, iban, phone/],
    ['card,ssn', /entry 2 \("ssn"\)/],
    ['regex:PROJ', /entry 1 .*expected card/],
    ['regex:/PROJ', /entry 1 .*expected card/],
    ['regex:/PROJ/x junk', /expected card/],
    ['regex://', /the pattern is empty/],
    ['regex:/(/', /invalid regular expression/],
    ['regex:/[a-/', /invalid regular expression|expected card/],
    ['regex:/PROJ/g', /flags may only be i, m, s and u, not "g"/],
    ['regex:/PROJ/y', /flags may only be/],
    [`regex:/PROJ-${'x'.repeat(200)}/`, /longer than 200 characters/],
    ['1bad=regex:/PROJ/', /a label is a lower-case letter/],
    ['regex:/(a+)+/', /nested quantifier/],
    ['regex:/x(a*)*/', /nested quantifier/],
    ['regex:/x(?:ab+){2,}/', /nested quantifier/],
    ['regex:/x(a|aa)+/', /repeated alternation/],
    ['regex:/x((a|b)c)*/', /repeated alternation/],
    ['regex:/(\\d)\\1/', /backreferences/],
    ['regex:/(?<n>\\d)\\k<n>/', /backreferences/],
    ['regex:/(?<=a)b/', /lookbehind/],
    ['regex:/(?<!a)b/', /lookbehind/],
    ['regex:/\\d+x/', /start it with literal text/],
    ['regex:/.*secret/', /start it with literal text/],
    ['regex:/[a-z]+-key/', /start it with literal text/],
    ['regex:/\\d{0,32}\\d{0,32}x/', /start it with literal text/],
    ['regex:/x?\\d+/', /start it with literal text/],
    ['regex:/PROJ-\\d+|\\d+x/', /start it with literal text/],
    ['regex:/x*/', /start it with literal text|matches empty/],
    ['regex:/\\b/', /matches empty text/],
    ['regex:/x?/', /matches empty text/],
  ])('refuses %j', (spec, message) => {
    expect(() => compileRedactions(spec)).toThrow(message);
  });
});

describe('patternProblem', () => {
  it.each<[string, boolean]>([
    // accepted: a literal start, or bounded leading repeats
    ['\\bPROJ-\\d+\\b', true],
    ['PROJ-\\d+', true],
    ['(?:PROJ|TASK)-\\d+', true],
    ['(?<key>PROJ)-\\d+', true],
    ['\\b\\d{3}-\\d{2}-\\d{4}\\b', true],
    ['\\b[A-Z]{2}\\d{6}\\b', true],
    ['[\\w.]{1,64}@corp\\.example', true],
    ['password\\s*[:=]\\s*\\S+', true],
    ['\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}', true],
    ['x(?:ab)+', true],
    ['x(?:-\\d+)?', true],
    ['^\\d+x', true],
    ['(?=PROJ)\\w+', true],
    ['\\p{Lu}{2}-\\d+', true],
    ['\\.\\d+', true],
    // refused
    ['(a+)+', false],
    ['(?:\\.\\d{1,3}){3}', false],
    ['\\d+x', false],
    ['.+@corp', false],
    ['[\\w.]+@corp', false],
    ['(?!PROJ)\\w+x', false],
    ['(?:x|\\d+)y', false],
  ])('%s -> accepted: %s', (source, accepted) => {
    expect(patternProblem(source, false) === null).toBe(accepted);
  });

  it('with the m flag, ^ does not anchor: every line start is a try', () => {
    expect(patternProblem('^\\d+x', true)).toMatch(/literal text/);
  });
});
