import { describe, expect, it } from 'vitest';
import { fitTextPart, skeleton, type TextPartFit } from './text-part';

const l = (...lines: string[]) => lines.join('\n');

describe('skeleton', () => {
  it.each<[string, string]>([
    ['Hello, World!', 'helloworld'],
    ['Visit our shop (https://shop.test/a?b=c) today', 'visitourshoptoday'],
    ['Outlook writes links as text<https://shop.test/a>', 'outlookwriteslinksastext'],
    ['[cid:image001.png@01D2] Done', 'done'],
    ['Grüße – 您好！', 'grüße您好'],
    ['The naïve estimate was €12,500 higher.', 'thenaïveestimatewas12500higher'],
    ['caf\u0065\u0301\u00a0au lait', 'cafe\u0301aulait'],
    ['math 𝐀𝐁 and a lone \ud800 half', 'math𝐀𝐁andalonehalf'],
    ['ΟΔΟΣ. ΑΒ', 'οδοσαβ'],
    ['ΟΔΟΣ.', 'οδος'],
    ['\u200b\ufeffzero\u200dwidth', 'zerowidth'],
    ['Ünïcödé, ASCII-only-after: yes', 'ünïcödéasciionlyafteryes'],
  ])('%s', (input, expected) => {
    expect(skeleton(input)).toBe(expected);
  });

  // Removed in two steps (ASCII first, then the runs of other characters): the same as
  // removing everything outside \p{L}\p{N}\p{M} in one, then lower-casing.
  it.each<string>([
    'Hello, World!',
    'The naïve estimate was €12,500 higher. See München.',
    'x\u00a0y\u2003z\u3000末尾。',
    'a\ud835\udc00b\ud800c€ü\u0301',
    'ΣΑΣ ΣΑΣ. ΟΔΟΣ',
    '— « » “quoted” ‘single’ … ¿qué? ¡sí!',
    '١٢٣ ٤٥٦ arabic digits, ह्ि devanagari marks',
  ])('%s: as one Unicode pattern', (input) => {
    expect(skeleton(input)).toBe(input.replace(/[^\p{L}\p{N}\p{M}]+/gu, '').toLowerCase());
  });
});

describe('fitTextPart', () => {
  it.each<[string, string, string, string, TextPartFit]>([
    [
      'the client wrapped a paragraph the HTML writes on one line',
      l('The quick brown fox jumps over', 'the lazy dog twice.', '', 'On Tue, Alice wrote:', '> Old text'),
      'The quick brown fox jumps over the lazy dog twice.',
      l('The quick brown fox jumps over the lazy dog twice.', 'On Tue, Alice wrote:', '> Old text'),
      { kind: 'aligned', text: l('The quick brown fox jumps over', 'the lazy dog twice.') },
    ],
    [
      'a signature the HTML marked is cut from the text part too',
      l('Fine by me.', '', 'Kind regards,', 'Rachel', 'Service Desk'),
      'Fine by me.',
      l('Fine by me.', 'Kind regards,', 'Rachel', 'Service Desk'),
      { kind: 'aligned', text: 'Fine by me.' },
    ],
    [
      'quoted lines only render quoted kept text: the sign-off under the quote is the author\'s',
      l('Yes.', '', '> Thanks,', '> Megan', '', 'Thanks,', 'Rachel'),
      l('Yes.', '', 'Thanks,'),
      l('Yes.', '> Thanks,', '> Megan', 'Thanks,', 'Rachel'),
      { kind: 'aligned', text: l('Yes.', '', 'Thanks,') },
    ],
    [
      'a cut attribution between the author\'s lines leaves one paragraph break',
      l('Hi Sam,', 'On Tue, Alice wrote:', '> Can we ship?', '', 'Yes.'),
      l('Hi Sam,', '', '> Can we ship?', '', 'Yes.'),
      l('Hi Sam,', 'On Tue, Alice wrote:', '> Can we ship?', 'Yes.'),
      { kind: 'aligned', text: l('Hi Sam,', '', '> Can we ship?', '', 'Yes.') },
    ],
    [
      'an image placeholder line goes, the client\'s blank lines stay',
      l('See the error:', '[cid:image002.png@01CD]', '', '', 'It started on Friday.'),
      l('See the error:', 'It started on Friday.'),
      l('See the error:', 'It started on Friday.'),
      { kind: 'aligned', text: l('See the error:', '', '', 'It started on Friday.') },
    ],
    [
      'an image\'s alt text the client wrote out is not a cut: it stays in place',
      l('Lunch talk on Thursday.', '', 'speaker_photo.jpg', '', 'Everyone is welcome.', '', 'Kind regards,', 'Events team'),
      l('Lunch talk on Thursday.', '', 'Everyone is welcome.'),
      l('Lunch talk on Thursday.', 'Everyone is welcome.', 'Kind regards,', 'Events team'),
      { kind: 'aligned', text: l('Lunch talk on Thursday.', '', 'speaker_photo.jpg', '', 'Everyone is welcome.') },
    ],
    [
      'link texts: the text part spells the URL its own way',
      l('Learn more here: https://help.test/x', '', 'Thanks'),
      'Learn more here (https://help.test/x)\n\nThanks',
      'Learn more here (https://help.test/x)\n\nThanks',
      { kind: 'aligned', text: l('Learn more here: https://help.test/x', '', 'Thanks') },
    ],
    [
      'the parts say different things',
      l('Hallo Fritz,', '', 'bitte melden.'),
      l('Hallo Martin,', '', 'bitte melden.'),
      l('Hallo Martin,', '', 'bitte melden.'),
      { kind: 'differs' },
    ],
    [
      'a stub text part',
      'Please view this message in HTML.',
      'The board approved the budget for next year, including the two new positions in support.',
      'The board approved the budget for next year, including the two new positions in support. Unsubscribe here. Our address is 1 Main Street, Springfield.',
      { kind: 'stub' },
    ],
    ['an empty text part', '\n\n', 'Hello.', 'Hello.', { kind: 'stub' }],
    ['the HTML kept nothing', l('> Old text'), '', '> Old text', { kind: 'aligned', text: '' }],
  ])('%s', (_name, textPart, kept, htmlFull, expected) => {
    expect(fitTextPart(textPart, kept, htmlFull)).toEqual(expected);
  });
});
