/**
 * The author's name typed on its own under the text ("-Martin", "~Danielle", "Alex.", "Justin P.
 * Mattock"): part of the signature, not of what the author says. Recognised by layout (one short
 * line of name-like words, last in the text) and by content: a dash or tilde before it, or a word
 * of the sender's own name or address.
 */

import { isClosing } from './quote-markers';

/** A dash, two dashes or a tilde before a typed name. */
const NAME_PREFIX = /^(?:-{1,2}|~|–|—)\s*/;
/** A word of a name: capitalised, or an initial ("P."). */
const NAME_WORD = /^\p{Lu}[\p{L}\p{M}'’-]*\.?$/u;
/** A lower-case word counts when it is the sender's own ("-aneesh"). */
const ANY_WORD = /^\p{L}[\p{L}\p{M}'’-]*\.?$/u;
/** A typed name is at most this long. */
const NAME_MAX_CHARS = 40;

/**
 * The words a sender's name is typed with: the display name's words and the address's local
 * part split at dots, dashes and underscores, lower-cased, two letters or more.
 */
export function authorNameWords(name: string | null | undefined, address: string | null | undefined): string[] {
  const local = (address ?? '').split('@')[0] ?? '';
  const words = `${name ?? ''} ${local}`.toLowerCase().split(/[\s._+-]+/);
  return [...new Set(words.map((w) => w.replace(/[^\p{L}\p{M}]/gu, '')).filter((w) => w.length >= 2))];
}

/** Words that join two typed names ("John & Marc"). */
const JOINER = /^(?:&|\+|and|und|et|y|e|i|och|og|en)$/i;

/**
 * True when `word` is one of `authorWords`, or an abbreviation of one ("Alex" for Alexandre,
 * three letters or more).
 */
function isAuthorWord(word: string, authorWords: readonly string[]): boolean {
  if (!ANY_WORD.test(word)) return false;
  const w = word.replace(/[^\p{L}\p{M}]/gu, '').toLowerCase();
  return authorWords.some((a) => a === w || (w.length >= 3 && a.startsWith(w)));
}

/**
 * True when `line` (trimmed) is a typed name: one to three name words (two names may be joined,
 * "John & Marc"), and either a dash/tilde before them (capitalised) or one of them the author's
 * (see {@link authorNameWords}). A sign-off word first ("Mfg eike") makes it a sign-off line.
 */
export function isTypedName(line: string, authorWords: readonly string[] = []): boolean {
  if (line.length > NAME_MAX_CHARS) return false;
  const prefixed = NAME_PREFIX.test(line);
  const all = line.replace(NAME_PREFIX, '').trim().split(/\s+/);
  const words = all.filter((w) => !JOINER.test(w));
  if (words.length === 0 || words.length > 3 || words[0] === '' || all.length - words.length > 1) return false;
  if (JOINER.test(all[0] ?? '') || JOINER.test(all.at(-1) ?? '') || isClosing(words[0] ?? '')) return false;
  const isMine = (w: string) => isAuthorWord(w, authorWords);
  // "- Jake out" is a sign-off, not a name: every word must be a name word or the author's.
  if (!words.every((w) => NAME_WORD.test(w) || isMine(w))) return false;
  return prefixed || words.some(isMine);
}

/** A typed name with a word of the sender's own name or address in it ("Jane Doe", "-Martin Edenhofer"). */
export function isAuthorName(line: string, authorWords: readonly string[]): boolean {
  if (!isTypedName(line, authorWords)) return false;
  return line
    .replace(NAME_PREFIX, '')
    .split(/\s+/)
    .some((w) => isAuthorWord(w, authorWords));
}
