import { describe, expect, it } from 'vitest';
import { parseAuthenticationResults, trustedResults, type ParsedAuthResults } from './auth-results';
import { mailInput } from './test-support/mail-input';
import type { MailInput } from './types';

describe('parseAuthenticationResults', () => {
  it.each<[string, string, ParsedAuthResults | null]>([
    [
      'RFC 8601 appendix B.2 style, no results',
      'example.org 1; none',
      { authservId: 'example.org', results: [] },
    ],
    ['none without version', 'mx.corp.test; none', { authservId: 'mx.corp.test', results: [] }],
    ['none with a trailing ";"', 'mx.corp.test; NONE;', { authservId: 'mx.corp.test', results: [] }],
    ['none next to a result is malformed', 'mx.corp.test; none; dmarc=pass', null],
    [
      'three methods with properties and comments',
      'mx.corp.test; spf=pass (mx.corp.test: 192.0.2.1 is allowed) smtp.mailfrom=a@corp.test;\r\n' +
        ' dkim=pass (2048-bit key) header.d=corp.test header.s=sel header.b=Ab/1+x=;\r\n' +
        ' dmarc=pass (p=REJECT sp=REJECT) header.from=corp.test',
      {
        authservId: 'mx.corp.test',
        results: [
          { method: 'spf', result: 'pass', props: { 'smtp.mailfrom': 'a@corp.test' } },
          { method: 'dkim', result: 'pass', props: { 'header.d': 'corp.test', 'header.s': 'sel', 'header.b': 'Ab/1+x=' } },
          { method: 'dmarc', result: 'pass', props: { 'header.from': 'corp.test' } },
        ],
      },
    ],
    [
      'version, case, CFWS around "=" and a method version',
      'MX.Corp.Test 1 ; DKIM/1 = Pass header.d =corp.test header.i= @corp.test',
      {
        authservId: 'MX.Corp.Test',
        results: [{ method: 'dkim', result: 'pass', props: { 'header.d': 'corp.test', 'header.i': '@corp.test' } }],
      },
    ],
    [
      'quoted strings: authserv-id, reason with ";", quoted local part',
      '"mx.corp.test"; spf=fail reason="bad; very bad" smtp.mailfrom="a b"@corp.test',
      {
        authservId: 'mx.corp.test',
        results: [{ method: 'spf', result: 'fail', props: { reason: 'bad; very bad', 'smtp.mailfrom': 'a b@corp.test' } }],
      },
    ],
    [
      'nested comments hide a fake result',
      'mx.corp.test (a (nested; dmarc=pass) comment); dmarc=fail (dmarc=pass) header.from=corp.test;',
      { authservId: 'mx.corp.test', results: [{ method: 'dmarc', result: 'fail', props: { 'header.from': 'corp.test' } }] },
    ],
    ['escaped parenthesis inside a comment', 'mx (a \\) b); spf=none', { authservId: 'mx', results: [{ method: 'spf', result: 'none', props: {} }] }],
    ['repeated property keeps the first', 'mx; dkim=pass header.d=a.test header.d=b.test', {
      authservId: 'mx',
      results: [{ method: 'dkim', result: 'pass', props: { 'header.d': 'a.test' } }],
    }],
    // malformed or not ours to interpret
    ['Microsoft style: no authserv-id', 'spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=corp.test; dmarc=pass', null],
    ['no authserv-id, spaced', 'dkim = pass header.d=corp.test', null],
    ['unknown version', 'mx.corp.test 2; dmarc=pass header.from=corp.test', null],
    ['two words before the first ";"', 'mx.corp.test extra; dmarc=pass', null],
    ['authserv-id only', 'mx.corp.test', null],
    ['empty', '', null],
    ['unterminated comment', 'mx; dmarc=pass (oops', null],
    ['unterminated quote', 'mx; dmarc=pass reason="oops', null],
    ['bare word in a result', 'mx; dmarc=pass forged', null],
    ['missing result', 'mx; dmarc=', null],
    ['result that is not a keyword', 'mx; dmarc=pa.ss', null],
  ])('%s', (_name, value, expected) => {
    expect(parseAuthenticationResults(value)).toEqual(expected);
  });
});

describe('trustedResults', () => {
  const mail = (...ar: string[]): MailInput => mailInput({ messageId: null, headers: ar.length > 0 ? { 'authentication-results': ar } : {} });
  const OURS = 'mx.corp.test; dmarc=pass header.from=corp.test';
  const OURS_FAIL = 'mx.corp.test; dmarc=fail header.from=corp.test';
  const FORGED = 'evil.test; dmarc=pass header.from=corp.test';

  it.each<[string, MailInput, string | null]>([
    ['only ours', mail(OURS), 'pass'],
    ['ours below a foreign (forged) header', mail(FORGED, OURS), 'pass'],
    ['ours above a foreign header', mail(OURS, FORGED), 'pass'],
    ['ours fails, forged pass below', mail(OURS_FAIL, FORGED), 'fail'],
    ['ours fails, forged pass above', mail(FORGED, OURS_FAIL), 'fail'],
    ['topmost of ours wins over a forged copy of our id below', mail(OURS_FAIL, OURS), 'fail'],
    ['case-insensitive authserv-id', mail('MX.CORP.TEST 1; dmarc=pass header.from=corp.test'), 'pass'],
    ['quoted authserv-id', mail('"mx.corp.test"; dmarc=pass header.from=corp.test'), 'pass'],
    ['only a foreign header', mail(FORGED), null],
    ['no header', mail(), null],
    ['look-alike authserv-ids', mail('mx.corp.test.evil.test; dmarc=pass', 'evil-mx.corp.test; dmarc=pass', 'mx.corp.tes\u212A; dmarc=pass'), null],
    ['our topmost header is malformed: no fall-through to a lower one', mail('mx.corp.test; dmarc=pass junk', OURS), null],
    ['our topmost header says none', mail('mx.corp.test; none', OURS), 'none-set'],
  ])('%s', (_name, m, expected) => {
    const got = trustedResults(m, 'mx.corp.test');
    if (expected === null) expect(got).toBeNull();
    else if (expected === 'none-set') expect(got?.results).toEqual([]);
    else expect(got?.results.find((r) => r.method === 'dmarc')?.result).toBe(expected);
  });

  it('an empty configured id trusts nothing', () => {
    expect(trustedResults(mail(OURS), '  ')).toBeNull();
  });
});
