import { describe, expect, it } from 'vitest';
import { planActivityMail, type ActivityFacts, type Recipient } from './activity-mail';

const AT = new Date('2026-11-25T12:00:00Z');
const person = (id: string, over: Partial<Recipient> = {}): Recipient => ({
  id,
  optIn: 'opted_in',
  paused: false,
  notifyMentions: true,
  notifyReplies: true,
  timezone: 'UTC',
  quietStart: '22:00',
  quietEnd: '07:00',
  ...over,
});

const facts = (over: Partial<ActivityFacts> = {}): ActivityFacts => ({
  event: { kind: 'comment', authorId: 'esn-user', source: 'esn', at: AT },
  post: { authorId: 'alice', source: 'email' },
  emailParticipants: [person('alice'), person('bob')],
  mentioned: [],
  postAuthor: person('alice'),
  muted: new Set(),
  alreadyHave: new Set(),
  coalesceMs: 120_000,
  ...over,
});

const plan = (f: ActivityFacts) => planActivityMail(f).map((p) => `${p.personId}:${p.kind}@${p.dueAt.toISOString().slice(11, 16)}`);

describe('planActivityMail', () => {
  it.each<[string, Partial<ActivityFacts>, string[]]>([
    ['an ESN comment on an email thread is mirrored to its participants at once', {}, ['alice:mirror@12:00', 'bob:mirror@12:00']],
    ['never to the comment author', { event: { kind: 'comment', authorId: 'bob', source: 'esn', at: AT } }, ['alice:mirror@12:00']],
    ['never to someone opted out or not opted in', { emailParticipants: [person('alice', { optIn: 'opted_out' }), person('bob', { optIn: 'pending' })], postAuthor: null }, []],
    ['not to a paused or muted participant', { emailParticipants: [person('alice', { paused: true }), person('bob')], muted: new Set(['bob']), postAuthor: null }, []],
    ['an emailed reply-all reaches nobody again', { event: { kind: 'comment', authorId: 'bob', source: 'email', at: AT }, alreadyHave: new Set(['alice', 'bob']) }, []],
    [
      'an emailed reply that not everyone got (sent to a reply address) is mirrored to the others',
      { event: { kind: 'comment', authorId: 'bob', source: 'email', at: AT }, alreadyHave: new Set(['bob']) },
      ['alice:mirror@12:00'],
    ],
    [
      'an emailed comment on an ESN thread: the post author gets a reply notification after the window',
      { event: { kind: 'comment', authorId: 'bob', source: 'email', at: AT }, post: { authorId: 'alice', source: 'esn' }, emailParticipants: [] },
      ['alice:reply@12:02'],
    ],
    ['an ESN thread: no mirror, a reply notification', { post: { authorId: 'alice', source: 'esn' }, emailParticipants: [] }, ['alice:reply@12:02']],
    ['reply notifications can be turned off', { post: { authorId: 'alice', source: 'esn' }, emailParticipants: [], postAuthor: person('alice', { notifyReplies: false }) }, []],
    [
      'a mention of someone outside the conversation',
      { mentioned: [person('carol')], emailParticipants: [person('alice')] },
      ['alice:mirror@12:00', 'carol:mention@12:02'],
    ],
    ['a mentioned participant gets the mirror only', { mentioned: [person('bob')] }, ['alice:mirror@12:00', 'bob:mirror@12:00']],
    ['mention notifications can be turned off', { mentioned: [person('carol', { notifyMentions: false })], emailParticipants: [], post: { authorId: 'x', source: 'esn' }, postAuthor: null }, []],
    ['a mention in a post', { event: { kind: 'post', authorId: 'alice', source: 'esn', at: AT }, mentioned: [person('carol')], emailParticipants: [] }, ['carol:mention@12:02']],
    ['mentioning oneself mails nobody', { event: { kind: 'post', authorId: 'carol', source: 'esn', at: AT }, mentioned: [person('carol')], emailParticipants: [], postAuthor: null }, []],
    [
      'quiet hours in the person’s time zone hold a notification until they end',
      { post: { authorId: 'alice', source: 'esn' }, emailParticipants: [], postAuthor: person('alice', { timezone: 'Asia/Tokyo' }) },
      // 12:02 UTC is 21:02 in Tokyo: not quiet yet (22:00–07:00).
      ['alice:reply@12:02'],
    ],
    [
      'quiet hours: 13:30 UTC is 22:30 in Tokyo, held until 07:00 Tokyo (22:00 UTC)',
      { event: { kind: 'comment', authorId: 'bob', source: 'esn', at: new Date('2026-11-25T13:30:00Z') }, post: { authorId: 'alice', source: 'esn' }, emailParticipants: [], postAuthor: person('alice', { timezone: 'Asia/Tokyo' }) },
      ['alice:reply@22:00'],
    ],
  ])('%s', (_name, over, expected) => {
    expect(plan(facts(over))).toEqual(expected);
  });
});
