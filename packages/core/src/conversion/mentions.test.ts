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
