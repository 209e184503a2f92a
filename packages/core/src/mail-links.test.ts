import { describe, expect, it } from 'vitest';
import { findPostLink } from './chat-inbound';
import { actionLink, postLink, preferencesLink } from './mail-links';

const ID = '0b9c2f4e-6a1d-4c3b-9e8f-7a6b5c4d3e2f';

describe('mail links', () => {
  it.each<[string, string, string]>([
    ['post', postLink('https://blend.corp.test', ID), `https://blend.corp.test/web/posts/${ID}`],
    ['post, base with a trailing slash', postLink('https://blend.corp.test/', ID), `https://blend.corp.test/web/posts/${ID}`],
    ['post, base under a path', postLink('https://corp.test/blend', ID), `https://corp.test/blend/web/posts/${ID}`],
    ['preferences', preferencesLink('https://blend.corp.test//'), 'https://blend.corp.test/web/preferences'],
    ['action, token escaped', actionLink('https://blend.corp.test', '/links/unsubscribe', 'a+b/c='), 'https://blend.corp.test/links/unsubscribe?t=a%2Bb%2Fc%3D'],
  ])('%s', (_name, got, expected) => {
    expect(got).toBe(expected);
  });

  it('makes the link a chat message is recognised by', () => {
    expect(findPostLink(`see ${postLink('https://blend.corp.test', ID)} please`, 'https://blend.corp.test')).toBe(ID);
  });
});
