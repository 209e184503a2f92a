import { describe, expect, it } from 'vitest';
import { trustedResults } from './auth-results';
import { hostMatches, organisationEntry, receivedByHost, receivedByPatternProblem, receivedFromHost } from './received-path';
import type { MailInput } from './types';

/** A header block as a mail holds it (topmost first, folded lines allowed) → MailInput fields. */
function fieldsOf(block: string): [string, string][] {
  return block
    .trim()
    .replace(/\n[ \t]+/g, ' ')
    .split('\n')
    .map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
    });
}

function mailWith(block: string): MailInput {
  const headerFields = fieldsOf(block);
  const headers: Record<string, string[]> = {};
  for (const [name, value] of headerFields) (headers[name] ??= []).push(value);
  return { messageId: null, inReplyTo: [], references: [], subject: '', from: null, to: [], cc: [], deliveredTo: [], date: null, headers, headerFields, text: null, html: null };
}

describe('receivedByHost', () => {
  it.each([
    ['from a.example (a.example [192.0.2.1]) by mx.corp.example (Postfix) with ESMTPS id 1', 'mx.corp.example'],
    ['from x (2603:10a6::9) by LO0P123MB5470.GBRP123.PROD.OUTLOOK.COM (2603:10a6::9) with HTTPS', 'lo0p123mb5470.gbrp123.prod.outlook.com'],
    ['from a (helo (by fake.host)) by mx.corp.example. with SMTP', 'mx.corp.example'],
    ['by mailbox.corp.example with LMTP id abc', 'mailbox.corp.example'],
    ['from a.example with SMTP', null],
  ])('%s', (value, host) => expect(receivedByHost(value)).toBe(host));
});

describe('receivedFromHost', () => {
  it.each([
    ['from helo.example (mail.sender.example [198.51.100.7]) by mx.corp.example (Postfix)', 'mail.sender.example'],
    ['from mx.corp.example (unknown [203.0.113.9]) by mx.corp.example (Postfix)', null],
    ['from mail.corp.example (198.51.100.7) by AM6PEPF00001.eurprd01.prod.protection.outlook.com', 'mail.corp.example'],
    ['from vm ([127.0.0.1]) by vm with LMTP id x', 'vm'],
    ['from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41]) by mx.google.com', 'mail-sor-f41.google.com'],
    ['by mx.corp.example with LMTP', null],
  ])('%s', (value, host) => expect(receivedFromHost(value)).toBe(host));
});

describe('hostMatches and receivedByPatternProblem', () => {
  it.each<[string, string, boolean]>([
    ['mx.corp.example', 'mx.corp.example', true],
    ['MX.Corp.Example.', 'mx.corp.example', true],
    ['mx2.corp.example', 'mx.corp.example', false],
    ['am6p194ca0001.eurp194.prod.outlook.com', '*.prod.outlook.com', true],
    ['a.b.prod.outlook.com', '*.prod.outlook.com', true],
    ['prod.outlook.com', '*.prod.outlook.com', false],
    ['evilprod.outlook.com', '*.prod.outlook.com', false],
    ['prod.outlook.com.evil.test', '*.prod.outlook.com', false],
  ])('%s against %s: %s', (host, pattern, match) => expect(hostMatches(host, pattern)).toBe(match));

  it.each<[string, boolean]>([
    ['mx.example.com', true],
    ['*.prod.outlook.com', true],
    ['localhost', true],
    ['*.com', false],
    ['*', false],
    ['mx.*.example.com', false],
    ['mx example.com', false],
    ['-mx.example.com', false],
  ])('%s is valid: %s', (pattern, valid) => expect(receivedByPatternProblem(pattern) === null).toBe(valid));
});

