import { describe, expect, it } from 'vitest';
import { isLanguage, languageOf, negotiateLanguage, type Language } from './languages';

describe('negotiateLanguage', () => {
  it.each<[string | undefined, Language, Language]>([
    [undefined, 'en', 'en'],
    ['', 'de', 'de'],
    ['de', 'en', 'de'],
    ['de-CH', 'en', 'de'],
    ['DE-ch', 'en', 'de'],
    ['fr-CA,fr;q=0.9,en;q=0.8', 'en', 'fr'],
    ['en;q=0.5, ja', 'de', 'ja'],
    ['zh-CN, es;q=0.3', 'en', 'es'],
    ['zh-CN, ko', 'fr', 'fr'],
    ['*', 'es', 'es'],
    ['*;q=0.1, de', 'en', 'de'],
    ['en;q=0, *', 'en', 'de'],
    ['de;q=0, de-CH', 'fr', 'fr'],
    ['de-CH;q=0, de;q=0.5', 'en', 'de'],
    ['ja;q=0.8, fr;q=0.8', 'en', 'ja'],
    ['en;q=1.5, fr', 'de', 'fr'],
    ['es;q=abc, fr;q=0.2', 'en', 'es'],
    ['<script>, de', 'en', 'de'],
    [`${'xx,'.repeat(40)}de`, 'en', 'en'],
  ])('%j (fallback %s) -> %s', (header, fallback, expected) => {
    expect(negotiateLanguage(header, fallback)).toBe(expected);
  });
});

describe('languageOf', () => {
  it.each<[{ language: string | null } | null, Language, string | undefined, Language]>([
    [{ language: 'ja' }, 'en', undefined, 'ja'],
    [{ language: 'ja' }, 'en', 'de', 'ja'],
    [{ language: null }, 'fr', undefined, 'fr'],
    [{ language: null }, 'fr', 'de-AT', 'de'],
    [{ language: 'xx' }, 'es', undefined, 'es'],
    [null, 'en', 'es-MX,en;q=0.5', 'es'],
    [null, 'de', undefined, 'de'],
  ])('%j, default %s, Accept-Language %j -> %s', (person, orgDefault, header, expected) => {
    expect(languageOf(person, orgDefault, header)).toBe(expected);
  });

  it('isLanguage knows only the bundled languages', () => {
    expect(['en', 'ja', 'EN', 'de-DE', '', null].map(isLanguage)).toEqual([true, true, false, false, false, false]);
  });
});
