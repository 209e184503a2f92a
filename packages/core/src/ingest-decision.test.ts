import { describe, expect, it } from 'vitest';
import { decideIngest, type IngestFacts } from './ingest-decision';

const base: IngestFacts = {
  classification: { kind: 'new_thread' },
  route: { kind: 'status' },
  senderVerdict: { ok: true, via: 'dmarc' },
  sender: { id: 'p1', optIn: 'opted_in' },
  command: null,
  token: null,
  parentPostId: null,
  threadDeclined: false,
  groupExists: true,
  confidential: null,
  rate: { ok: true },
  externalParticipants: [],
  externalConfirmed: false,
  title: 'Quarterly plan',
  body: 'It is ready.',
  defaultGroup: 'general',
};
const facts = (over: Partial<IngestFacts>): IngestFacts => ({ ...base, ...over });

describe('decideIngest', () => {
  it.each<[string, Partial<IngestFacts>, ReturnType<typeof decideIngest>]>([
    ['new thread to status@', {}, { action: 'post', groupSlug: 'general', title: 'Quarterly plan', body: 'It is ready.' }],
    ['new thread to a group', { route: { kind: 'group', slug: 'sales' } }, { action: 'post', groupSlug: 'sales', title: 'Quarterly plan', body: 'It is ready.' }],
    ['reply in a mirrored thread', { classification: { kind: 'reply', parentIds: ['a'] }, parentPostId: 'post1' }, { action: 'comment', postId: 'post1', body: 'It is ready.' }],
    ['reply whose thread was never mirrored starts a post', { classification: { kind: 'reply', parentIds: ['a'] } }, { action: 'post', groupSlug: 'general', title: 'Quarterly plan', body: 'It is ready.' }],
    ['subject-only status', { body: '  ' }, { action: 'post', groupSlug: 'general', title: 'Quarterly plan', body: '' }],
    ['body-only mail takes its first line as title', { title: '' , body: '\nFirst line here\nsecond' }, { action: 'post', groupSlug: 'general', title: 'First line here', body: 'First line here\nsecond' }],
    ['nothing at all', { title: '', body: ' \n ' }, { action: 'reject', reason: 'empty_body' }],
    ['empty reply', { classification: { kind: 'reply', parentIds: ['a'] }, parentPostId: 'p', body: '' }, { action: 'reject', reason: 'empty_body' }],
    ['our own mail', { classification: { kind: 'own_mail', reason: 'origin_header' } }, { action: 'reject', reason: 'own_mail' }],
    ['a bounce', { classification: { kind: 'bounce', reason: 'delivery_status' } }, { action: 'reject', reason: 'bounce' }],
    ['an auto-reply', { classification: { kind: 'auto_generated', reason: 'auto_submitted' } }, { action: 'reject', reason: 'auto_generated' }],
    ['list traffic', { classification: { kind: 'mailing_list', listId: 'x' } }, { action: 'reject', reason: 'mailing_list' }],
    ['not addressed to the bridge', { route: null }, { action: 'reject', reason: 'not_addressed_to_bridge' }],
    ['a foreign route', { route: { kind: 'foreign' } }, { action: 'reject', reason: 'not_addressed_to_bridge' }],
    ['a VERP bounce address', { route: { kind: 'bounce', token: 'abcdefgh' } }, { action: 'reject', reason: 'bounce' }],
    ['a reply token nobody issued', { route: { kind: 'reply', token: 'abcdefgh' } }, { action: 'reject', reason: 'bad_token' }],
    ['a valid reply token', { route: { kind: 'reply', token: 'abcdefgh' }, token: { ok: true, postId: 'tp' } }, { action: 'comment', postId: 'tp', body: 'It is ready.' }],
    ['an expired/revoked/unknown token', { route: { kind: 'reply', token: 'abcdefgh' }, token: { ok: false, reason: 'bad_token' } }, { action: 'reject', reason: 'bad_token' }],
    ['a token used by someone else', { route: { kind: 'reply', token: 'abcdefgh' }, token: { ok: false, reason: 'sender_mismatch' } }, { action: 'reject', reason: 'sender_mismatch' }],
    ['a token whose owner is unauthenticated', { route: { kind: 'reply', token: 'abcdefgh' }, token: { ok: false, reason: 'unauthenticated' } }, { action: 'reject', reason: 'bad_token' }],
    ['a token of someone who opted out since', { route: { kind: 'reply', token: 'abcdefgh' }, token: { ok: false, reason: 'not_opted_in' } }, { action: 'withhold', reason: 'not_opted_in', threadPostId: null }],
    ['a reply token with an empty reply', { route: { kind: 'reply', token: 'abcdefgh' }, token: { ok: true, postId: 'tp' }, body: '' }, { action: 'reject', reason: 'empty_body' }],
    ['a spoofed sender failing DMARC', { senderVerdict: { ok: false, reason: 'dmarc_fail' } }, { action: 'reject', reason: 'dmarc_fail' }],
    ['a spoofed sender even with a valid token', { senderVerdict: { ok: false, reason: 'unauthenticated' }, route: { kind: 'reply', token: 'abcdefgh' }, token: { ok: true, postId: 'tp' } }, { action: 'reject', reason: 'unauthenticated' }],
    ['a look-alike domain', { senderVerdict: { ok: false, reason: 'not_org_domain' } }, { action: 'reject', reason: 'not_org_domain' }],
    ['an opt-in command from a stranger', { command: { kind: 'opt_in' }, sender: null }, { action: 'command', command: { kind: 'opt_in' } }],
    ['an encrypted mail', { confidential: { reason: 'encrypted' } }, { action: 'hold', reason: 'encrypted' }],
    ['a confidential mail from a stranger is held, not answered', { confidential: { reason: 'confidential_marker' }, sender: null }, { action: 'hold', reason: 'confidential_marker' }],
    ['a burst from one sender', { rate: { ok: false, reason: 'sender_rate' } }, { action: 'hold', reason: 'sender_rate' }],
    ['a new thread with outsiders on Cc', { externalParticipants: ['x@other.test'] }, { action: 'hold', reason: 'external_participants' }],
    ['a confirmed thread with outsiders', { externalParticipants: ['x@other.test'], externalConfirmed: true }, { action: 'post', groupSlug: 'general', title: 'Quarterly plan', body: 'It is ready.' }],
    ['outsiders on a reply in a mirrored thread do not hold it', { classification: { kind: 'reply', parentIds: ['a'] }, parentPostId: 'p', externalParticipants: ['x@other.test'] }, { action: 'comment', postId: 'p', body: 'It is ready.' }],
    ['a reply-all from someone not opted in is withheld against the thread', { classification: { kind: 'reply', parentIds: ['a'] }, parentPostId: 'p', sender: { id: 'q', optIn: 'pending' } }, { action: 'withhold', reason: 'not_opted_in', threadPostId: 'p' }],
    ['a reply from someone who withheld their replies in this thread', { classification: { kind: 'reply', parentIds: ['a'] }, parentPostId: 'p', threadDeclined: true }, { action: 'withhold', reason: 'participant_declined', threadPostId: 'p' }],
    ['the command address', { route: { kind: 'command' } }, { action: 'reject', reason: 'unknown_command' }],
    ['a group that does not exist', { route: { kind: 'group', slug: 'nope' }, groupExists: false }, { action: 'reject', reason: 'unknown_group' }],
    ['an unknown sender', { sender: null }, { action: 'withhold', reason: 'sender_unknown', threadPostId: null }],
    ['a sender who has not opted in', { sender: { id: 'p', optIn: 'pending' } }, { action: 'withhold', reason: 'not_opted_in', threadPostId: null }],
    ['a sender who opted out', { sender: { id: 'p', optIn: 'opted_out' } }, { action: 'withhold', reason: 'opted_out', threadPostId: null }],
    ['an auto-reply from an unknown sender is rejected, not answered', { sender: null, classification: { kind: 'auto_generated', reason: 'precedence' } }, { action: 'reject', reason: 'auto_generated' }],
  ])('%s', (_label, over, expected) => {
    expect(decideIngest(facts(over))).toEqual(expected);
  });
});
