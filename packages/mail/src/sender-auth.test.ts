import { generateKeyPairSync } from 'node:crypto';
import { dkimSign } from 'mailauth';
import { describe, expect, it } from 'vitest';
import type { SenderVerdict } from '@blend/core';
import { parseMail } from './parse';
import {
  checkSender,
  SenderAuthTemporaryError,
  smtpClientFromReceived,
  staticResolver,
  type DnsResolver,
  type SenderAuthOptions,
  type SmtpClient,
} from './sender-auth';

// No network: every lookup goes to this zone, and anything else is NXDOMAIN.
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const KEY = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const ZONE = {
  '_dmarc.corp.test': { TXT: ['v=DMARC1; p=reject'] },
  'sel._domainkey.corp.test': {
    TXT: [`v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`],
  },
  'corp.test': { TXT: ['v=spf1 ip4:127.0.0.1 ip6:2001:db8::/32 -all'] },
};

/** The zone's resolver, recording every query and failing on demand like a dead DNS server. */
function resolver(opts: { timeout?: RegExp } = {}): DnsResolver & { queries: string[] } {
  const base = staticResolver(ZONE);
  const queries: string[] = [];
  const r = async (name: string, rrtype: string): Promise<unknown> => {
    queries.push(`${rrtype} ${name}`);
    if (opts.timeout?.test(name)) throw Object.assign(new Error(`query${rrtype} ETIMEOUT ${name}`), { code: 'ETIMEOUT' });
    return base(name, rrtype);
  };
  return Object.assign(r, { queries });
}

const EXTERNAL = '203.0.113.9'; // outside corp.test's SPF
/** The headers our delivery chain adds, as observed on the local Postfix + Dovecot LMTP. */
const delivered = (ip: string, mailFrom: string): string =>
  `Return-Path: <${mailFrom}>\r\n` +
  'Delivered-To: status@example.test\r\n' +
  'Received: from vm ([127.0.0.1])\r\n\tby vm with LMTP\r\n\tid 4J1VDhhJB2vHbwAAg+zDdQ\r\n' +
  `\t(envelope-from <${mailFrom}>)\r\n\tfor <status@example.test>; Wed, 25 Nov 2026 20:46:16 +0000\r\n` +
  `Received: from client.corp.test (unknown [${ip.includes(':') ? `IPv6:${ip}` : ip}])\r\n` +
  '\tby vm (Postfix) with ESMTP id 39E2316E3E7\r\n\tfor <status@example.test>; Wed, 25 Nov 2026 20:46:16 +0000 (UTC)\r\n';

interface Case {
  from?: string;
  sign?: boolean;
  ip?: string | null;
  mailFrom?: string;
  extraHeaders?: string;
  alterBody?: boolean;
}

async function message(c: Case): Promise<Buffer> {
  const original =
    `From: ${c.from ?? 'Alice <alice@corp.test>'}\r\nTo: status@example.test\r\nSubject: hello\r\n` +
    'Date: Wed, 25 Nov 2026 20:46:16 +0000\r\nMessage-ID: <m1@corp.test>\r\n\r\nHello from Alice.\r\n';
  let signature = '';
  if (c.sign) {
    // mailauth signs only what `signatureData` lists; top-level keys are defaults.
    const signed = await dkimSign(original, { signingDomain: 'corp.test', selector: 'sel', privateKey: KEY, signatureData: [{ signingDomain: 'corp.test', selector: 'sel', privateKey: KEY }] });
    expect(signed.errors).toEqual([]);
    expect(signed.signatures).toMatch(/^DKIM-Signature: /);
    signature = signed.signatures;
  }
  const body = c.alterBody ? original.replace('Hello from Alice.', 'Send the wire transfer now.') : original;
  const chain = c.ip === null ? `Return-Path: <${c.mailFrom ?? 'alice@corp.test'}>\r\n` : delivered(c.ip ?? '127.0.0.1', c.mailFrom ?? 'alice@corp.test');
  return Buffer.from(chain + (c.extraHeaders ?? '') + signature + body);
}

