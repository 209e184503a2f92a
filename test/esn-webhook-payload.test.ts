import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signatureHeader, signWebhook, slackPayload, verifyWebhookSignature, webhookRequest, type WebhookEvent } from '@blend/core';

// The pure webhook functions the delivery job uses.
const alice = { id: 'a1', email: 'alice@corp.test', name: 'Alice <Ops>' };
const post = { id: 'p1', title: 'Launch | <today>', url: 'https://blend.test/web/posts/p1' };
const events = {
  'post.created': {
    event: 'post.created',
    occurred_at: '2026-11-25T09:00:00.000Z',
    post: { ...post, group: { slug: 'general', name: 'General' }, body_text: 'We ship & celebrate <b>', body_html: '<p>…</p>', source: 'email', author: alice, created_at: '2026-11-25T09:00:00.000Z' },
  },
  'comment.created': {
    event: 'comment.created',
    occurred_at: '2026-11-25T09:00:00.000Z',
    post: { ...post, url: null },
    comment: { id: 'c1', body_text: 'x'.repeat(600), body_html: '', source: 'esn', author: alice, created_at: '2026-11-25T09:00:00.000Z' },
  },
  'reaction.created': { event: 'reaction.created', occurred_at: '2026-11-25T09:00:00.000Z', post, reaction: { kind: 'like', person: { ...alice, name: '' } } },
  'post.merged': {
    event: 'post.merged',
    occurred_at: '2026-11-25T09:00:00.000Z',
    post,
    merged: { id: 'p2', title: 'Launch <b>', comment_id: 'c2', url: 'https://blend.test/web/posts/p2' },
  },
} satisfies Partial<Record<WebhookEvent['event'], WebhookEvent>>;

describe('signWebhook', () => {
  it('is the hex HMAC-SHA256 of "timestamp.body"', () => {
    const expected = createHmac('sha256', 'k').update('1700000000.{"a":1}').digest('hex');
    expect(signWebhook('k', 1700000000, '{"a":1}')).toBe(expected);
    expect(signatureHeader('k', 1700000000, '{"a":1}')).toBe(`t=1700000000,v1=${expected}`);
  });

  it('verifies, and refuses tampering, other keys, stale timestamps and junk', () => {
    const h = signatureHeader('k', 1000, 'body');
    expect(verifyWebhookSignature('k', h, 'body', 1100)).toBe(true);
    expect(verifyWebhookSignature('k', h, 'body!', 1100)).toBe(false);
    expect(verifyWebhookSignature('j', h, 'body', 1100)).toBe(false);
    expect(verifyWebhookSignature('k', h, 'body', 1000 + 301)).toBe(false);
    expect(verifyWebhookSignature('k', 'v1=abc', 'body', 1000)).toBe(false);
  });
});

describe('slackPayload', () => {
  it('announces a post with a link and an escaped excerpt', () => {
    expect(slackPayload(events['post.created'])).toEqual({
      text: 'Alice &lt;Ops&gt; posted <https://blend.test/web/posts/p1|Launch ¦ &lt;today&gt;> in #general (by email)',
      attachments: [{ fallback: 'We ship &amp; celebrate &lt;b&gt;', text: 'We ship &amp; celebrate &lt;b&gt;', footer: 'Blend', ts: 1795597200, title: 'Launch | &lt;today&gt;', title_link: 'https://blend.test/web/posts/p1' }],
    });
  });

  it('cuts long comments and quotes the title when there is no link', () => {
    const m = slackPayload(events['comment.created']);
    expect(m.text).toBe('Alice &lt;Ops&gt; commented on “Launch | &lt;today&gt;”');
    expect(m.attachments![0]!.text).toHaveLength(500);
  });

  it('says which post joined which thread', () => {
    expect(slackPayload(events['post.merged'])).toEqual({ text: '“Launch &lt;b&gt;” is now part of the thread <https://blend.test/web/posts/p1|Launch ¦ &lt;today&gt;>' });
  });

  it('names a person without a name by address', () => {
    expect(slackPayload(events['reaction.created'])).toEqual({ text: 'alice@corp.test liked <https://blend.test/web/posts/p1|Launch ¦ &lt;today&gt;>' });
  });
});

describe('webhookRequest', () => {
  it('signs exactly the body it sends, in either format', () => {
    const now = new Date('2026-11-25T09:00:05Z');
    for (const format of ['blend', 'slack']) {
      const r = webhookRequest({ url: 'https://x.test/h', format, secret: 'k' }, { id: 'd1', payload: events['post.created'] }, now);
      expect(r.headers['x-blend-signature']).toBe(signatureHeader('k', 1795597205, r.body));
      expect(r.headers).toMatchObject({ 'content-type': 'application/json', 'x-blend-event': 'post.created', 'x-blend-delivery': 'd1' });
      expect(JSON.parse(r.body)).toHaveProperty(format === 'slack' ? 'text' : 'post');
    }
  });

  it('refuses a payload that is not an event', () => {
    expect(() => webhookRequest({ url: 'https://x.test/h', format: 'blend', secret: 'k' }, { id: 'd1', payload: { event: 'post.created' } }, new Date())).toThrow(/not an event/);
  });
});
