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
    // A message without values never changes (the catalogues are bundled), and i18next takes
    // microseconds per lookup: a digest asks for the same few labels many times.
    const constant = new Map<string, string>();
    t = (k, vars) => {
      if (vars && Object.keys(vars).length > 0) return String(fixed(k, vars));
      let text = constant.get(k);
      if (text === undefined) {
        text = String(fixed(k, {}));
        constant.set(k, text);
      }
      return text;
    };
    translators.set(key, t);
  }
  return t;
}
