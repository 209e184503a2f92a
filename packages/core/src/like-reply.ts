import { commandPattern, foldCommandText } from './command-words';

/**
 * One like token: "+1", a like word of any language Blend speaks ("like", "liked", "gefällt
 * mir", "j'aime", "me gusta", "いいね": the `like` message of the `command` catalogues), or
 * one thumbs-up emoji with an optional skin tone (U+1F3FB-U+1F3FF) and an optional emoji presentation selector (U+FE0F). Runs of emoji
 * come from the outer repetition; a `+` here as well would nest quantifiers and backtrack
 * exponentially on "👍👍…👍x".
 */
const TOKEN = String.raw`(?:\+1|${commandPattern('like')}|\u{1F44D}[\u{1F3FB}-\u{1F3FF}]?\u{FE0F}?)`;
/**
 * What may surround and separate tokens: whitespace, punctuation ("Like!", "+1."), and the
 * invisible characters mail clients leave behind (zero-width space, BOM, word joiner).
 * "-" is punctuation too, so "-1" leaves a bare "1", which is not a token.
 */
const FILLER = String.raw`[\s\p{P}\u200B\u2060\uFEFF]*`;
const LIKE_ONLY = new RegExp(`^${FILLER}${TOKEN}(?:${FILLER}${TOKEN})*${FILLER}$`, 'iu');

/**
 * True when the visible text of a reply (quotes and signatures already stripped) is only a
 * like: "+1", "like", "Like!", "liked", "Gefällt mir!", "J’aime", "いいね！", "👍" in any skin
 * tone, repeated, or a mix such as "👍 +1". Such a reply becomes a like on the post instead of
 * a comment. Case, accents and width are folded as for commands.
 * False for anything with more words ("I like this idea", "+1 but ...", "Me gusta mucho"), for
 * "", "-1" and "👎".
 */
export function isLikeOnly(text: string): boolean {
  // Likes are short; a long body is not one, whatever it holds.
  return text.length <= 500 && LIKE_ONLY.test(foldCommandText(text));
}
