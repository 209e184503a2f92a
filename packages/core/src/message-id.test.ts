import { describe, expect, it } from 'vitest';
import type { Addressing } from './addressing';
import { isOwnMessageId, newMessageId, normaliseMessageId, parseIdList, threadLookupOrder, THREAD_LOOKUP_MAX } from './message-id';
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
    // no brackets at all
    ['a@x.com b@x.com', ['a@x.com', 'b@x.com']],
    ['a@x.com, b@x.com', ['a@x.com', 'b@x.com']],
    ['a@x.com (comment with c@x.com) b@x.com', ['a@x.com', 'b@x.com']],
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

const mail = (over: Partial<MailInput>): MailInput => ({
  messageId: 'self@x.com',
  inReplyTo: [],
  references: [],
  subject: '',
  from: null,
  to: [],
  cc: [],
  deliveredTo: [],
  date: null,
  headers: {},
  text: null,
  html: null,
  ...over,
});

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
