import { describe, expect, it } from 'vitest';
import type { Addressing } from './addressing';
import {
  isOwnMessageId,
  isWellFormedMessageId,
  newMessageId,
  normaliseMessageId,
  parseIdList,
  parseInReplyTo,
  threadLookupOrder,
  THREAD_LOOKUP_MAX,
} from './message-id';
import { mailInput } from './test-support/mail-input';
import type { MailInput } from './types';

describe('normaliseMessageId', () => {
  it.each([
    ['<abc@example.com>', 'abc@example.com'],
    ['abc@example.com', 'abc@example.com'],
    ['  <abc@example.com>  ', 'abc@example.com'],
    ['< abc@example.com >', 'abc@example.com'],
    ['<abc@example.com', 'abc@example.com'],
    ['abc@example.com>', 'abc@example.com'],
    ['<abc@example.com> (added by postmaster)', 'abc@example.com'],
    // id-left keeps its case; id-right after the last @ is lower-cased
    ['<AbC.123@Mail.Example.COM>', 'AbC.123@mail.example.com'],
    ['<CAF=x@y@Example.COM>', 'CAF=x@y@example.com'],
    ['<no-at-sign>', 'no-at-sign'],
    ['<[1.2.3.4]@[IPv6:ABCD::1]>', '[1.2.3.4]@[ipv6:abcd::1]'],
    ['', null],
    ['   ', null],
    ['<>', null],
    ['< >', null],
    ['<a b@example.com>', null],
    ['<"a b"@example.com>', null],
    ['<a\u0000b@example.com>', null],
    ['<a\tb@example.com>', null],
    ['<a<b@example.com>', null],
    [null, null],
    [undefined, null],
  ])('%j -> %j', (input, expected) => {
    expect(normaliseMessageId(input)).toBe(expected);
  });

  it.each([
    [998, true],
    [999, false],
  ])('an id of %i characters is accepted: %s', (length, accepted) => {
    const id = `${'a'.repeat(length - 4)}@b.c`;
    expect(normaliseMessageId(`<${id}>`)).toBe(accepted ? id : null);
  });

  it('is idempotent', () => {
    const once = normaliseMessageId('<X@Y.Z>');
    expect(normaliseMessageId(once)).toBe(once);
  });
});

describe('parseIdList', () => {
  it.each<[string | string[] | null, string[]]>([
    ['<a@x.com>', ['a@x.com']],
    ['<a@x.com> <b@x.com>', ['a@x.com', 'b@x.com']],
    ['<a@x.com>\r\n <b@x.com>\r\n\t<c@x.com>', ['a@x.com', 'b@x.com', 'c@x.com']],
    ['<a@x.com><b@x.com>', ['a@x.com', 'b@x.com']],
    ['<a@x.com>,<b@x.com>', ['a@x.com', 'b@x.com']],
    ['<a@X.com> <a@x.COM> <b@x.com> <a@x.com>', ['a@x.com', 'b@x.com']],
    // obsolete phrase forms: only the bracketed id counts, not the address in the phrase
    ['Your message of Mon, 3 Jun 2024 from jane@corp.com <a@x.com>', ['a@x.com']],
    ['<a@x.com> (Jane Doe\'s message of "Mon, 3 Jun")', ['a@x.com']],
    // no brackets at all: one bare id only when it is the whole value
    ['a@x.com', ['a@x.com']],
    ['  a@x.com (sent by an old client)  ', ['a@x.com']],
    ['a@x.com b@x.com', []],
    ['a@x.com, b@x.com', []],
    ['a@x.com (comment with c@x.com) b@x.com', []],
    ['Your message of Mon, 3 Jun 2024', []],
    // ids must have an id-left and an id-right
    ['<no-at-sign> <a@x.com> <@x.com> <a@>', ['a@x.com']],
    // junk
    ['<> < > <a b@x.com> <ok@x.com>', ['ok@x.com']],
    ['<a@x.com <b@x.com>', ['b@x.com']],
    ['garbage without ids', []],
    ['', []],
    [null, []],
    // several header values
    [['<a@x.com>', '<b@x.com> <a@x.com>'], ['a@x.com', 'b@x.com']],
  ])('%j -> %j', (header, expected) => {
    expect(parseIdList(header)).toEqual(expected);
  });

  const many = Array.from({ length: 5000 }, (_, i) => `<id${i}@x.com>`).join(' ');

  it.each([
    [100, ['id0@x.com', ...Array.from({ length: 99 }, (_, i) => `id${4901 + i}@x.com`)]],
    [3, ['id0@x.com', 'id4998@x.com', 'id4999@x.com']],
    [1, ['id0@x.com']],
    [0, []],
  ])('caps at %i keeping the root and the newest ids', (cap, expected) => {
    expect(parseIdList(many, cap)).toEqual(expected);
  });

  it('defaults to a cap of 100', () => {
    expect(parseIdList(many)).toHaveLength(100);
  });
});

