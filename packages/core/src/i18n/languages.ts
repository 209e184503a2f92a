/** The languages Blend writes mail and pages in; `en` is the catalogue every other one follows. */
export const LANGUAGES = ['en', 'de', 'fr', 'es', 'ja'] as const;
export type Language = (typeof LANGUAGES)[number];

/** Each language's name in itself, for a language picker. */
export const LANGUAGE_NAMES: Readonly<Record<Language, string>> = {
  en: 'English',
  de: 'Deutsch',
  fr: 'Français',
  es: 'Español',
  ja: '日本語',
};

export const isLanguage = (x: unknown): x is Language => typeof x === 'string' && (LANGUAGES as readonly string[]).includes(x);

/** Most ranges read from one header; a longer list is cut (a header is untrusted input). */
const MAX_RANGES = 32;

interface Range {
  tag: string;
  q: number;
  order: number;
}

/** `de-CH;q=0.8` -> { tag: 'de-ch', q: 0.8 }; null for a malformed entry (RFC 9110 §12.4.2, §12.5.4). */
function parseRange(entry: string, order: number): Range | null {
  const [rawTag, ...params] = entry.split(';');
  const tag = rawTag!.trim().toLowerCase();
  if (!/^(?:\*|[a-z]{1,8}(?:-[a-z0-9]{1,8})*)$/.test(tag)) return null;
  let q = 1;
  for (const p of params) {
    const m = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(p);
    if (!m) continue;
    q = Number(m[1]);
    if (q > 1) return null;
  }
  return { tag, q, order };
}

/**
 * The language to answer in for an `Accept-Language` header (RFC 9110 §12.5.4, basic
 * filtering of RFC 4647 §3.3.1 on the primary subtag): the highest-weighted range whose
 * primary subtag is one of {@link LANGUAGES} (`de-CH` -> `de`), `*` standing for `fallback`;
 * ranges with `q=0` are refused. No header, or nothing acceptable we speak: `fallback`.
 */
export function negotiateLanguage(acceptLanguage: string | undefined, fallback: Language): Language {
  if (!acceptLanguage) return fallback;
  const ranges = acceptLanguage
    .split(',')
    .slice(0, MAX_RANGES)
    .map((e, i) => parseRange(e, i))
    .filter((r): r is Range => r !== null);
  // "de;q=0" refuses German; "de-CH;q=0" only refuses Swiss German, which we do not tell apart.
  const refused = new Set(ranges.filter((r) => r.q === 0 && !r.tag.includes('-')).map((r) => r.tag));
  const acceptable = (l: string) => isLanguage(l) && !refused.has(l);
  const ordered = ranges.filter((r) => r.q > 0).sort((a, b) => b.q - a.q || a.order - b.order);
  for (const r of ordered) {
    if (r.tag === '*') {
      if (acceptable(fallback)) return fallback;
      const other = LANGUAGES.find((l) => acceptable(l) && !ranges.some((x) => x.tag === l));
      if (other) return other;
      continue;
    }
    const primary = r.tag.split('-')[0]!;
    if (acceptable(primary)) return primary as Language;
  }
  return fallback;
}

/**
 * The language Blend uses for a person: their own choice, else (for a web request) what
 * the browser asks for, else the organisation's default (`BLEND_DEFAULT_LANGUAGE`). Mail
 * has no browser, so mail passes no header. Without an organisation default, English.
 */
export function languageOf(person: { language: string | null } | null | undefined, orgDefault: Language = 'en', acceptLanguage?: string): Language {
  if (person && isLanguage(person.language)) return person.language;
  return acceptLanguage === undefined ? orgDefault : negotiateLanguage(acceptLanguage, orgDefault);
}