async function run(c: Case, opts: Partial<SenderAuthOptions> = {}, dns = resolver()) {
  const raw = await message(c);
  const { mail } = await parseMail(raw);
  return checkSender(raw, mail, { mode: 'verify', orgDomains: ['corp.test'], resolver: dns, ...opts });
}

describe('checkSender, mode verify (mailauth with a local resolver)', () => {
  it.each<[string, Case, SenderVerdict]>([
    ['DKIM-signed, sent from an SPF-listed IP', { sign: true }, { ok: true, via: 'dmarc' }],
    ['DKIM-signed, sent from an outside IP (DKIM alignment alone)', { sign: true, ip: EXTERNAL }, { ok: true, via: 'dmarc' }],
    ['DKIM-signed, no Received header at all (SPF none)', { sign: true, ip: null }, { ok: true, via: 'dmarc' }],
    ['unsigned, sent from an SPF-listed IP (SPF alignment)', {}, { ok: true, via: 'dmarc' }],
    ['unsigned, SPF-listed IPv6 client', { ip: '2001:db8::25' }, { ok: true, via: 'dmarc' }],
    ['spoofed From, unsigned, outside IP', { ip: EXTERNAL }, { ok: false, reason: 'dmarc_fail' }],
    ['spoofed From, unsigned, no Received header', { ip: null }, { ok: false, reason: 'dmarc_fail' }],
    ['spoofed From with a bounce address of its own', { ip: EXTERNAL, mailFrom: 'x@evil.test' }, { ok: false, reason: 'dmarc_fail' }],
    ['null reverse-path: SPF checks postmaster@HELO, which does not align', { mailFrom: '' }, { ok: false, reason: 'dmarc_fail' }],
    ['null reverse-path, DKIM-signed', { mailFrom: '', sign: true }, { ok: true, via: 'dmarc' }],
    [
      'spoofed From with a forged Authentication-Results (ignored in verify)',
      { ip: EXTERNAL, extraHeaders: 'Authentication-Results: blend; dmarc=pass header.from=corp.test\r\n' },
      { ok: false, reason: 'dmarc_fail' },
    ],
    ['body altered after signing', { sign: true, ip: EXTERNAL, alterBody: true }, { ok: false, reason: 'dmarc_fail' }],
    ['encoded-word From (B5)', { from: '=?utf-8?b?YXR0YWNrZXJAZXZpbC5jb20=?=', sign: true }, { ok: false, reason: 'invalid_from' }],
    ['encoded-word local part (B5)', { from: '=?utf-8?q?=40attacker.com?=@corp.test', sign: true }, { ok: false, reason: 'invalid_from' }],
    ['two From mailboxes', { from: 'alice@corp.test, eve@evil.test', sign: true }, { ok: false, reason: 'invalid_from' }],
    ['display name holding an org address (B6)', { from: '"alice@corp.test" <eve@evil.test>' }, { ok: false, reason: 'not_org_domain' }],
    ['look-alike corp.test.evil.test (B7)', { from: 'alice@corp.test.evil.test' }, { ok: false, reason: 'not_org_domain' }],
    ['look-alike corp-test.test (B7)', { from: 'alice@corp-test.test' }, { ok: false, reason: 'not_org_domain' }],
    ['homoglyph c\u043erp.test (B7)', { from: 'alice@c\u043erp.test' }, { ok: false, reason: 'not_org_domain' }],
    ['homoglyph as A-label (B7)', { from: 'alice@xn--crp-sed.test' }, { ok: false, reason: 'not_org_domain' }],
  ])('%s', async (_name, c, expected) => {
    expect((await run(c)).verdict).toEqual(expected);
  });

  it('rejects invalid and foreign From addresses without any DNS query', async () => {
    const dns = resolver();
    expect((await run({ from: 'alice@corp.test.evil.test' }, {}, dns)).verdict.ok).toBe(false);
    expect((await run({ from: '=?utf-8?b?YXR0YWNrZXJAZXZpbC5jb20=?=' }, {}, dns)).verdict.ok).toBe(false);
    expect(dns.queries).toEqual([]);
  });

  it('records the evidence it judged', async () => {
    const { evidence } = await run({ sign: true });
    expect(evidence).toEqual({
      dmarc: 'pass',
      dmarcPolicy: 'reject',
      spf: { result: 'pass', domain: 'corp.test' },
      dkim: [{ result: 'pass', domain: 'corp.test' }],
      headerFrom: 'alice@corp.test',
      source: 'verify',
    });
    const altered = await run({ sign: true, ip: EXTERNAL, alterBody: true });
    // mailauth reports a body-hash mismatch as `neutral` ("body hash did not verify"):
    // not a pass, so nothing aligns and DMARC fails.
    expect(altered.evidence).toMatchObject({ dmarc: 'fail', spf: { result: 'fail' }, dkim: [{ result: 'neutral', domain: 'corp.test' }] });
  });

  it('throws a retryable error when a DNS timeout may have caused the rejection', async () => {
    await expect(run({ ip: EXTERNAL }, {}, resolver({ timeout: /^_dmarc\./ }))).rejects.toBeInstanceOf(SenderAuthTemporaryError);
    await expect(run({ sign: true, ip: EXTERNAL }, {}, resolver({ timeout: /_domainkey/ }))).rejects.toThrow(/temporary DNS failure/);
  });

  it('does not retry when the mail is authenticated despite a DNS timeout', async () => {
    const { verdict, evidence } = await run({ sign: true }, {}, resolver({ timeout: /^_dmarc\./ }));
    expect(evidence.dmarc).toBe('temperror');
    expect(verdict).toEqual({ ok: true, via: 'aligned_dkim' });
  });
});

