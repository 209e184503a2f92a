import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readBounce, type BounceEvidence, type BounceInput } from './bounce-evidence';
import { issueBounceToken } from './bounce-token';
import type { Classification } from './classify';
import type { Route } from './route';
import type { MailInput } from './types';

const FIXTURES = new URL('../../../test/fixtures/mail/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES)).toString('latin1');

const ID = '6f1c2a4e-8b3d-4c5e-9a7f-0d1e2f3a4b5c';
const SECRET = 's'.repeat(32);
const OLD = 'o'.repeat(32);
const POSTFIX = fixture('postfix-dsn-unknown-user.eml');
const PLAIN_TEXT = 'From: MAILER-DAEMON@mx.corp.test\r\nContent-Type: text/plain\r\n\r\nStatus: 5.1.1\r\n';
const postfixHard = { hard: true, detail: 'Status: 5.1.1 smtp; 550 5.1.1 <gone@elsewhere.test>: Recipient address rejected: User unknown in virtual mailbox table' };

const mail = (returnPath: string | null): MailInput => ({
  messageId: 'dsn@mx.corp.test',
  inReplyTo: [],
  references: [],
  subject: 'Undelivered Mail Returned to Sender',
  from: { address: 'mailer-daemon@mx.corp.test', name: '' },
  to: [],
  cc: [],
  deliveredTo: [],
  date: null,
  headers: returnPath === null ? {} : { 'return-path': [returnPath] },
  text: null,
  html: null,
});

const BOUNCE: Classification = { kind: 'bounce', reason: 'delivery_status' };
const verp = (token: string): Route => ({ kind: 'bounce', token });
type Over = Omit<Partial<BounceInput>, 'source'> & { source?: string | (() => string) };
const input = (over: Over): BounceInput => {
  const source = over.source ?? POSTFIX;
  return { mail: mail('<>'), route: null, classification: BOUNCE, secrets: [SECRET], ...over, source: typeof source === 'string' ? () => source : source };
};

describe('readBounce', () => {
  it.each<[string, Over, BounceEvidence | null]>([
    ['a DSN to our VERP address names its outbox row', { route: verp(issueBounceToken(ID, SECRET)) }, { via: 'verp', outboundId: ID, ...postfixHard }],
    ['a token made under the previous secret still counts', { route: verp(issueBounceToken(ID, OLD)), secrets: [SECRET, OLD] }, { via: 'verp', outboundId: ID, ...postfixHard }],
    ['a token with a wrong MAC names nothing (and the returned message is not tried)', { route: verp(issueBounceToken(ID, OLD)) }, null],
    ['to the VERP address, but not sent with the null reverse-path', { route: verp(issueBounceToken(ID, SECRET)), mail: mail('<someone@corp.test>') }, null],
    ['to the VERP address, but a plain-text "bounce"', { route: verp(issueBounceToken(ID, SECRET)), source: PLAIN_TEXT }, null],
    ['without VERP: by the Message-ID of the returned message', {}, { via: 'returned', originalMessageId: 'blend.6f1c2a4e-8b3d-4c5e-9a7f-0d1e2f3a4b5c@example.test', ...postfixHard }],
    ['without VERP and without a Return-Path', { mail: mail(null) }, null],
    ['a read receipt returns the message but says nothing of its delivery', { classification: { kind: 'bounce', reason: 'disposition_notification' } }, null],
    ['mail that is not a bounce is not read as one', { classification: { kind: 'new_thread' } }, null],
    ['a status mail is not a bounce', { route: { kind: 'status' }, classification: { kind: 'new_thread' } }, null],
  ])('%s', (_name, over, expected) => {
    expect(readBounce(input(over))).toEqual(expected);
  });

  it('reads the source only for a mail that may be a bounce', () => {
    let reads = 0;
    readBounce(input({ classification: { kind: 'new_thread' }, source: () => (reads++, POSTFIX) }));
    expect(reads).toBe(0);
  });
});
