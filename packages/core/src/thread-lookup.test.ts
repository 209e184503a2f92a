import { describe, expect, it } from 'vitest';
import type { Addressing } from './addressing';
import type { Classification } from './classify';
import { addr, mailInput } from './test-support/mail-input';
import { childThreadIndex, newThreadIndex } from './thread-index';
import { answersNotice, threadLookups, type ThreadLookup } from './thread-lookup';
import type { MailInput } from './types';

const DOMAIN: Addressing = { mode: 'domain', domain: 'example.test' };
const mail = (over: Partial<MailInput>) =>
  mailInput({ subject: 'Release 2.0', from: addr('alice@corp.test'), to: [addr('status@example.test'), addr('bob@corp.test')], ...over });

const arrived = new Date('2026-11-20T12:00:00Z');
const fortnightBefore = new Date('2026-11-06T12:00:00Z');
const root = newThreadIndex(new Date('2026-11-01T10:00:00Z'), new Uint8Array(16).fill(7));
const reply = childThreadIndex(root, new Date('2026-11-01T11:00:00Z'))!;
const replyTo = (...parentIds: string[]): Classification => ({ kind: 'reply', parentIds });
const NEW: Classification = { kind: 'new_thread' };
const people = { sender: 'alice@corp.test', people: ['alice@corp.test', 'bob@corp.test'] };

describe('threadLookups', () => {
  it.each<[string, Partial<MailInput>, Classification, ThreadLookup[]]>([
    ['a new thread without reply marks: none', {}, NEW, []],
    ['a reply: its References, best first', {}, replyTo('b@x', 'a@x'), [{ via: 'references', messageIds: ['b@x', 'a@x'] }]],
    [
      'a reply with Re: in the subject: References, then the subject of the last 14 days',
      { subject: 'Re: Release 2.0' },
      replyTo('a@x'),
      [
        { via: 'references', messageIds: ['a@x'] },
        { via: 'subject', subjectKey: 'release 2.0', people, since: fortnightBefore },
      ],
    ],
    [
      'a client that dropped In-Reply-To (new thread by headers) with AW:: the subject only',
      { subject: 'AW: Release 2.0' },
      NEW,
      [{ via: 'subject', subjectKey: 'release 2.0', people, since: fortnightBefore }],
    ],
    ['Outlook Thread-Index of a reply: its root', { headers: { 'thread-index': [reply] } }, NEW, [{ via: 'thread_index', root }]],
    ['Thread-Index of a first mail: not a lookup', { headers: { 'thread-index': [root] } }, NEW, []],
    ['a malformed Thread-Index: not a lookup', { headers: { 'thread-index': ['not base64 !!'] } }, NEW, []],
    [
      'all three, in order',
      { subject: 'RE: Release 2.0', headers: { 'thread-index': [reply] } },
      replyTo('a@x'),
      [
        { via: 'references', messageIds: ['a@x'] },
        { via: 'thread_index', root },
        { via: 'subject', subjectKey: 'release 2.0', people, since: fortnightBefore },
      ],
    ],
    ['a bounce has no thread', { subject: 'Re: Release 2.0' }, { kind: 'bounce', reason: 'delivery_status' }, []],
    ['nor has list mail', { subject: 'Re: Release 2.0' }, { kind: 'mailing_list', listId: 'dev' }, []],
    ['nor has our own mail', { subject: 'Re: Release 2.0' }, { kind: 'own_mail', reason: 'origin_header' }, []],
  ])('%s', (_name, over, classification, expected) => {
    expect(threadLookups(mail(over), classification, arrived, DOMAIN)).toEqual(expected);
  });
});

describe('answersNotice', () => {
  it.each<[string, string[], boolean]>([
    ['not one of our mails', [], false],
    ['a mirrored ESN comment: part of the thread', ['mirror'], false],
    ['a notification or a correction: part of the thread', ['notification', 'correction'], false],
    ['a receipt', ['receipt'], true],
    ['a digest', ['digest'], true],
    ['an opt-in invitation', ['opt_in_invite'], true],
  ])('%s', (_name, kinds, expected) => {
    expect(answersNotice(kinds)).toBe(expected);
  });
});