// Header layouts as the systems write them (values shortened; structure as in real mail).
const POSTFIX_TWO_HOPS = `
Received: from relay.corp.example (relay.corp.example [10.0.0.2]) by mailbox.corp.example (Postfix) with ESMTP id 7F1
Authentication-Results: mx.corp.example; dkim=pass header.d=corp.example; dmarc=pass header.from=corp.example
Received: from mx.corp.example (mx.corp.example [10.0.0.1]) by relay.corp.example (Postfix) with ESMTP id 6E0
Received: from mail.sender.example (mail.sender.example [198.51.100.7]) by mx.corp.example (Postfix) with ESMTPS id 5D9
From: Alice <alice@corp.example>
Subject: hello
`;
const FORGED_BELOW_ENTRY = `
Received: from mx.corp.example by mailbox.corp.example with LMTP id 9A2
Received: from attacker.example (attacker.example [203.0.113.9]) by mx.corp.example (Postfix) with ESMTP id 8B1
Authentication-Results: mx.corp.example; dmarc=pass header.from=corp.example
From: Boss <boss@corp.example>
`;
// A client talking straight to the MX, with a Received header naming the MX (and a stamp above
// it) forged under the real one. Its HELO claims to be the MX; Postfix could not verify a name.
const FORGED_RECEIVED_UNDER_ENTRY = `
Received: from mx.corp.example by mailbox.corp.example with LMTP id 9A2
Received: from mx.corp.example (unknown [203.0.113.9]) by mx.corp.example (Postfix) with ESMTP id 8B1
Authentication-Results: mx.corp.example; dmarc=pass header.from=corp.example
Received: from mail.corp.example (mail.corp.example [10.0.0.5]) by mx.corp.example (Postfix) with ESMTP id 1A1
From: Boss <boss@corp.example>
`;
const EXCHANGE_ONLINE = `
Received: from AM0PR01MB1234.eurprd01.prod.outlook.com (2603:10a6::1) by DB9PR01MB5678.eurprd01.prod.outlook.com with HTTPS
Authentication-Results: protection.outlook.com; spf=pass smtp.mailfrom=corp.example; dmarc=pass action=none header.from=corp.example
Received-SPF: Pass (protection.outlook.com: domain of corp.example designates 198.51.100.7 as permitted sender)
Received: from mail.corp.example (198.51.100.7) by AM6PEPF00001.eurprd01.prod.protection.outlook.com (10.167.16.1) with Microsoft SMTP Server
Authentication-Results-Original: mail.corp.example; dmarc=pass
From: Alice <alice@corp.example>
`;
const GMAIL = `
Received: by 2002:a05:6358:1234:b0:1a2:3b4c with SMTP id abc;
Return-Path: <alice@corp.example>
Received: from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41]) by mx.google.com with SMTPS id x1
Received-SPF: pass (google.com: domain of alice@corp.example designates 209.85.220.41 as permitted sender)
Authentication-Results: mx.google.com; dkim=pass header.i=@corp.example; spf=pass; dmarc=pass (p=REJECT) header.from=corp.example
From: Alice <alice@corp.example>
`;

describe('trustedResults with BLEND_TRUSTED_RECEIVED_BY', () => {
  const dmarc = (r: ReturnType<typeof trustedResults>) => r?.results.find((x) => x.method === 'dmarc')?.result ?? null;

  it.each<[string, string, string, string[], string | null]>([
    ['Postfix: stamped on an inner hop, above the entry', POSTFIX_TWO_HOPS, 'mx.corp.example', ['mx.corp.example', 'relay.corp.example', 'mailbox.corp.example'], 'pass'],
    ['Postfix: the same with a wildcard', POSTFIX_TWO_HOPS, 'mx.corp.example', ['*.corp.example'], 'pass'],
    ['a sender-written header below the entry hop is not believed', FORGED_BELOW_ENTRY, 'mx.corp.example', ['*.corp.example'], null],
    ['without the setting that forged header is believed (why the setting exists)', FORGED_BELOW_ENTRY, 'mx.corp.example', [], 'pass'],
    ['a forged Received naming the MX under the real entry does not move the entry', FORGED_RECEIVED_UNDER_ENTRY, 'mx.corp.example', ['*.corp.example'], null],
    ['Exchange Online: the stamp above the entry hop counts', EXCHANGE_ONLINE, 'protection.outlook.com', ['*.prod.outlook.com', '*.protection.outlook.com'], 'pass'],
    ['a mail that never passed the organisation MTAs: nothing counts', POSTFIX_TWO_HOPS, 'mx.corp.example', ['mx.other.example'], null],
    ['Gmail writes its header below its own Received: not believed by position', GMAIL, 'mx.google.com', ['mx.google.com'], null],
  ])('%s', (_name, block, authservId, trusted, expected) => {
    expect(dmarc(trustedResults(mailWith(block), authservId, trusted))).toBe(expected);
  });

  it('finds the lowest matching Received header as the entry', () => {
    const fields = fieldsOf(POSTFIX_TWO_HOPS);
    expect(organisationEntry(fields, ['*.corp.example'])).toBe(3);
    expect(organisationEntry(fields, ['mailbox.corp.example'])).toBe(0);
    expect(organisationEntry(fields, ['nowhere.example'])).toBe(-1);
  });

  it('trusts nothing in a hand-built input that has no header order', () => {
    const m = mailWith(POSTFIX_TWO_HOPS);
    delete (m as { headerFields?: unknown }).headerFields;
    expect(trustedResults(m, 'mx.corp.example', ['*.corp.example'])).toBeNull();
  });
});
