import { describe, expect, it } from 'vitest';
import { NAMESPACES, type Catalogue } from './catalogue';
import { LANGUAGES } from './languages';
import { CATALOGUES } from './locales';

const PLURAL = /_(?:zero|one|two|few|many|other)$/;

/** The `{{name}}` placeholders of a message, without format arguments. */
const placeholders = (msg: string) => [...msg.matchAll(/\{\{\s*([\w.]+)[^}]*\}\}/g)].map((m) => m[1]!);

/** Message keys grouped by base: a plural message's forms under one base key. */
function messages(cat: Catalogue): Map<string, string[]> {
  const bases = new Map<string, string[]>();
  for (const key of Object.keys(cat)) {
    const base = PLURAL.test(key) && `${key.replace(PLURAL, '')}_other` in cat ? key.replace(PLURAL, '') : key;
    bases.set(base, [...(bases.get(base) ?? []), key]);
  }
  return bases;
}

/** The placeholders a message uses in any of its forms (`count` aside: a form may spell the number out). */
const usedNames = (cat: Catalogue, keys: string[]) => [...new Set(keys.flatMap((k) => placeholders(cat[k]!)))].filter((n) => n !== 'count').sort();

const cases = NAMESPACES.flatMap((ns) => LANGUAGES.filter((l) => l !== 'en').map((lang) => [ns, lang] as const));

describe.each(cases)('catalogue %s/%s', (ns, lang) => {
  const en = messages(CATALOGUES.en[ns]);
  const other = CATALOGUES[lang][ns];
  const theirs = messages(other);
  const categories = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;

  it('has every English message and no other', () => {
    expect([...theirs.keys()].sort()).toEqual([...en.keys()].sort());
  });

  it.each([...en.entries()])('%s: same placeholders and this language’s plural forms', (base, enKeys) => {
    const keys = theirs.get(base) ?? [];
    const plural = enKeys.some((k) => k !== base);
    expect(keys.sort()).toEqual(plural ? categories.map((c) => `${base}_${c}`).sort() : [base]);
    expect(usedNames(other, keys)).toEqual(usedNames(CATALOGUES.en[ns], enKeys));
    for (const k of keys) expect(other[k]!.trim()).not.toBe('');
  });
});

describe('English catalogues', () => {
  it.each(NAMESPACES)('%s: plural messages have exactly _one and _other', (ns) => {
    for (const [base, keys] of messages(CATALOGUES.en[ns])) {
      if (keys.length > 1 || keys[0] !== base) expect(keys.sort()).toEqual([`${base}_one`, `${base}_other`]);
    }
  });
});