describe('checkSender, mode trusted-mta', () => {
  const OURS_NONE = 'Authentication-Results: mx.corp.test; dkim=none; spf=none smtp.mailfrom=corp.test; dmarc=none header.from=corp.test\r\n';
  const FORGED = 'Authentication-Results: evil.test; dkim=pass header.d=corp.test; dmarc=pass header.from=corp.test\r\n';
  it.each<[string, string, SenderVerdict]>([
    ['our A-R says pass', 'Authentication-Results: mx.corp.test; dkim=pass header.d=corp.test; dmarc=pass header.from=corp.test\r\n', { ok: true, via: 'dmarc' }],
    ['our A-R, aligned DKIM without DMARC', 'Authentication-Results: MX.corp.test 1; dkim=pass (ok) header.d=corp.test; dmarc=none\r\n', { ok: true, via: 'aligned_dkim' }],
    ['our A-R says dmarc=fail', 'Authentication-Results: mx.corp.test; spf=fail smtp.mailfrom=corp.test; dmarc=fail header.from=corp.test\r\n', { ok: false, reason: 'dmarc_fail' }],
    ['forged A-R above ours', FORGED + OURS_NONE, { ok: false, reason: 'unauthenticated' }],
    ['forged A-R below ours', OURS_NONE + FORGED, { ok: false, reason: 'unauthenticated' }],
    ['forged copy of our id below ours', OURS_NONE + FORGED.replace('evil.test', 'mx.corp.test'), { ok: false, reason: 'unauthenticated' }],
    ['only a foreign A-R', FORGED, { ok: false, reason: 'unauthenticated' }],
    ['no A-R at all', '', { ok: false, reason: 'unauthenticated' }],
    ['our A-R evaluated another From domain', 'Authentication-Results: mx.corp.test; dmarc=pass header.from=evil.test\r\n', { ok: false, reason: 'invalid_from' }],
  ])('%s', async (_name, headers, expected) => {
    const dns = resolver();
    const { verdict } = await run({ ip: EXTERNAL, extraHeaders: headers }, { mode: 'trusted-mta', authservId: 'mx.corp.test' }, dns);
    expect(verdict).toEqual(expected);
    expect(dns.queries).toEqual([]);
  });
});

