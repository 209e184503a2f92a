import { describe, expect, it } from 'vitest';
import { parseAuthenticationResults } from './auth-results';
import {
  evidenceFromAuthResults,
  isOrgDomain,
  judgeSender,
  type JudgeOptions,
  type SenderAuthEvidence,
  type SenderVerdict,
} from './sender-policy';

const ORG = ['corp.test', 'xn--bcher-kva.test'];

describe('isOrgDomain', () => {
  it.each<[string, boolean]>([
    ['corp.test', true],
    ['CORP.Test', true],
    [' corp.test ', true],
    ['mail.corp.test', true],
    ['a.b.corp.test', true],
    ['xn--bcher-kva.test', true],
    ['corp.test.evil.test', false],
    ['attacker-corp.test', false],
    ['attackercorp.test', false],
    ['corp.test.', false],
    ['.corp.test', false],
    ['corp..test', false],
    ['c\u043erp.test', false], // Cyrillic о
    ['xn--crp-sed.test', false], // its A-label
    ['corp.tes\u212A', false], // KELVIN SIGN, folds to "k" under toLowerCase()
    ['bücher.test', false], // U-label: callers must pass A-labels
    ['test', false],
    ['', false],
  ])('%s -> %s', (domain, expected) => {
    expect(isOrgDomain(domain, ORG)).toBe(expected);
  });

  it('an empty or invalid configuration matches nothing', () => {
    expect(isOrgDomain('corp.test', [])).toBe(false);
    expect(isOrgDomain('corp.test', ['', 'corp.test.', '*.corp.test'])).toBe(false);
  });

  it('a configured sub-domain does not admit its parent', () => {
    expect(isOrgDomain('corp.test', ['eu.corp.test'])).toBe(false);
  });
});

const none: SenderAuthEvidence = {
  dmarc: 'unknown',
  spf: { result: 'none', domain: null },
  dkim: [],
  headerFrom: null,
  source: 'verify',
};
const ev = (e: Partial<SenderAuthEvidence>): SenderAuthEvidence => ({ ...none, ...e });
const dmarc = (result: SenderAuthEvidence['dmarc'], headerFrom: string | null = null) => ev({ dmarc: result, headerFrom });
/** No DMARC record; one DKIM signature. */
const dkim = (result: string, domain: string) => ev({ dmarc: 'none', dkim: [{ result, domain }] });
/** No DMARC record; one SPF result. */
const spf = (result: string, domain: string) => ev({ dmarc: 'none', spf: { result, domain } });
const OK = (via: 'dmarc' | 'aligned_spf' | 'aligned_dkim' | 'none'): SenderVerdict => ({ ok: true, via });
const NO = (reason: 'dmarc_fail' | 'unauthenticated' | 'not_org_domain' | 'invalid_from'): SenderVerdict => ({ ok: false, reason });
const VERIFY: JudgeOptions = { mode: 'verify', orgDomains: ORG };
const A = 'a@corp.test';

describe('judgeSender (mode verify)', () => {
  it.each<[string, SenderAuthEvidence, string | null, SenderVerdict]>([
    ['dmarc pass', dmarc('pass', A), A, OK('dmarc')],
    ['dmarc pass, sub-domain', dmarc('pass'), 'a@eu.corp.test', OK('dmarc')],
    ['dmarc fail beats an aligned DKIM pass', ev({ dmarc: 'fail', dkim: [{ result: 'pass', domain: 'corp.test' }] }), A, NO('dmarc_fail')],
    ['no DMARC, aligned DKIM', dkim('pass', 'corp.test'), A, OK('aligned_dkim')],
    ['no DMARC, DKIM of the parent domain', dkim('pass', 'corp.test'), 'a@eu.corp.test', OK('aligned_dkim')],
    ['no DMARC, SPF of a bounce sub-domain', spf('pass', 'bounce.corp.test'), A, OK('aligned_spf')],
    ['no DMARC, DKIM pass for a foreign d=', dkim('pass', 'evil.test'), A, NO('unauthenticated')],
    ['no DMARC, look-alike d=', dkim('pass', 'corp.test.evil.test'), A, NO('unauthenticated')],
    ['no DMARC, d= is a bare TLD', dkim('pass', 'test'), A, NO('unauthenticated')],
    ['no DMARC, aligned DKIM fails', dkim('fail', 'corp.test'), A, NO('unauthenticated')],
    ['no DMARC, SPF softfail', spf('softfail', 'corp.test'), A, NO('unauthenticated')],
    ['no DMARC, SPF pass for a foreign domain', spf('pass', 'evil.test'), A, NO('unauthenticated')],
    ['dmarc temperror, aligned DKIM', ev({ dmarc: 'temperror', dkim: [{ result: 'pass', domain: 'corp.test' }] }), A, OK('aligned_dkim')],
    ['nothing at all', none, A, NO('unauthenticated')],
    // identity (docs/SECURITY.md B5)
    ['null From', dmarc('pass'), null, NO('invalid_from')],
    ['no @', dmarc('pass'), 'corp.test', NO('invalid_from')],
    ['encoded-word local part', dmarc('pass'), '=?utf-8?q?=40evil.test?=@corp.test', NO('invalid_from')],
    ['quoted local part', dmarc('pass'), '"a b"@corp.test', NO('invalid_from')],
    ['two @', dmarc('pass'), 'a@evil.test@corp.test', NO('invalid_from')],
    ['headerFrom address differs', dmarc('pass', 'ceo@corp.test'), A, NO('invalid_from')],
    ['headerFrom domain differs', dmarc('pass', 'evil.test'), A, NO('invalid_from')],
    ['headerFrom lists several domains', dmarc('pass', 'corp.test,evil.test'), A, NO('invalid_from')],
    ['headerFrom is the organisational domain', dmarc('pass', 'corp.test'), 'a@eu.corp.test', OK('dmarc')],
    ['headerFrom is a sub-domain of From', dmarc('pass', 'eu.corp.test'), A, NO('invalid_from')],
    ['headerFrom address in another case', dmarc('pass', 'A@Corp.Test'), A, OK('dmarc')],
    // organisation domains (docs/SECURITY.md B7) come before DMARC
    ['look-alike passing its own DMARC', dmarc('pass'), 'a@corp.test.evil.test', NO('not_org_domain')],
    ['hyphenated look-alike', dmarc('fail'), 'a@corp-test.test', NO('not_org_domain')],
    ['homoglyph A-label', dmarc('pass'), 'a@xn--crp-sed.test', NO('not_org_domain')],
  ])('%s', (_name, evidence, from, expected) => {
    expect(judgeSender(evidence, from, VERIFY)).toEqual(expected);
  });
});

