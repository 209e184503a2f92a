import { stripControlChars } from './clean-text';

/**
 * Subject openings that auto-responders use, by language. Outlook/Exchange put
 * the localised "Automatic reply" before the original subject; Lotus Notes and
 * older Exchange use "Out of Office" / "Abwesenheitsnotiz"; others use the
 * language's word for absence. All lower case, NFC.
 */
const PHRASES = [
  // English
  'out of office', 'out of the office', 'automatic reply', 'auto reply', 'auto-reply', 'autoreply',
  'automatic response', 'auto response', 'auto-response',
  // German
  'automatische antwort', 'abwesenheitsnotiz', 'abwesenheit',
  // French
  'réponse automatique', 'absence du bureau', 'absent du bureau', 'absence',
  // Spanish
  'respuesta automática', 'fuera de la oficina',
  // Italian
  'risposta automatica', 'fuori ufficio',
  // Dutch
  'automatisch antwoord', 'afwezig',
  // Portuguese
  'resposta automática', 'fora do escritório',
  // Swedish, Norwegian, Danish
  'autosvar',
  // Polish
  'automatyczna odpowiedź', 'nieobecność',
];

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A phrase at the very start of the subject (after gateway tags such as
 * `[EXT]`), optionally followed by "AutoReply" (Exchange 2003's "Out of Office
 * AutoReply:"), and then a separator or the end. Requiring the separator keeps
 * human subjects such as "Out of office party on Friday" or "Absence policy
 * update" from matching; "Re: Out of office" is a person answering one, so
 * only the start counts.
 */
const OUT_OF_OFFICE = new RegExp(
  `^(?:\\[[^[\\]]{1,64}\\] ?)*(?:${PHRASES.map(escapeRegExp).join('|')})(?: ?auto-?reply)? ?(?:[:\\uFF1A\\-\\u2013\\u2014(\\[]|$)`,
  'iu',
);

/**
 * Whether a subject looks like an out-of-office or other automatic reply in
 * English, German, French, Spanish, Italian, Dutch, Portuguese, Swedish or
 * Polish (docs/SECURITY.md B9). Headers (Auto-Submitted, RFC 3834) are the better
 * signal; this catches responders that send none.
 */
export function isOutOfOfficeSubject(subject: string): boolean {
  const s = stripControlChars(subject).normalize('NFC').replace(/\s+/g, ' ').trim();
  return OUT_OF_OFFICE.test(s);
}