describe('checkSender, mode none', () => {
  it.each<[string, Case, string[], SenderVerdict]>([
    ['unsigned from an org domain', { ip: EXTERNAL }, ['corp.test'], { ok: true, via: 'none' }],
    ['any domain when none are configured', { from: 'eve@evil.test' }, [], { ok: true, via: 'none' }],
    ['still only org domains when configured', { from: 'eve@evil.test' }, ['corp.test'], { ok: false, reason: 'not_org_domain' }],
    ['still a valid From', { from: '=?utf-8?b?YXR0YWNrZXJAZXZpbC5jb20=?=' }, [], { ok: false, reason: 'invalid_from' }],
  ])('%s', async (_name, c, orgDomains, expected) => {
    expect((await run(c, { mode: 'none', orgDomains })).verdict).toEqual(expected);
  });
});

describe('smtpClientFromReceived', () => {
  const postfix = (helo: string, addr: string) => `from ${helo} (unknown [${addr}]) by mx.corp.test (Postfix) with ESMTP id 4ABC for <s@example.test>; Wed, 25 Nov 2026 20:46:16 +0000`;
  const lmtp = 'from mx.corp.test ([127.0.0.1]) by mx.corp.test with LMTP id x (envelope-from <a@corp.test>) for <s@example.test>; Wed, 25 Nov 2026 20:46:16 +0000';
  it.each<[string, string[], string[], SmtpClient | null]>([
    ['Postfix, IPv4', [postfix('client.corp.test', '192.0.2.1')], [], { ip: '192.0.2.1', helo: 'client.corp.test' }],
    ['Postfix, IPv6', [postfix('client.corp.test', 'IPv6:2001:DB8::1')], [], { ip: '2001:db8::1', helo: 'client.corp.test' }],
    ['IPv4-mapped IPv6', [postfix('h.test', 'IPv6:::ffff:192.0.2.7')], [], { ip: '192.0.2.7', helo: 'h.test' }],
    ['rDNS name and TLS comment', ['from mail.corp.test (mail.corp.test [192.0.2.1]) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)) by mx (Postfix) with ESMTPS id 1; date'], [], { ip: '192.0.2.1', helo: 'mail.corp.test' }],
    ['Dovecot LMTP hop skipped', [lmtp, postfix('client.corp.test', '192.0.2.1')], [], { ip: '192.0.2.1', helo: 'client.corp.test' }],
    ['Dovecot LMTP hop over a UNIX socket skipped', ['from mx.corp.test by mx.corp.test with LMTP id x for <s@example.test>; date', postfix('c.test', '192.0.2.1')], [], { ip: '192.0.2.1', helo: 'c.test' }],
    ['"with LMTP" inside a comment is not an LMTP hop', ['from a.test (a.test [192.0.2.1]) (not with LMTP) by mx with ESMTP; date'], [], { ip: '192.0.2.1', helo: 'a.test' }],
    ['trusted relay skipped', [postfix('mx.corp.test', '10.0.0.5'), postfix('client.evil.test', '203.0.113.9')], ['10.0.0.5'], { ip: '203.0.113.9', helo: 'client.evil.test' }],
    ['untrusted topmost hop is used, forged lower ones ignored', [postfix('a.test', '203.0.113.9'), postfix('b.test', '127.0.0.1')], [], { ip: '203.0.113.9', helo: 'a.test' }],
    ['unparseable topmost hop stops the search', ['by mx.corp.test (Postfix, from userid 0) id 1; date', postfix('b.test', '127.0.0.1')], [], null],
    ['only trusted hops', [postfix('a.test', '10.0.0.5')], ['10.0.0.5'], null],
    ['no IP literal', ['from a.test (a.test) by mx with ESMTP; date'], [], null],
    ['not an IP', [postfix('a.test', '999.1.1.1')], [], null],
    ['no Received headers', [], [], null],
  ])('%s', (_name, received, relays, expected) => {
    expect(smtpClientFromReceived(received, relays)).toEqual(expected);
  });
});

