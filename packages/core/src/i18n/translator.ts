import i18next, { type TFunction } from 'i18next';
import { NAMESPACES, type Namespace } from './catalogue';
import { LANGUAGES, type Language } from './languages';
import { CATALOGUES } from './locales';

/** A message by key, with its `{{placeholders}}` filled; `count` picks the plural form. */
export type Translate = (key: string, vars?: Record<string, unknown>) => string;

/**
 * One i18next instance for the process, initialised synchronously from the bundled
 * catalogues (no backend, no detection). Escaping is off: every caller escapes at its
 * output (Handlebars for mail, the web's html helpers for pages), and a second escape here
 * would show `&amp;` in plain-text mail and subjects.
 */
const instance = i18next.createInstance();
void instance.init({
  resources: CATALOGUES,
  lng: 'en',
  fallbackLng: 'en',
  supportedLngs: [...LANGUAGES],
  ns: [...NAMESPACES],
  defaultNS: 'mail',
  initAsync: false,
  keySeparator: false,
  nsSeparator: false,
  returnNull: false,
  returnEmptyString: false,
  interpolation: { escapeValue: false },
});

const translators = new Map<string, Translate>();

/** The messages of `ns` in `lang`, falling back to English for a missing key. */
export function translator(lang: Language, ns: Namespace): Translate {
  const key = `${lang}:${ns}`;
  let t = translators.get(key);
  if (!t) {
    const fixed: TFunction = instance.getFixedT(lang, ns);
    t = (k, vars) => String(fixed(k, vars ?? {}));
    translators.set(key, t);
  }
  return t;
}
