import { describe, expect, it } from 'vitest';
import type { Addressing } from './addressing';
import { isListAddress, mailingListIdentity, subjectFallbackPeople, type ListIdentity } from './subject-fallback';
import { addr, mailInput } from './test-support/mail-input';
import type { MailInput } from './types';

const DOMAIN: Addressing = { mode: 'domain', domain: 'example.test' };
const PLUS: Addressing = { mode: 'plus', mailbox: 'bridge', domain: 'corp.test' };

const mail = (over: Partial<MailInput>) => mailInput({ subject: 'Re: Release 2.0', from: addr('alice@corp.test'), ...over });

describe('subjectFallbackPeople', () => {
  it.each<[string, Addressing, Partial<MailInput>, { sender: string | null; people: string[] }]>([
    ['From, To and Cc, lower-cased, once each', DOMAIN, { from: addr('Alice@Corp.test'), to: [addr('bob@corp.test')], cc: [addr('BOB@corp.test')] }, { sender: 'alice@corp.test', people: ['alice@corp.test', 'bob@corp.test'] }],
    ['never Blend (domain mode)', DOMAIN, { to: [addr('status@example.test'), addr('bob@corp.test')] }, { sender: 'alice@corp.test', people: ['alice@corp.test', 'bob@corp.test'] }],
    ['never Blend (plus mode), other staff kept', PLUS, { to: [addr('bridge+team@corp.test'), addr('bridge@corp.test'), addr('bob@corp.test')] }, { sender: 'alice@corp.test', people: ['alice@corp.test', 'bob@corp.test'] }],
    [
      'never the List-Post address',
      DOMAIN,
      { to: [addr('dev@lists.example.org')], headers: { 'list-post': ['<mailto:dev@lists.example.org>'] } },
      { sender: 'alice@corp.test', people: ['alice@corp.test'] },
    ],
    [
      'never the address a List-Id label is made of',
      DOMAIN,
      { to: [addr('dev@lists.example.org'), addr('bob@corp.test')], headers: { 'list-id': ['Developers <dev.lists.example.org>'] } },
      { sender: 'alice@corp.test', people: ['alice@corp.test', 'bob@corp.test'] },
    ],
    [
      'a From rewritten to the list (DMARC mitigation) is no sender',
      DOMAIN,
      { from: addr('dev@lists.example.org'), cc: [addr('alice@corp.test')], headers: { 'list-post': ['<mailto:dev@lists.example.org>'] } },
      { sender: null, people: ['alice@corp.test'] },
    ],
    ['no From', DOMAIN, { from: null, to: [addr('bob@corp.test')] }, { sender: null, people: ['bob@corp.test'] }],
  ])('%s', (_name, addressing, over, expected) => {
    expect(subjectFallbackPeople(mail(over), addressing)).toEqual(expected);
  });
});

describe('mailingListIdentity', () => {
  it.each<[string, Record<string, string[]>, ListIdentity]>([
    ['none', {}, { addresses: [], labels: [] }],
    ['Mailman', { 'list-id': ['Developers <dev.lists.example.org>'], 'list-post': ['<mailto:dev@lists.example.org>'] }, { addresses: ['dev@lists.example.org'], labels: ['dev.lists.example.org'] }],
    ['mailto with a subject and an escape', { 'list-post': ['<mailto:Dev%40Lists.example.org?subject=hi>'] }, { addresses: ['dev@lists.example.org'], labels: [] }],
    ['posting closed (RFC 2369 "NO")', { 'list-post': ['NO (posting not allowed on this list)'] }, { addresses: [], labels: [] }],
    ['Google Groups, bare List-Id', { 'list-id': ['team.corp.test'], 'list-post': ['<https://groups.google.com/a/corp.test/group/team/post>, <mailto:team@corp.test>'] }, { addresses: ['team@corp.test'], labels: ['team.corp.test'] }],
  ])('%s', (_name, headers, expected) => {
    expect(mailingListIdentity(mail({ headers }))).toEqual(expected);
  });
});

describe('isListAddress', () => {
  const list: ListIdentity = { addresses: ['announce@lists.example.org'], labels: ['dev.lists.example.org'] };
  it.each([
    ['announce@lists.example.org', true],
    ['Dev@Lists.Example.org', true],
    ['dev-request@lists.example.org', false],
    ['alice@corp.test', false],
  ])('%s -> %s', (address, expected) => {
    expect(isListAddress(address, list)).toBe(expected);
  });
});
