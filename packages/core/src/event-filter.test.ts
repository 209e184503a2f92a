import { describe, expect, it } from 'vitest';
import { eventPassesFilter, type EventFacts, type WebhookFilter } from './event-filter';

const post = (over: Partial<EventFacts> = {}): EventFacts => ({ type: 'post.created', groupSlug: 'sales', origin: 'email', ...over });

describe('eventPassesFilter', () => {
  it.each<[string, string[], WebhookFilter | null, EventFacts, boolean]>([
    ['subscribed type, no filter', ['post.created'], null, post(), true],
    ['type not subscribed', ['comment.created'], {}, post(), false],
    ['group listed', ['post.created'], { groups: ['sales', 'ops'] }, post(), true],
    ['group not listed', ['post.created'], { groups: ['ops'] }, post(), false],
    ['empty group list means every group', ['post.created'], { groups: [] }, post(), true],
    ['origin matches', ['post.created'], { origin: 'email' }, post(), true],
    ['origin differs', ['post.created'], { origin: 'esn' }, post(), false],
    ['both must hold', ['post.created'], { groups: ['sales'], origin: 'esn' }, post(), false],
    ['an event of no group passes group and origin filters', ['person.erased'], { groups: ['ops'], origin: 'esn' }, post({ type: 'person.erased', groupSlug: null }), true],
    ['an event of no group still needs its type', ['post.created'], {}, post({ type: 'person.erased', groupSlug: null }), false],
    ['a private group goes to no hook', ['post.created'], {}, post({ groupPrivate: true }), false],
    ['not even one that names it', ['post.created'], { groups: ['sales'] }, post({ groupPrivate: true }), false],
  ])('%s', (_name, events, filter, facts, expected) => {
    expect(eventPassesFilter({ events, filter }, facts)).toBe(expected);
  });

  const reply = (via: string | null): EventFacts => ({ type: 'comment.created', groupSlug: 'sales', origin: 'esn', via });
  it.each<[string, string, string | null, boolean]>([
    ['a Slack reply is not echoed to a Slack-format hook', 'slack', 'slack', false],
    ['nor a Mattermost reply (Mattermost takes the Slack format)', 'slack', 'mattermost', false],
    ['nor a Rocket.Chat reply', 'slack', 'rocketchat', false],
    ['a reply through the generic endpoint reaches a Slack-format hook', 'slack', 'generic', true],
    ['a comment written in Blend reaches a Slack-format hook', 'slack', null, true],
    ['a Slack reply reaches a Teams hook', 'teams', 'slack', true],
    ['a Slack reply reaches a Discord hook', 'discord', 'slack', true],
    ['a Slack reply reaches a CloudEvents hook', 'cloudevents', 'slack', true],
    ['a Slack reply reaches a blend hook', 'blend', 'slack', true],
  ])('%s', (_name, format, via, expected) => {
    expect(eventPassesFilter({ events: ['comment.created'], filter: null, format }, reply(via))).toBe(expected);
  });
});
