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
  // U+FFFD stays: a header in an undeclared 8-bit charset ("H\uFFFDvard") still matches "Håvard".
  return [...new Set(words.map((w) => w.replace(/[^\p{L}\p{M}\uFFFD]/gu, '')).filter((w) => w.length >= 2))];
}

/** `word` equals `authorWord`, where a U+FFFD in the author's word stands for any one letter. */
function sameWord(word: string, authorWord: string): boolean {
  if (word === authorWord) return true;
  if (!authorWord.includes('\uFFFD') || [...word].length !== [...authorWord].length) return false;
  const a = [...authorWord];
  return [...word].every((ch, i) => a[i] === '\uFFFD' || a[i] === ch);
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
  return authorWords.some((a) => sameWord(w, a) || (w.length >= 3 && a.startsWith(w)));
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
  // "- Jake out" is a sign-off, not a name: every word must be a name word or the author's. A
  // lower-case word of the sender's counts alone or after a dash ("eike", "-aneesh"), not in
  // a phrase ("The mail system" from Mail Delivery System).
  const lowerOk = prefixed || words.length === 1;
  if (!words.every((w) => NAME_WORD.test(w) || (lowerOk && isMine(w)))) return false;
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

/**
 * Short answers that can end a text on their own line ("Done", "Agreed", "Erledigt"): never
 * taken for a lone typed name. A guard against false positives, not a way to find names.
 */
const ANSWER_WORDS = new Set(
  (
    'yes no ok okay done agreed approved confirmed sure great perfect fine correct exactly indeed absolutely noted understood ' +
    'thanks welcome congratulations enjoy hello bye later soon tomorrow today tonight ' +
    'ja nein jawohl erledigt genau passt gut super klar danke bis morgen heute ' +
    'oui non parfait entendu merci demain ' +
    'sí si vale claro listo hecho gracias mañana certo fatto perfetto grazie domani ' +
    'nee prima akkoord klaar tak nie gotowe dziękuję да нет готово спасибо'
  ).split(' '),
);

/**
 * A lone typed first name under the text ("Christoph", "Håvard"): one capitalised word of
 * letters only, not in capitals throughout ("FYI"), no punctuation ("Enjoy!"), and none of the
 * short answers a text may end with. Callers ask only about a last line with a blank line and
 * text above it, or one that is the sender's own name.
 */
export function isLoneName(line: string): boolean {
  if (line.length > 40 || line.includes(' ')) return false;
  if (!/^\p{Lu}\p{Ll}[\p{Ll}\p{M}'’]{1,18}(?:-\p{Lu}[\p{Ll}\p{M}]{1,18})?$/u.test(line)) return false;
  // "Deployed", "Testing", "Finally": English participles and adverbs. A name with such an ending
  // ("Manfred") is then kept, the safe side.
  if ((line.length >= 5 && /(?:ed|ing)$/.test(line)) || (line.length >= 7 && line.endsWith('ly'))) return false;
  return !ANSWER_WORDS.has(line.toLowerCase()) && !isClosing(line);
}

/**
 * The sender's display name written out as a line ("Rannsóknastofa í kvenna- og kynjafræðum"
 * from that organisation): two to eight words, every word of two letters or more one of the
 * sender's own.
 */
export function isSenderNameLine(line: string, authorWords: readonly string[]): boolean {
  if (line.length > 100 || authorWords.length < 2 || !line.includes(' ')) return false;
  const words = line
    .split(/\s+/)
    .map((w) => w.replace(/[^\p{L}\p{M}]/gu, '').toLowerCase())
    .filter((w) => w.length >= 2);
  return words.length >= 2 && words.length <= 8 && words.every((w) => authorWords.some((a) => sameWord(w, a)));
}

/**
 * A sign-off written as its own short line ending in a comma ("Mahalo,", "Take care,"), in any
 * language: one to three words. Only trusted with text above it.
 */
export function isSignOffShaped(line: string): boolean {
  return line.length <= 40 && /^\p{L}[\p{L}\p{M}'’ -]{0,38},$/u.test(line) && line.split(/\s+/).length <= 3;
}
