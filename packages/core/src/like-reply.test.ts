import { describe, expect, it } from 'vitest';
import { isLikeOnly } from './like-reply';

describe('isLikeOnly', () => {
  it.each([
    ['+1'],
    ['  +1  '],
    ['+1!'],
    ['+1 +1'],
    ['like'],
    ['Like'],
    ['Like!'],
    ['LIKE.'],
    ['liked'],
    ['Liked!!'],
    ['👍'],
    ['👍👍👍'],
    ['👍🏻'],
    ['👍🏽'],
    ['👍🏿 👍🏿'],
    ['👍️'], // with U+FE0F
    ['👍 +1'],
    ['+1 👍'],
    ['\n\n👍\n'],
    ['"like"'],
    ['(+1)'],
    ['\u200B+1\u200B'],
    ['\u00A0like\u00A0'],
    // the like words of the other languages, folded like commands
    ['Gefällt mir!'],
    ['gefaellt mir'],
    ['GEFALLT MIR'],
    ['Daumen hoch 👍'],
    ["J'aime"],
    ['J’aime !'],
    ['Me gusta'],
    ['¡Me gusta!'],
    ['いいね'],
    ['いいね！'],
    ['いいね👍'],
    ['ｌｉｋｅ'],
  ])('%j is a like', (text) => {
    expect(isLikeOnly(text)).toBe(true);
  });

  it.each([
    [''],
    ['   '],
    ['!!!'],
    ['I like this idea'],
    ['+1 but we should wait'],
    ['like it'],
    ['likes'],
    ['likely'],
    ['-1'],
    ['1'],
    ['+2'],
    ['+10'],
    ['👎'],
    ['👍 but no'],
    ['unlike'],
    ['👍'.repeat(300)], // over the length cap
    ['👍'.repeat(240) + 'x'], // must fail fast, not backtrack
    ['+1 '.repeat(160) + 'x'],
    ['Gefällt mir nicht'],
    ['Mir gefällt der Vorschlag'],
    ["J'aime beaucoup cette idée"],
    ['Je n’aime pas'],
    ['Me gusta mucho'],
    ['No me gusta'],
    ['いいねと思います'],
    ['いいえ'],
  ])('%j is not a like', (text) => {
    expect(isLikeOnly(text)).toBe(false);
  });
});
