import { assertNever } from './errors';

/**
 * Why Blend is unsure which text of a mail is the author's. Any of them makes a conversion
 * low confidence, so the mail is held as `unclear_quote` instead of published
 * (docs/SECURITY.md B12, B21).
 * - `html_unreadable`: the HTML part is too large or deeply nested for the quote walk and there
 *   is no text part; its rendering cannot be checked for quoted history.
 * - `unrecognised_history`: the kept text still holds something shaped like quoted history
 *   (an unknown separator, an address followed by a colon).
 * - `no_mime_parts`: the mail declares a multipart body but has no part boundaries in it: the
 *   whole raw body is read as text.
 * - `charset_guessed`: the body's charset was not declared, or its label did not fit the bytes,
 *   and was guessed from them.
 */
export type BodyDoubt = 'html_unreadable' | 'unrecognised_history' | 'no_mime_parts' | 'charset_guessed';

/** A short explanation of a {@link BodyDoubt} for people (the preview CLI, logs). */
export function describeDoubt(doubt: BodyDoubt): string {
  switch (doubt) {
    case 'html_unreadable':
      return 'the HTML part is too large or too deeply nested to check for quoted history, and there is no text part';
    case 'unrecognised_history':
      return 'the kept text still looks like quoted history (an unrecognised separator or attribution)';
    case 'no_mime_parts':
      return 'the mail declares MIME parts but has no part boundaries: the raw body was read as text';
    case 'charset_guessed':
      return 'the charset was not declared (or its label did not fit the bytes) and was guessed';
    default:
      return assertNever(doubt);
  }
}
