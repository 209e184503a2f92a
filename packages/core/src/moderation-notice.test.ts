import { describe, expect, it } from 'vitest';
import { hiddenItemNotice } from './moderation-notice';

describe('hiddenItemNotice', () => {
  it.each([
    ['a post', { kind: 'post', title: 'Cheap watches', reason: 'Advertising', postUrl: 'https://b.test/web/posts/p' }, 'Your post was hidden by a moderator', ['Your post “Cheap watches” was hidden', 'Reason: Advertising', 'at https://b.test/web/posts/p.']],
    ['a comment', { kind: 'comment', title: 'Plan', reason: 'Rude', postUrl: null }, 'Your comment was hidden by a moderator', ['Your comment on “Plan” was hidden', 'Reason: Rude', 'marked as hidden.\n']],
    ['an untitled post', { kind: 'post', title: '', reason: 'x', postUrl: null }, 'Your post was hidden by a moderator', ['Your post was hidden by a moderator of']],
  ] as const)('%s', (_name, input, subject, parts) => {
    const n = hiddenItemNotice({ ...input, bridge: 'status@b.test' });
    expect(n.subject).toBe(subject);
    for (const part of parts) expect(n.text).toContain(part);
    expect(n.text).toContain('Mail "help" to status@b.test');
  });
});