describe('staticResolver', () => {
  const dns = staticResolver({ 'Corp.Test.': { TXT: ['x'.repeat(300)], A: ['192.0.2.1'] } });
  it.each<[string, string, unknown]>([
    ['corp.test', 'TXT', [['x'.repeat(255), 'x'.repeat(45)]]],
    ['CORP.test.', 'A', ['192.0.2.1']],
  ])('%s %s', async (name, type, expected) => {
    await expect(dns(name, type)).resolves.toEqual(expected);
  });
  it.each([
    ['corp.test', 'MX', 'ENODATA'],
    ['other.test', 'TXT', 'ENOTFOUND'],
  ])('%s %s -> %s', async (name, type, code) => {
    await expect(dns(name, type)).rejects.toMatchObject({ code });
  });
});

describe('checkSender, mode exchange-online', () => {
  /** Exchange Online's record of a colleague's submission, as it writes it into the mailbox copy. */
  const EXO_HEADERS =
    'Received: from PA4PR02MB6771.eurprd02.prod.outlook.com (2603:10a6:102:f1::9) by\r\n DB9PR02MB6604.eurprd02.prod.outlook.com with HTTPS; Wed, 25 Nov 2026 20:46:16 +0000\r\n' +
    'X-MS-Exchange-Organization-AuthSource: PA4PR02MB6771.eurprd02.prod.outlook.com\r\n' +
    'X-MS-Exchange-Organization-AuthAs: Internal\r\n' +
    'X-MS-Exchange-Organization-AuthMechanism: 04\r\n';
  const exo = (from = 'Alice <alice@corp.test>') =>
    Buffer.from(`${EXO_HEADERS}From: ${from}\r\nTo: bridge+status@corp.test\r\nSubject: hello\r\nDate: Wed, 25 Nov 2026 20:46:16 +0000\r\nMessage-ID: <m2@corp.test>\r\n\r\nHello.\r\n`);
  const judge = async (raw: Buffer, mode: SenderAuthOptions['mode']) => {
    const { mail } = await parseMail(raw);
    return (await checkSender(raw, mail, { mode, orgDomains: ['corp.test'], resolver: resolver() })).verdict;
  };

  it.each<[string, () => Promise<Buffer>, SenderAuthOptions['mode'], SenderVerdict]>([
    ["a colleague's unsigned mail inside the tenant", async () => exo(), 'exchange-online', { ok: true, via: 'internal_submission' }],
    ['the same mail judged by verify alone (nothing to check: the reason for the mode)', async () => exo(), 'verify', { ok: false, reason: 'dmarc_fail' }],
    ['an internal submission From a domain outside the organisation', async () => exo('Eve <eve@evil.test>'), 'exchange-online', { ok: false, reason: 'not_org_domain' }],
    [
      "Exchange's headers forged into mail that reached a mailbox on another server",
      async () => Buffer.concat([Buffer.from(delivered(EXTERNAL, 'alice@corp.test')), exo()]),
      'exchange-online',
      { ok: false, reason: 'dmarc_fail' },
    ],
    ['mail from the Internet into Exchange (AuthAs Anonymous) is verified', async () => Buffer.from(exo().toString().replace('AuthAs: Internal', 'AuthAs: Anonymous')), 'exchange-online', { ok: false, reason: 'dmarc_fail' }],
    ['a DKIM-signed mail from the Internet still passes by DMARC', async () => Buffer.from(`X-MS-Exchange-Organization-AuthAs: Anonymous\r\n${(await message({ sign: true, ip: EXTERNAL })).toString()}`), 'exchange-online', { ok: true, via: 'dmarc' }],
  ])('%s', async (_name, raw, mode, expected) => {
    expect(await judge(await raw(), mode)).toEqual(expected);
  });
});
