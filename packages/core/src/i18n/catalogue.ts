/**
 * A message catalogue: flat keys (`digest.subject`) to i18next strings. Placeholders are
 * `{{name}}`; a message that depends on a number has one key per plural category of its
 * language, `key_one`, `key_other` (and `key_many` in French and Spanish; Japanese only
 * `key_other`), chosen by the `count` variable (Intl.PluralRules).
 */
export type Catalogue = Readonly<Record<string, string>>;

export const NAMESPACES = ['mail', 'web', 'command'] as const;
export type Namespace = (typeof NAMESPACES)[number];
