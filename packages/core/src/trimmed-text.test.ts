import { describe, expect, it } from 'vitest';
import { compileRedactions } from './redaction';
import { renderMailContent } from './render-content';
import { lineFinder, trimmedText } from './trimmed-text';
import type { MailInput } from './types';

const l = (...lines: string[]) => lines.join('\n');

function mail(part: Partial<MailInput>): MailInput {
  return {
    messageId: 'm1@corp.test', inReplyTo: [], references: [], subject: 'Re: Plan',
    from: { address: 'bob@corp.test', name: 'Bob' }, to: [], cc: [],
    deliveredTo: [], date: null, headers: {}, text: null, html: null,
    ...part,
  };
}

describe('trimmedText', () => {
  it.each<[string, string, string, string | null]>([
    ['nothing cut', l('Hello', '', 'there'), l('Hello', '', 'there'), null],
    ['only blank lines cut', l('Hello', '', '', ''), 'Hello', null],
    [
      'quote after the text',
      l('Sounds good.', '', 'On Tue, Alice wrote:', '> the plan', '> v2'),
      'Sounds good.',
      l('On Tue, Alice wrote:', '> the plan', '> v2'),
    ],
    [
      'attribution and quote of an inline answer, and a signature, apart',
      l('On Tue, Alice wrote:', '> question?', 'Answer.', '', '-- ', 'Bob'),
      'Answer.',
      l('On Tue, Alice wrote:', '> question?', '', '--', 'Bob'),
    ],
    ['a kept line spelt differently is passed over', l('Hi  there', 'Thanks', 'Sig'), l('Hi there', 'Thank you'), l('Thanks', 'Sig')],
  ])('%s', (_name, full, kept, expected) => {
    expect(trimmedText(full, kept)).toBe(expected);
  });
});

describe('lineFinder', () => {
  // The first index >= from with that key, as a scan of the whole list finds it.
  const naive = (keys: string[], key: string, from: number) => {
    for (let i = from; i < keys.length; i++) if (keys[i] === key) return i;
    return -1;
  };
  it.each<[string, string[], [string, number][]]>([
    ['in order, each the next', ['a', 'b', 'c'], [['a', 0], ['b', 1], ['c', 2]]],
    ['missing keys, read to the end each time until the index answers', ['a', 'b', 'a', 'b', 'c'], [['x', 0], ['y', 0], ['z', 1], ['b', 2], ['a', 0], ['c', 4], ['a', 3]]],
    ['from past the end', ['a'], [['a', 1], ['a', 5]]],
    ['repeated keys, from between them', ['k', 'k', 'j', 'k'], [['k', 1], ['k', 2], ['j', 3], ['q', 0], ['q', 0], ['k', 0], ['k', 4], ['k', 3]]],
    ['an empty list', [], [['a', 0]]],
  ])('%s', (_name, keys, lookups) => {
    const find = lineFinder(keys);
    for (const [key, from] of lookups) expect(find(key, from)).toBe(naive(keys, key, from));
  });
});

describe('renderMailContent trimmedText', () => {
  const redactions = compileRedactions('iban');

  it('keeps the quote and signature of a text mail, redacted', () => {
    const c = renderMailContent(
      mail({ text: l('Fine by me.', '', '-- ', 'Bob', '', 'On Tue, Alice <alice@corp.test> wrote:', '> pay DE89370400440532013000 today') }),
      { redactions },
    );
    expect(c.bodyText).toBe('Fine by me.');
    expect(c.trimmedText).toContain('> pay');
    expect(c.trimmedText).toContain('Bob');
    expect(c.trimmedText).not.toContain('DE89370400440532013000');
  });

  it('keeps the quotes an interleaved reply answers, where the body drops them', () => {
    const c = renderMailContent(
      mail({ text: l('On Tue, Alice <alice@corp.test> wrote:', '> Ship on Friday?', 'Yes.', '', '> Who tells the customer?', 'I do.') }),
      { redactions },
    );
    expect(c.bodyText).toBe(l('Yes.', '', 'I do.'));
    expect(c.trimmedText).toBe(l('On Tue, Alice <alice@corp.test> wrote:', '> Ship on Friday?', '', '> Who tells the customer?'));
  });

  it('keeps the blockquotes an interleaved HTML reply answers', () => {
    const c = renderMailContent(
      mail({
        html: '<div class="gmail_quote"><div class="gmail_attr">On Tue, Alice wrote:</div><blockquote class="gmail_quote">Ship on Friday?</blockquote><div>Yes.</div><blockquote class="gmail_quote">Who tells the customer?</blockquote><div>I do.</div></div>',
      }),
      { redactions },
    );
    expect(c.bodyText).toBe(l('Yes.', 'I do.'));
    expect(c.trimmedText).toContain('> Ship on Friday?');
    expect(c.trimmedText).toContain('> Who tells the customer?');
  });

  it('renders an HTML quote as > lines', () => {
    const c = renderMailContent(
      mail({
        html: '<div>New words.</div><div class="gmail_quote"><div class="gmail_attr">On Tue, Alice wrote:</div><blockquote class="gmail_quote">QUOTED history</blockquote></div>',
      }),
      { redactions },
    );
    expect(c.bodyText).toBe('New words.');
    expect(c.trimmedText).toBe(l('On Tue, Alice wrote:', '> QUOTED history'));
  });

  it('is null when nothing was cut', () => {
    expect(renderMailContent(mail({ text: 'Just this.' }), { redactions }).trimmedText).toBeNull();
  });
});
