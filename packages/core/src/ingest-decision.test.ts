import { describe, expect, it } from 'vitest';
import { decideIngest, type IngestFacts } from './ingest-decision';

const base: IngestFacts = {
  classification: { kind: 'new_thread' },
  route: { kind: 'status' },
  sender: { id: 'p1', optIn: 'opted_in' },
  parentPostId: null,
  groupExists: true,
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
    ['the command address', { route: { kind: 'command' } }, { action: 'reject', reason: 'unknown_command' }],
    ['a group that does not exist', { route: { kind: 'group', slug: 'nope' }, groupExists: false }, { action: 'reject', reason: 'unknown_group' }],
    ['an unknown sender', { sender: null }, { action: 'withhold', reason: 'sender_unknown' }],
    ['a sender who has not opted in', { sender: { id: 'p', optIn: 'pending' } }, { action: 'withhold', reason: 'not_opted_in' }],
    ['a sender who opted out', { sender: { id: 'p', optIn: 'opted_out' } }, { action: 'withhold', reason: 'opted_out' }],
    ['an auto-reply from an unknown sender is rejected, not answered', { sender: null, classification: { kind: 'auto_generated', reason: 'precedence' } }, { action: 'reject', reason: 'auto_generated' }],
  ])('%s', (_label, over, expected) => {
    expect(decideIngest(facts(over))).toEqual(expected);
  });
});
