import { describe, expect, it } from 'vitest';
import { bridgeAddress, groupSlugProblem, isBridgeAddress, mailboxProblem, MAILBOX_MAX_CHARS, senderAddress, type Addressing, type AddressRole } from './addressing';

const TOKEN = 'v1abcdefghijklmnopqrstuvwxyz';
const HEX = '0123456789abcdef0123456789abcdef';
const DOMAIN: Addressing = { mode: 'domain', domain: 'blend.example.test' };
const PLUS: Addressing = { mode: 'plus', mailbox: 'bridge', domain: 'example.test' };

describe('bridgeAddress', () => {
  it.each<[AddressRole, string, string]>([
    [{ kind: 'status' }, 'status@blend.example.test', 'bridge+status@example.test'],
    [{ kind: 'command' }, 'help@blend.example.test', 'bridge+help@example.test'],
    [{ kind: 'group', slug: 'sales-emea' }, 'sales-emea@blend.example.test', 'bridge+sales-emea@example.test'],
    [{ kind: 'reply', token: TOKEN }, `reply+${TOKEN}@blend.example.test`, `bridge+reply-${TOKEN}@example.test`],
    [{ kind: 'bounce', token: HEX }, `bounce+${HEX}@blend.example.test`, `bridge+bounce-${HEX}@example.test`],
  ])('%o -> %s | %s', (role, domainMode, plusMode) => {
    expect(bridgeAddress(DOMAIN, role)).toBe(domainMode);
    expect(bridgeAddress(PLUS, role)).toBe(plusMode);
    // Exchange Online, Gmail and Postfix split at the first `+`: there must be only one.
    expect(plusMode.split('+')).toHaveLength(2);
  });

  it('keeps the longest address within the 64-octet local part for the longest mailbox', () => {
    const address = bridgeAddress({ mode: 'plus', mailbox: 'b'.repeat(MAILBOX_MAX_CHARS), domain: 'example.test' }, { kind: 'bounce', token: HEX });
    expect(address.indexOf('@')).toBe(64);
  });
});

describe('senderAddress', () => {
  it.each<[Addressing, string]>([
    [DOMAIN, 'status@blend.example.test'],
    [PLUS, 'bridge@example.test'],
  ])('%o -> %s', (addressing, from) => {
    expect(senderAddress(addressing)).toBe(from);
  });
});

describe('isBridgeAddress', () => {
  it.each<[string, boolean, boolean]>([
    // address, in domain mode (blend.example.test), in plus mode (bridge@example.test)
    ['status@blend.example.test', true, false],
    ['postmaster@blend.example.test', true, false],
    ['Reply+X@BLEND.example.test', true, false],
    ['bridge@example.test', false, true],
    ['Bridge@Example.Test', false, true],
    ['<bridge+status@example.test>', false, true],
    [`bridge+reply-${TOKEN}@example.test`, false, true],
    ['bridge+anything@example.test', false, true],
    ['alice@example.test', false, false],
    ['status@example.test', false, false],
    ['bridges@example.test', false, false],
    ['xbridge@example.test', false, false],
    ['"bridge"@example.test', false, false],
    ['"x"@blend.example.test', false, false],
    ['bridge@sub.example.test', false, false],
    ['bridge@example.test.evil.io', false, false],
    ['status@sub.blend.example.test', false, false],
    ['status@blend.example.tеst', false, false], // Cyrillic е
    ['bridge@evil.io@example.test', false, false],
    ['bridge', false, false],
    ['', false, false],
  ])('%s: domain %s, plus %s', (address, inDomainMode, inPlusMode) => {
    expect(isBridgeAddress(address, DOMAIN)).toBe(inDomainMode);
    expect(isBridgeAddress(address, PLUS)).toBe(inPlusMode);
  });
});

describe('mailboxProblem', () => {
  it.each<[string, RegExp | null]>([
    ['bridge', null],
    ['blend.bridge', null],
    ['it_blend-2', null],
    ['b', null],
    ['x'.repeat(24), null],
    ['x'.repeat(25), /25 characters; at most 24 leave room for "\+bounce-" and a 32-character id within the 64-octet local part/],
    ['bridge+x', /must not contain "\+"/],
    ['.bridge', /letters, digits/],
    ['bridge-', /letters, digits/],
    ['"bridge"', /letters, digits/],
    ['Bridge', /lower-case/],
    ['', /letters, digits/],
  ])('%j -> %s', (local, problem) => {
    const got = mailboxProblem(local);
    if (problem === null) expect(got).toBeNull();
    else expect(got).toMatch(problem);
  });
});

describe('groupSlugProblem', () => {
  it.each<[string, RegExp | null]>([
    ['general', null],
    ['sales-emea', null],
    ['dev.ops_2', null],
    ['reply', null],
    ['replying', null],
    ['bounced', null],
    ['reply-all', /must not start with "reply-" or "bounce-"/],
    ['bounce-team', /must not start with "reply-" or "bounce-"/],
    ['status', /one of Blend's own addresses/],
    ['help', /one of Blend's own addresses/],
    ['postmaster', /reserved role address/],
    ['no-reply', /reserved role address/],
    ['bounce', /reserved role address/],
    ['-team', /must be 1-63/],
    ['team+x', /must be 1-63/],
    ['Team', /must be 1-63/],
    ['a'.repeat(64), /must be 1-63/],
    ['', /must be 1-63/],
  ])('%j -> %s', (slug, problem) => {
    const got = groupSlugProblem(slug);
    if (problem === null) expect(got).toBeNull();
    else expect(got).toMatch(problem);
  });
});
