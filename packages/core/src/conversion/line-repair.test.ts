import { describe, expect, it } from 'vitest';
import { repairLines } from './line-repair';

describe('repairLines', () => {
  it.each<[string, string[], string[]]>([
    [
      'attribution run onto the last line',
      ['Sure, Thursday works. On Mon, 24 Oct 2016 at 15:36, Jane <jane@x.test> wrote:', '> Thursday?'],
      ['Sure, Thursday works.', 'On Mon, 24 Oct 2016 at 15:36, Jane <jane@x.test> wrote:', '> Thursday?'],
    ],
    ['separator run onto the last line', ['Thanks!-----Original Message-----', 'From: Jane'], ['Thanks!', '-----Original Message-----', 'From: Jane']],
    ['supercite prefixes', ['C> first', 'C> second', 'My answer.'], ['> first', '> second', 'My answer.']],
    ['one "A>" in prose stays', ['Use A> B for that.'], ['Use A> B for that.']],
    [
      'wrapped quote line that lost its >',
      ['> The delivery of the spare parts was planned for Monday but the carrier', 'moved it to Wednesday afternoon', '> so we wait.'],
      ['> The delivery of the spare parts was planned for Monday but the carrier', '> moved it to Wednesday afternoon', '> so we wait.'],
    ],
    [
      "the author's answer between quotes stays",
      ['> Can we ship the release on Thursday with everything in place for QA?', 'yes', '> And who writes the notes?'],
      ['> Can we ship the release on Thursday with everything in place for QA?', 'yes', '> And who writes the notes?'],
    ],
    ['prose "On" after a sentence stays', ['We agreed. On Monday we start.'], ['We agreed. On Monday we start.']],
  ])('%s', (_name, input, expected) => {
    expect(repairLines(input)).toEqual(expected);
  });
});
