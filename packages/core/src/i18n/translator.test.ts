import { describe, expect, it } from 'vitest';
import type { Language } from './languages';
import { translator } from './translator';

describe('translator', () => {
  it.each<[Language, number, string]>([
    ['en', 0, '0 threads'],
    ['en', 1, '1 thread'],
    ['en', 2, '2 threads'],
    ['de', 1, '1 Unterhaltung'],
    ['de', 5, '5 Unterhaltungen'],
    ['fr', 0, '0 discussion'],
    ['fr', 1, '1 discussion'],
    ['fr', 2, '2 discussions'],
    ['fr', 1_000_000, '1000000 de discussions'],
    ['es', 1, '1 conversación'],
    ['es', 3, '3 conversaciones'],
    ['ja', 1, '1 件のスレッド'],
    ['ja', 7, '7 件のスレッド'],
  ])('%s, count %d -> %s', (lang, count, expected) => {
    expect(translator(lang, 'mail')('digest.threads', { count })).toBe(expected);
  });

  it('fills placeholders without escaping (callers escape for HTML)', () => {
    expect(translator('en', 'mail')('receipt.postedSubject', { title: 'Q3 <plans> & "more"' })).toBe('Published: Q3 <plans> & "more"');
  });

  it('does not interpolate placeholders found inside a value', () => {
    expect(translator('de', 'mail')('common.hi', { name: '{{name}}' })).toBe('Hallo {{name}},');
  });

  it('answers in the language asked for, and an unknown key as itself', () => {
    expect(translator('ja', 'web')('no.such.key')).toBe('no.such.key');
    expect(translator('en', 'mail')('footer.preferences')).toBe('Preferences');
    expect(translator('ja', 'mail')('footer.preferences')).toBe('設定');
  });
});
