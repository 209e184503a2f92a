import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HTTP, type CloudEventV1 } from 'cloudevents';
import { Webhook } from 'standardwebhooks';
import { discordPayload, EVENT_TYPES, teamsPayload, webhookRequest, type WebhookEvent } from '@blend/core';
import { discordProblems, teamsProblems } from './support/chat-formats';

// Teams and Discord payloads against their documented schema and limits, and the CloudEvents
// envelope with its Standard Webhooks signature, for every event type. Pure: no servers.
const alice = { id: 'a1', email: 'alice@corp.test', name: 'Alice <Ops> @everyone' };
const long = (n: number) => 'Words & <b>markup</b> **bold** @here '.repeat(Math.ceil(n / 36)).slice(0, n);
const post = { id: 'p1', title: long(400), url: 'https://blend.test/web/posts/p1' };
const thread = { id: 'p1', sequence: 3 };
const at = '2026-11-25T09:00:00.000Z';
const base = { id: '0b6f3c1e-8d2a-4c55-9f7e-2f1d9a6b3c10', occurred_at: at, thread, origin: 'email' as const };
const full = { ...post, group: { slug: 'general', name: 'General' }, body_text: long(10_000), body_html: '<p>…</p>', source: 'email' as const, author: alice, created_at: at };
const comment = { id: 'c1', body_text: long(7_000), body_html: '', source: 'email' as const, author: alice, created_at: at };

const samples: Record<(typeof EVENT_TYPES)[number], WebhookEvent> = {
  'post.created': { ...base, event: 'post.created', post: full },
  'post.updated': { ...base, event: 'post.updated', post: { ...full, edited_at: at } },
  'post.deleted': { ...base, event: 'post.deleted', post: { id: 'p1', title: '', url: null }, reason: 'retracted' },
  'post.merged': { ...base, event: 'post.merged', post, merged: { id: 'p2', title: 'Old', comment_id: 'c9', url: null } },
  'comment.created': { ...base, event: 'comment.created', post, comment },
  'comment.updated': { ...base, event: 'comment.updated', post, comment: { ...comment, edited_at: at } },
  'comment.deleted': { ...base, event: 'comment.deleted', post, comment: { id: 'c1' }, reason: 'erased' },
  'reaction.created': { ...base, event: 'reaction.created', post, reaction: { kind: 'like', person: alice } },
  'reaction.deleted': { ...base, event: 'reaction.deleted', post, reaction: { kind: 'like', person: alice } },
  'person.erased': { ...base, thread: null, event: 'person.erased', person: { id: 'a1' } },
};

describe('Teams (Adaptive Card)', () => {
  it.each(EVENT_TYPES)('%s is a valid card message', (type) => {
    expect(teamsProblems(teamsPayload(samples[type]))).toEqual([]);
  });

  it('shows title, author, excerpt, link and the "via email" marker', () => {
    const card = teamsPayload(samples['post.created']).attachments[0]!.content;
    const text = JSON.stringify(card.body);
    expect(card.body[0]).toMatchObject({ type: 'TextBlock', text: post.title, weight: 'Bolder' });
    expect(text).toContain('(by email)');
    expect(card.body).toContainEqual({ type: 'FactSet', facts: [{ title: 'Author', value: alice.name }, { title: 'Via', value: 'email' }] });
    expect((card.body[2] as { text: string }).text).toHaveLength(500);
    expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open in Blend', url: post.url }]);
  });

  it('tells edits and removals as a follow-up', () => {
    const headline = (e: WebhookEvent) => JSON.stringify(teamsPayload(e).attachments[0]!.content.body);
    expect(headline(samples['post.updated'])).toContain('edited: Alice');
    expect(headline(samples['comment.updated'])).toContain('edited: Alice');
    expect(headline(samples['post.deleted'])).toContain('A post was removed by the author');
    expect(headline(samples['comment.deleted'])).toContain("removed: its author's content was erased");
  });

  it('the schema can fail: an unknown element property or card version is refused', () => {
    const msg = teamsPayload(samples['post.created']);
    const bad = structuredClone(msg);
    (bad.attachments[0]!.content.body[0] as Record<string, unknown>).colour = 'Good';
    expect(teamsProblems(bad)).not.toEqual([]);
    expect(teamsProblems({ ...msg, attachments: [{ ...msg.attachments[0]!, content: { ...msg.attachments[0]!.content, version: '2.0' } }] })).not.toEqual([]);
  });
});

describe('Discord', () => {
  it.each(EVENT_TYPES)('%s keeps within the documented limits, mentions off', (type) => {
    expect(discordProblems(discordPayload(samples[type]))).toEqual([]);
  });

  it('puts the post in an embed and follow-ups in the content', () => {
    const m = discordPayload(samples['post.created']);
    expect(m.embeds).toHaveLength(1);
    expect(m.embeds[0]).toMatchObject({ title: expect.stringMatching(/…$/), url: post.url, author: { name: alice.name }, footer: { text: 'Blend · via email' }, timestamp: at });
    expect(m.embeds[0]!.title).toHaveLength(256);
    expect(discordPayload(samples['post.deleted'])).toEqual({ content: 'A post was removed by the author', embeds: [], allowed_mentions: { parse: [] } });
    expect(discordPayload(samples['comment.updated']).content).toMatch(/^edited: /);
  });

  it('the check can fail', () => {
    expect(discordProblems({ content: 'x'.repeat(2001), embeds: [], allowed_mentions: { parse: [] } })).not.toEqual([]);
    expect(discordProblems({ content: 'x', embeds: Array.from({ length: 11 }, () => ({})), allowed_mentions: { parse: [] } })).not.toEqual([]);
    expect(discordProblems({ content: 'x', embeds: [] })).toEqual(['mentions are not switched off']);
  });
});

describe('CloudEvents with a Standard Webhooks signature', () => {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;

  it.each(EVENT_TYPES)('%s is a CloudEvents 1.0 envelope the SDK reads back, signed so standardwebhooks verifies it', (type) => {
    const req = webhookRequest({ url: 'https://x.test/', format: 'cloudevents', secret }, { id: 'd1', payload: samples[type] }, new Date(), { source: 'https://blend.test' });
    expect(new Webhook(secret).verify(req.body, req.headers)).toMatchObject({ id: base.id, specversion: '1.0' });
    const ce = HTTP.toEvent({ headers: req.headers, body: req.body }) as CloudEventV1<WebhookEvent>;
    expect(ce).toMatchObject({ id: base.id, type: `blend.${type}`, source: 'https://blend.test', datacontenttype: 'application/json', time: at, blendorigin: 'email' });
    expect(ce.data).toEqual(samples[type]);
    expect(req.headers['webhook-id']).toBe(base.id);
    if (type !== 'person.erased') expect(ce).toMatchObject({ blendthread: 'p1', blendsequence: 3 });
  });

  it('a changed body, another key or an old timestamp fails verification', () => {
    const req = webhookRequest({ url: 'https://x.test/', format: 'cloudevents', secret }, { id: 'd1', payload: samples['post.created'] }, new Date());
    expect(() => new Webhook(secret).verify(req.body.replace('Alice', 'Mallory'), req.headers)).toThrow();
    expect(() => new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(req.body, req.headers)).toThrow();
    const old = webhookRequest({ url: 'https://x.test/', format: 'cloudevents', secret }, { id: 'd1', payload: samples['post.created'] }, new Date(Date.now() - 3_600_000));
    expect(() => new Webhook(secret).verify(old.body, old.headers)).toThrow();
  });
});
