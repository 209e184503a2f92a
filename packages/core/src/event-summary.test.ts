import { describe, expect, it } from 'vitest';
import { cutText, summarizeEvent } from './event-summary';
import type { WebhookEvent } from './event-types';

const at = '2026-12-01T09:00:00.000Z';
const ann = { id: 'a', email: 'ann@corp.test', name: 'Ann' };
const noName = { id: 'b', email: 'bo@corp.test', name: '' };
const ref = { id: 'p', title: 'Plan', url: 'https://b.test/web/posts/p' };
const full = { ...ref, group: { slug: 'ops', name: 'Ops' }, body_text: 'Body', body_html: '', source: 'email' as const, author: ann, created_at: at };
const comment = { id: 'c', body_text: 'Yes', body_html: '', source: 'esn' as const, author: noName, created_at: at };

describe('summarizeEvent', () => {
  it.each<[string, WebhookEvent, { kind: string; headline: string; viaEmail?: boolean; url?: string | null; excerpt?: string | null }]>([
    ['a mailed post', { event: 'post.created', occurred_at: at, post: full }, { kind: 'content', headline: 'Ann posted “Plan” in #ops (by email)', viaEmail: true, url: ref.url, excerpt: 'Body' }],
    ['an edit', { event: 'post.updated', occurred_at: at, post: full }, { kind: 'follow-up', headline: "edited: Ann's post “Plan”" }],
    ['a retraction', { event: 'post.deleted', occurred_at: at, post: { id: 'p', title: '', url: null }, reason: 'retracted' }, { kind: 'follow-up', headline: 'A post was removed by the author', url: null, excerpt: null }],
    ['an un-mirroring', { event: 'post.deleted', occurred_at: at, post: { id: 'p', title: '', url: null }, reason: 'unmirrored' }, { kind: 'follow-up', headline: 'A post was removed by the person who shared it' }],
    ['a comment by someone without a name', { event: 'comment.created', occurred_at: at, post: ref, comment }, { kind: 'content', headline: 'bo@corp.test commented on “Plan”', viaEmail: false }],
    ['a comment edit', { event: 'comment.updated', occurred_at: at, post: ref, comment }, { kind: 'follow-up', headline: "edited: bo@corp.test's comment on “Plan”" }],
    ['an erased comment on an untitled thread', { event: 'comment.deleted', occurred_at: at, post: { ...ref, title: '' }, comment: { id: 'c' }, reason: 'erased' }, { kind: 'follow-up', headline: "A comment on a thread was removed: its author's content was erased" }],
    ['a like', { event: 'reaction.created', occurred_at: at, post: ref, reaction: { kind: 'like', person: ann } }, { kind: 'note', headline: 'Ann liked “Plan”' }],
    ['a like taken back', { event: 'reaction.deleted', occurred_at: at, post: ref, reaction: { kind: 'like', person: ann } }, { kind: 'note', headline: 'Ann no longer likes “Plan”' }],
    ['a merge', { event: 'post.merged', occurred_at: at, post: ref, merged: { id: 'q', title: 'Old', comment_id: 'c', url: null } }, { kind: 'note', headline: '“Old” is now part of the thread “Plan”' }],
    ['a hidden post', { event: 'post.deleted', occurred_at: at, post: { id: 'p', title: '', url: null }, reason: 'hidden' }, { kind: 'follow-up', headline: 'A post was hidden by a moderator', url: null, excerpt: null }],
    ['a hidden comment', { event: 'comment.deleted', occurred_at: at, post: ref, comment: { id: 'c' }, reason: 'hidden' }, { kind: 'follow-up', headline: 'A comment on “Plan” was hidden by a moderator' }],
    ['an erasure', { event: 'person.erased', occurred_at: at, person: { id: 'a' } }, { kind: 'note', headline: "A person's content was erased" }],
  ])('%s', (_name, event, expected) => {
    expect(summarizeEvent(event)).toMatchObject(expected);
  });

  it('cuts the excerpt with an ellipsis', () => {
    expect(summarizeEvent({ event: 'post.created', occurred_at: at, post: { ...full, body_text: 'x'.repeat(20) } }, 10).excerpt).toBe(`${'x'.repeat(9)}…`);
    expect(cutText('short', 10)).toBe('short');
  });
});
