import { describe, expect, it } from 'vitest';
import { HIGHLIGHT_START as S, HIGHLIGHT_STOP as E, highlightSegments } from './search-highlight';

describe('highlightSegments', () => {
  it.each([
    ['', []],
    ['no match', [{ text: 'no match', match: false }]],
    [`${S}Haus${E}`, [{ text: 'Haus', match: true }]],
    [`Die ${S}Häuser${E} am ${S}Hafen${E}.`, [
      { text: 'Die ', match: false }, { text: 'Häuser', match: true }, { text: ' am ', match: false }, { text: 'Hafen', match: true }, { text: '.', match: false },
    ]],
    [`<b>${S}zebra${E}</b>`, [{ text: '<b>', match: false }, { text: 'zebra', match: true }, { text: '</b>', match: false }]],
    // Broken marking (never from ts_headline): no marker survives as text, nothing is lost.
    [`${S}open to the end`, [{ text: 'open to the end', match: true }]],
    [`stray ${E} stop`, [{ text: 'stray  stop', match: false }]],
    [`${S}${E}empty`, [{ text: 'empty', match: false }]],
  ])('%j', (marked, segments) => {
    expect(highlightSegments(marked)).toEqual(segments);
  });
});