describe('judgeSender (other modes and configurations)', () => {
  it.each<[string, SenderAuthEvidence, string | null, JudgeOptions, SenderVerdict]>([
    ['verify: no organisation domains configured', dmarc('pass'), A, { mode: 'verify', orgDomains: [] }, NO('not_org_domain')],
    ['none: anything from an org domain', none, A, { mode: 'none', orgDomains: ORG }, OK('none')],
    ['none: still only org domains', none, 'a@evil.test', { mode: 'none', orgDomains: ORG }, NO('not_org_domain')],
    ['none: no org domains configured', none, 'a@evil.test', { mode: 'none', orgDomains: [] }, OK('none')],
    ['none: still a valid From', none, null, { mode: 'none', orgDomains: [] }, NO('invalid_from')],
    ['trusted-mta: dmarc pass', ev({ dmarc: 'pass', headerFrom: 'corp.test', source: 'trusted-mta' }), A, { mode: 'trusted-mta', orgDomains: ORG }, OK('dmarc')],
  ])('%s', (_name, evidence, from, opts, expected) => {
    expect(judgeSender(evidence, from, opts)).toEqual(expected);
  });
});

describe('evidenceFromAuthResults', () => {
  const parse = (v: string) => parseAuthenticationResults(v);
  it.each<[string, string | null, Partial<SenderAuthEvidence>]>([
    ['no trusted header', null, { dmarc: 'unknown', spf: { result: 'none', domain: null }, dkim: [], headerFrom: null }],
    ['none result set', 'mx; none', { dmarc: 'unknown', dkim: [], headerFrom: null }],
    [
      'full set',
      'mx; spf=pass smtp.mailfrom=Bounce@Corp.Test; dkim=pass header.d=Corp.Test; dkim=fail header.i=@other.test; dmarc=pass policy.dmarc=REJECT header.from=Corp.Test',
      {
        dmarc: 'pass',
        dmarcPolicy: 'reject',
        spf: { result: 'pass', domain: 'corp.test' },
        dkim: [
          { result: 'pass', domain: 'corp.test' },
          { result: 'fail', domain: 'other.test' },
        ],
        headerFrom: 'corp.test',
        source: 'trusted-mta',
      },
    ],
    ['spf for the HELO identity', 'mx; spf=pass smtp.helo=mail.corp.test', { spf: { result: 'pass', domain: 'mail.corp.test' } }],
    ['invalid header.d is not replaced by header.i', 'mx; dkim=pass header.d=evil header.i=@corp.test', { dkim: [] }],
    ['dmarc pass without header.from', 'mx; dmarc=pass; dkim=pass header.d=corp.test', { dmarc: 'unknown', headerFrom: null, dkim: [{ result: 'pass', domain: 'corp.test' }] }],
    ['dmarc fail without header.from', 'mx; dmarc=fail', { dmarc: 'fail', headerFrom: null }],
    ['unknown dmarc result', 'mx; dmarc=bestguesspass header.from=corp.test', { dmarc: 'unknown' }],
    ['two From domains, one fails', 'mx; dmarc=pass header.from=corp.test; dmarc=fail header.from=evil.test', { dmarc: 'fail', headerFrom: 'corp.test,evil.test' }],
    ['the same From domain in two cases', 'mx; dmarc=pass header.from=Corp.Test; dmarc=pass header.from=corp.test', { dmarc: 'pass', headerFrom: 'corp.test' }],
    ['two dmarc results, one temperror', 'mx; dmarc=pass header.from=corp.test; dmarc=temperror header.from=corp.test', { dmarc: 'temperror', headerFrom: 'corp.test' }],
  ])('%s', (_name, value, expected) => {
    expect(evidenceFromAuthResults(value === null ? null : parse(value))).toMatchObject(expected);
  });
});
