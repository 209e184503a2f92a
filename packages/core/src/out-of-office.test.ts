import { describe, expect, it } from 'vitest';
import { isOutOfOfficeSubject } from './out-of-office';

describe('isOutOfOfficeSubject', () => {
  it.each<[string, boolean]>([
    ['Out of Office: Budget', true],
    ['OUT OF OFFICE', true],
    ['Out of the office until Monday - Jane', false],
    ['Out of the office - Jane', true],
    ['Automatic reply: Budget', true],
    ['Abwesenheit: Urlaub bis 5.1.', true],
    ['Abwesenheitsnotiz: Budget', true],
    ['Re\u0301ponse automatique : Budget', true],
    ['Afwezig: Budget', true],
    ['Nieobecność: Budget', true],
    ['  Autosvar:Budget', true],
    ['[EXT] [list] Out of office: Budget', true],
    ['Re: Out of office: Budget', false],
    ['Out of office party on Friday', false],
    ['Out-of-office policy', false],
    ['Absence policy update', false],
    ['Automatic replies are broken', false],
    ['About the automatic reply: it loops', false],
    ['', false],
  ])('%j -> %s', (subject, expected) => {
    expect(isOutOfOfficeSubject(subject)).toBe(expected);
  });
});
