import { LANGUAGES, type Language } from './i18n/languages';
import { CATALOGUES } from './i18n/locales';

/** A message of the `command` catalogue (`i18n/locales/command/<lang>.ts`). */
export type CommandWord = 'optIn' | 'optOut' | 'unsubscribe' | 'help' | 'digest' | 'digest.hourly' | 'digest.daily' | 'digest.weekly' | 'digest.off' | 'like';

/**
 * Text as commands are compared: NFKC (full-width letters from CJK input methods,
 * half-width katakana, ligatures), lower case, Latin accents dropped ("wochentlich" for
 * "wöchentlich", "resume" for "résumé"), typographic apostrophes as `'`, runs of white
 * space as one space. Only combining marks U+0300–U+036F are dropped, so a Japanese voiced
 * mark (U+3099) survives and ダ stays ダ.
 */
export function foldCommandText(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .normalize('NFC')
    .replace(/[\u2018\u2019\u02bc\u00b4`]/g, "'")
    .replace(/\s+/g, ' ');
}

/** The phrases of one command word in one language, as written in its catalogue; the first is the one to suggest. */
export function commandPhrases(lang: Language, word: CommandWord): string[] {
  const message = CATALOGUES[lang].command[word] ?? '';
  return message
    .split('|')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A regular-expression alternation (no anchors, no groups) of a word's phrases in every
 * language, folded by {@link foldCommandText}; a space in a phrase also matches `-`, `_`
 * or nothing. Longer phrases first, so "digests" is tried before "digest".
 */
export function commandPattern(word: CommandWord): string {
  const phrases = new Set(LANGUAGES.flatMap((lang) => commandPhrases(lang, word)).map(foldCommandText));
  return [...phrases]
    .sort((a, b) => b.length - a.length)
    .map((p) => p.split(' ').map(escapeRegExp).join('[ _-]?'))
    .join('|');
}
