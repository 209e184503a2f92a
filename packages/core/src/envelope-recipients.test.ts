import { describe, expect, it } from 'vitest';
import { envelopeRecipients } from './envelope-recipients';

const EX = 'x-ms-exchange-organization-originalenveloperecipients';

describe('envelopeRecipients', () => {
  it.each<[string, Record<string, string[]>, string[]]>([
    ['none', {}, []],
    ['Postfix/Dovecot: Delivered-To', { 'delivered-to': ['status@example.test'] }, ['status@example.test']],
    ['angle brackets and case', { 'delivered-to': ['<Reply+ABCDEFGH@Example.TEST>'] }, ['reply+abcdefgh@example.test']],
    // Postfix virtual alias catch-all into a mailbox at the same domain: the original comes first.
    ['X-Original-To before Delivered-To', { 'delivered-to': ['bridge@example.test'], 'x-original-to': ['team@example.test'] }, ['team@example.test', 'bridge@example.test']],
    // Gmail: one Delivered-To per delivery hop, newest first.
    ['Gmail, two hops', { 'delivered-to': ['bridge-inbox@corp.test', 'reply+abcdefgh@example.test'] }, ['bridge-inbox@corp.test', 'reply+abcdefgh@example.test']],
    ['Workspace routing: X-Gm-Original-To', { 'delivered-to': ['bridge-inbox@corp.test'], 'x-gm-original-to': ['team@example.test'] }, ['team@example.test', 'bridge-inbox@corp.test']],
    // Exchange: no Delivered-To, the envelope only in its organisation header.
    ['Exchange, one recipient', { [EX]: ['team@example.test'] }, ['team@example.test']],
    ['Exchange, several, ";" and ","', { [EX]: ['status@example.test; team@example.test, bob@corp.test'] }, ['status@example.test', 'team@example.test', 'bob@corp.test']],
    ['Exchange, Q-encoded with a leading ";"', { [EX]: ['=?us-ascii?Q?;status@example.test?='] }, ['status@example.test']],
    ['Exchange, B-encoded', { [EX]: [`=?utf-8?B?${Buffer.from('team@example.test').toString('base64')}?=`] }, ['team@example.test']],
    ['Exchange, SMTP: proxy prefix', { [EX]: ['SMTP:Team@Example.test'] }, ['team@example.test']],
    // A mailbox that is not on Exchange has no header firewall: there the header may be the sender's.
    ['Exchange header ignored beside a Delivered-To', { 'delivered-to': ['status@example.test'], [EX]: ['bounce+0123456789abcdef0123456789abcdef@example.test'] }, ['status@example.test']],
    ['duplicates once', { 'delivered-to': ['status@example.test'], 'x-original-to': ['Status@example.test'] }, ['status@example.test']],
    ['not an address', { 'delivered-to': ['undisclosed-recipients:;', 'a@b@c'] }, []],
    // Only ASCII is lower-cased: U+212A KELVIN SIGN must not become "k".
    ['look-alike kept as is', { 'delivered-to': ['status@example.\u212Aest'] }, ['status@example.\u212Aest']],
  ])('%s', (_what, headers, expected) => {
    expect(envelopeRecipients(headers)).toEqual(expected);
  });
});