// Header values as real clients write them, as replayed from mailing-list archives.
const OUTLOOK_REFS = [
  '<DB9PR02MB7210A1B2C3D4E5F60718293A4B5C6D7E8@DB9PR02MB7210.eurprd02.prod.outlook.com>',
  '<AM0PR02MB5171F0E1D2C3B4A5968778695A4B3C2D@AM0PR02MB5171.eurprd02.prod.outlook.com>',
  '<VI1PR02MB6400D1C2B3A4958677685A4B3C2D1E0F@VI1PR02MB6400.eurprd02.prod.outlook.com>',
].join('\r\n ');

describe('parseIdList on real-shaped References', () => {
  it.each<[string, string, string[]]>([
    ['mutt', '<20240603080012.GA12345@box.example.org> <20240603091544.GB23456@laptop.example.net>', ['20240603080012.GA12345@box.example.org', '20240603091544.GB23456@laptop.example.net']],
    [
      'a quoted "Your message of" phrase (its words are not ids)',
      'Your message of "Mon, 03 Jun 2024 10:00:00 +0200."\r\n <200406030800.i538@corp.example>',
      ['200406030800.i538@corp.example'],
    ],
    [
      'a phrase around several ids',
      '<a1@lists.example.org> Your message of "Tue, 4 Jun 2024 11:00:00 +0100" from <b2@lists.example.org>',
      ['a1@lists.example.org', 'b2@lists.example.org'],
    ],
    [
      "Outlook's long References, folded, domain lower-cased",
      OUTLOOK_REFS,
      [
        'DB9PR02MB7210A1B2C3D4E5F60718293A4B5C6D7E8@db9pr02mb7210.eurprd02.prod.outlook.com',
        'AM0PR02MB5171F0E1D2C3B4A5968778695A4B3C2D@am0pr02mb5171.eurprd02.prod.outlook.com',
        'VI1PR02MB6400D1C2B3A4958677685A4B3C2D1E0F@vi1pr02mb6400.eurprd02.prod.outlook.com',
      ],
    ],
    ['Gmail id with = and +', '<CAF=x+Y@mail.gmail.com>', ['CAF=x+Y@mail.gmail.com']],
    ['domain literal', '<1234.5678@[192.0.2.1]>', ['1234.5678@[192.0.2.1]']],
    ['quoted id-left without spaces', '<"odd.id"@example.org>', ['"odd.id"@example.org']],
  ])('%s', (_name, header, expected) => {
    expect(parseIdList(header)).toEqual(expected);
  });
});

describe('parseInReplyTo', () => {
  it.each<[string, string | string[] | null, string[]]>([
    ['one id', '<p@x.com>', ['p@x.com']],
    [
      'exmh/MH: the address first, the id last',
      'Message from Jane Doe <jane@corp.example> of "Mon, 03 Jun 2024 10:00:00 +0200." <200406030800.i538@corp.example>',
      ['200406030800.i538@corp.example'],
    ],
    ['id then a comment', '<p@x.com> (Jane Doe\'s message of "Mon, 3 Jun")', ['p@x.com']],
    ['several parents, last first', '<a@x.com> <b@x.com>', ['b@x.com', 'a@x.com']],
    ['phrase only', 'Your message of Mon, 3 Jun 2024', []],
    ['bare whole value', 'p@x.com', ['p@x.com']],
    ['words are not ids', '<Your> <message>', []],
    ['nothing', null, []],
    ['repeated header', ['<a@x.com>', '<b@x.com>'], ['a@x.com', 'b@x.com']],
  ])('%s', (_name, header, expected) => {
    expect(parseInReplyTo(header)).toEqual(expected);
  });
});

describe('isWellFormedMessageId', () => {
  it.each([
    ['a@x.com', true],
    ['CAF=x@y@example.com', true],
    ['1234.5678@[192.0.2.1]', true],
    ['Your', false],
    ['"Mon,', false],
    ['@x.com', false],
    ['a@', false],
  ])('%s -> %s', (id, expected) => {
    expect(isWellFormedMessageId(id)).toBe(expected);
  });
});

