import { describe, expect, it } from 'vitest';
import type { Addressing } from './addressing';
import { splitParticipants, type Participants } from './participants';
import { addr, mailInput } from './test-support/mail-input';
import type { MailInput } from './types';

const DOMAIN: Addressing = { mode: 'domain', domain: 'example.test' };
const PLUS: Addressing = { mode: 'plus', mailbox: 'bridge', domain: 'corp.test' };
const mail = (over: Partial<MailInput>) => mailInput({ from: addr('alice@corp.test'), ...over });

describe('splitParticipants', () => {
  it.each<[string, Addressing, string[], Partial<MailInput>, Participants]>([
    [
      'Blend is nobody; colleagues are the organisation; the sender is neither',
      DOMAIN,
      ['corp.test'],
      { to: [addr('status@example.test'), addr('bob@corp.test')], cc: [addr('alice@corp.test')] },
      { conversation: ['alice@corp.test', 'bob@corp.test', 'alice@corp.test'], external: [], organisation: ['bob@corp.test'] },
    ],
    [
      'outsiders once each; subdomains of an organisation domain count as it',
      DOMAIN,
      ['corp.test'],
      { to: [addr('status@example.test'), addr('carol@partner.test')], cc: [addr('carol@partner.test'), addr('dan@eu.corp.test')] },
      {
        conversation: ['alice@corp.test', 'carol@partner.test', 'carol@partner.test', 'dan@eu.corp.test'],
        external: ['carol@partner.test'],
        organisation: ['dan@eu.corp.test'],
      },
    ],
    [
      'plus mode: the bridge mailbox and its sub-addresses are Blend, other staff are not',
      PLUS,
      ['corp.test'],
      { to: [addr('bridge+status@corp.test'), addr('bridge@corp.test'), addr('bob@corp.test')] },
      { conversation: ['alice@corp.test', 'bob@corp.test'], external: [], organisation: ['bob@corp.test'] },
    ],
    [
      'no organisation domains: every recipient is outside',
      DOMAIN,
      [],
      { to: [addr('status@example.test'), addr('bob@corp.test')] },
      { conversation: ['alice@corp.test', 'bob@corp.test'], external: ['bob@corp.test'], organisation: [] },
    ],
    [
      'no From: the conversation is the recipients',
      DOMAIN,
      ['corp.test'],
      { from: null, to: [addr('bob@corp.test')] },
      { conversation: ['bob@corp.test'], external: [], organisation: ['bob@corp.test'] },
    ],
  ])('%s', (_name, addressing, orgDomains, over, expected) => {
    expect(splitParticipants(mail(over), addressing, orgDomains)).toEqual(expected);
  });
});
