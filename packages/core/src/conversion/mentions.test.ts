import { describe, expect, it } from 'vitest';
import { extractMentions, extractTags } from './mentions';

describe('extractMentions', () => {
  it.each<[string, string, string[], string[]]>([
    ['handle', 'Thanks @alice!', ['alice'], []],
    ['dotted handle at sentence end', 'Ask @alice.smith.', ['alice.smith'], []],
    ['address mention', 'cc @Bob@Corp.Test please', [], ['bob@corp.test']],
    ['start of text and brackets', '@carol (@dave) [@erin]', ['carol', 'dave', 'erin'], []],
    ['unicode handle', 'Merci @josé et @日本', ['josé', '日本'], []],
    ['deduplicated, case-folded', '@Alice @alice @ALICE', ['alice'], []],
    ['plain address is not a mention', 'mail bob@corp.test', [], []],
    ['user@host without a space before', 'ssh deploy@build01', [], []],
    ['inside a URL', 'see https://social.example/@frank and www.example.com/@gina', [], []],
    ['inside a code span', 'run `npm i @scope/pkg` now', [], []],
    ['quoted line', '> @henry wrote this\n@ivan did not', ['ivan'], []],
    ['bare @ and digits only', '@ alone, @123', [], []],
    ['full-width at sign', '＠山田 さん', ['山田'], []],
  ])('%s', (_name, text, names, emails) => {
    expect(extractMentions(text)).toEqual({ names, emails });
  });

  it('caps names and addresses at 20 each', () => {
    const text = Array.from({ length: 30 }, (_, i) => `@user${i} @user${i}@x.test`).join(' ');
    const out = extractMentions(text);
    expect(out.names).toHaveLength(20);
    expect(out.emails).toHaveLength(20);
  });
});

describe('extractTags', () => {
  it.each<[string, string, string[]]>([
    ['simple', 'Ready for #launch', ['launch']],
    ['hyphen and digits', 'See #Q3-plan and #q3-PLAN', ['q3-plan']],
    ['unicode', '#café #日本語 #über', ['café', '日本語', 'über']],
    ['CJK without a space before', '我们周四开会讨论。#预算', ['预算']],
    ['trailing punctuation', '(#release), #ship.', ['release', 'ship']],
    ['issue numbers', 'fixes #1 and #1234', []],
    ['URL fragment', 'https://x.test/page#section and page#top', []],
    ['HTML entities left in text', '&#39; &#x27; &#8364;', []],
    ['hex colour, but an all-letter word stays', 'color #ff0000 and #cafe', ['cafe']],
    ['Markdown heading and double hash', '# Title\n##notatag', []],
    ['C#', 'written in C#', []],
    ['quoted line', '> #old\n#new', ['new']],
    ['code span', 'use `#define X` here', []],
  ])('%s', (_name, text, tags) => {
    expect(extractTags(text)).toEqual(tags);
  });

  it('caps at 20', () => {
    expect(extractTags(Array.from({ length: 30 }, (_, i) => `#tag${i}`).join(' '))).toHaveLength(20);
  });
});

/**
 * Posts and comments written through the ESN (API, web pages) are read by the same two
 * functions as mail, since a reader expects a tag or mention to mean the same wherever it was
 * written: at most 20 mentioned addresses, a tag longer than 64 characters is none, hex colours,
 * quoted lines and code spans carry no tags or mentions, and a mention may follow `!` or `?` or
 * a quotation mark.
 */
describe('ESN text', () => {
  it.each<[string, string, string[]]>([
    ['title and body together', 'Launch day\nReady for #launch and #ops', ['launch', 'ops']],
    ['after brackets and punctuation', '(#a) [#b] {#c} ,#d ;#e :#f !#g ?#h', ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']],
    ['a # inside a URL or a word is no tag', 'see https://x.test/#frag and a#b', []],
    ['starts with a letter', '#2026 #v2', ['v2']],
    ['a tag longer than 64 characters is none', `#${'a'.repeat(65)} #ok`, ['ok']],
    ['hex colour', 'paint it #a0b1c2', []],
    ['quoted line', '> #theirs\n#mine', ['mine']],
  ])('tags: %s', (_name, text, tags) => {
    expect(extractTags(text)).toEqual(tags);
  });

  it.each<[string, string, string[]]>([
    ['address mention, lower-cased', 'Thanks @Alice@Example.COM!', ['alice@example.com']],
    ['at the start, after brackets and punctuation', '@a@x.test (@b@x.test) [@c@x.test], ;@d@x.test', ['a@x.test', 'b@x.test', 'c@x.test', 'd@x.test']],
    ['after ! or ?', 'hi!@e@x.test', ['e@x.test']],
    ['a plain address is no mention', 'mail alice@example.com', []],
    ['trailing full stop', 'ask @bob@corp.test.', ['bob@corp.test']],
    ['deduplicated', '@bob@corp.test @BOB@corp.test', ['bob@corp.test']],
    ['inside a URL', 'https://x.test/@bob@corp.test', []],
  ])('mentioned addresses: %s', (_name, text, emails) => {
    expect(extractMentions(text).emails).toEqual(emails);
  });

  it('caps mentioned addresses at 20', () => {
    expect(extractMentions(Array.from({ length: 60 }, (_, i) => `@u${i}@x.test`).join(' ')).emails).toHaveLength(20);
  });
});