const mail = mailInput;

describe('threadLookupOrder', () => {
  const refs = (n: number) => Array.from({ length: n }, (_, i) => `r${i}@x.com`);

  it.each<[string, Partial<MailInput>, string[]]>([
    ['nothing', {}, []],
    ['in-reply-to only', { inReplyTo: ['p@x.com'] }, ['p@x.com']],
    ['references newest first', { references: ['r0@x.com', 'r1@x.com', 'r2@x.com'] }, ['r2@x.com', 'r1@x.com', 'r0@x.com']],
    [
      'in-reply-to before references, deduped',
      { inReplyTo: ['r2@x.com'], references: ['r0@x.com', 'r1@x.com', 'r2@x.com'] },
      ['r2@x.com', 'r1@x.com', 'r0@x.com'],
    ],
    [
      'in-reply-to not in references comes first',
      { inReplyTo: ['p@x.com'], references: ['r0@x.com', 'r1@x.com'] },
      ['p@x.com', 'r1@x.com', 'r0@x.com'],
    ],
    ['never its own id', { messageId: 'self@x.com', inReplyTo: ['self@x.com'], references: ['r0@x.com', 'self@x.com'] }, ['r0@x.com']],
    ['own id compared normalised', { messageId: 'self@X.com', references: ['<self@x.COM>'] }, []],
    ['ids normalised and deduped', { inReplyTo: ['<P@X.COM>'], references: ['P@x.com', 'bad id'] }, ['P@x.com']],
    ['words from a split References are not ids', { references: ['<Your>', '<message>', '<of>', '<"from>', 'r0@x.com'] }, ['r0@x.com']],
    [
      'capped, newest kept, root last',
      { references: refs(50) },
      [...Array.from({ length: THREAD_LOOKUP_MAX - 1 }, (_, i) => `r${49 - i}@x.com`), 'r0@x.com'],
    ],
    ['exactly at the cap, root included naturally', { references: refs(20) }, Array.from({ length: 20 }, (_, i) => `r${19 - i}@x.com`)],
  ])('%s', (_name, over, expected) => {
    expect(threadLookupOrder(mail(over))).toEqual(expected);
  });

  it('returns at most THREAD_LOOKUP_MAX ids', () => {
    const ids = threadLookupOrder(mail({ inReplyTo: refs(30).map((r) => `i${r}`), references: refs(100) }));
    expect(ids).toHaveLength(THREAD_LOOKUP_MAX);
    expect(ids.at(-1)).toBe('r0@x.com');
  });
});

describe('newMessageId / isOwnMessageId', () => {
  const UUID = '0f8fad5b-d9cb-469f-a165-70867728950e';
  const domain: Addressing = { mode: 'domain', domain: 'blend.example.test' };
  const plus: Addressing = { mode: 'plus', mailbox: 'bridge', domain: 'corp.com' };

  it.each<[Addressing, string]>([
    [domain, `blend.${UUID}@blend.example.test`],
    [plus, `blend.${UUID}@corp.com`],
  ])('%o: %s', (addressing, id) => {
    expect(newMessageId(UUID, addressing)).toBe(id);
    expect(isOwnMessageId(id, addressing)).toBe(true);
  });

  it.each<[string, boolean]>([
    [`<blend.${UUID}@corp.com>`, true],
    [`blend.${UUID}@CORP.COM`, true],
    [`blend.${UUID}@corp.com.evil.io`, false],
    [`blend.${UUID}@mail.corp.com`, false],
    [`${UUID}@corp.com`, false],
    [`blend.${UUID.toUpperCase()}@corp.com`, false],
    [`blend.${UUID}.x@corp.com`, false],
    ['blend.weekly@corp.com', false],
    ['CAF=x7y@mail.gmail.com', false],
    ['', false],
  ])('in plus mode %s -> %s', (id, own) => {
    expect(isOwnMessageId(id, plus)).toBe(own);
  });

  it('never takes a look-alike domain for ours (U+212A KELVIN SIGN lower-cases to k)', () => {
    expect(isOwnMessageId(`blend.${UUID}@\u212Aorp.com`, { mode: 'plus', mailbox: 'bridge', domain: 'korp.com' })).toBe(false);
  });
});
