import { describe, expect, it } from 'vitest';
import {
  findPostLink,
  inboundSignature,
  judgeChatAuthor,
  parseThreadRef,
  readSlackMessage,
  replyText,
  slackSignature,
  slackToPlainText,
  tokenAllowed,
  verifyInboundRequest,
  verifySlackRequest,
} from './chat-inbound';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const NOW = 1_800_000_000;
const BODY = Buffer.from('{"type":"event_callback","event_id":"Ev1"}');
const URL = 'https://blend.example.com';
const ID = '0d3c5a0e-8f0b-4f7e-9a51-3b1c2d4e5f60';

describe('verifySlackRequest', () => {
  const ts = String(NOW);
  const good = slackSignature(SECRET, ts, BODY);
  it.each([
    ['a good signature', ts, good, BODY, NOW, 'ok'],
    ['a good signature 4 minutes old', ts, good, BODY, NOW + 240, 'ok'],
    ['a good signature 6 minutes old (replay)', ts, good, BODY, NOW + 360, 'stale'],
    ['a timestamp 6 minutes ahead', ts, good, BODY, NOW - 360, 'stale'],
    ['another body', ts, good, Buffer.from(`${BODY} `), NOW, 'bad_signature'],
    ['another timestamp', String(NOW + 1), good, BODY, NOW, 'bad_signature'],
    ['another secret', ts, slackSignature(`${SECRET}x`, ts, BODY), BODY, NOW, 'bad_signature'],
    ['no v0= prefix', ts, good.slice(3), BODY, NOW, 'bad_signature'],
    ['a short signature', ts, 'v0=abcd', BODY, NOW, 'bad_signature'],
    ['a timestamp that is not a number', 'soon', good, BODY, NOW, 'bad_signature'],
    ['no signature', ts, undefined, BODY, NOW, 'missing'],
    ['no timestamp', undefined, good, BODY, NOW, 'missing'],
  ] as const)('%s → %s', (_what, t, sig, body, now, expected) => {
    expect(verifySlackRequest(SECRET, t, sig, body, now)).toBe(expected);
  });

  it('matches Slack’s documented example', () => {
    // The worked example of Slack's "Verifying requests from Slack" page.
    const body = 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(slackSignature('8f742231b10e8888abcd99yyyzzz85a5', '1531420618', body)).toBe('v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503');
  });
});

describe('verifyInboundRequest', () => {
  const ts = String(NOW);
  const good = inboundSignature(SECRET, ts, BODY);
  it.each([
    ['a good signature', ts, good, NOW, 'ok'],
    ['a replay after 5 minutes', ts, good, NOW + 301, 'stale'],
    ['the Slack scheme instead', ts, slackSignature(SECRET, ts, BODY), NOW, 'bad_signature'],
    ['upper-case hex', ts, good.toUpperCase(), NOW, 'bad_signature'],
    ['no headers', undefined, undefined, NOW, 'missing'],
  ] as const)('%s → %s', (_what, t, sig, now, expected) => {
    expect(verifyInboundRequest(SECRET, t, sig, BODY, now)).toBe(expected);
  });
});

describe('tokenAllowed', () => {
  it.each([
    [['aaaaaaaaaaaaaaaaaaaaaaaaaa'], 'aaaaaaaaaaaaaaaaaaaaaaaaaa', true],
    [['first-token-0000000', 'second-token-000000'], 'second-token-000000', true],
    [['aaaaaaaaaaaaaaaaaaaaaaaaaa'], 'aaaaaaaaaaaaaaaaaaaaaaaaab', false],
    [['aaaaaaaaaaaaaaaaaaaaaaaaaa'], '', false],
    [['aaaaaaaaaaaaaaaaaaaaaaaaaa'], undefined, false],
    [[], 'anything', false],
  ])('%j accepts %j: %s', (allowed, given, expected) => {
    expect(tokenAllowed(allowed, given)).toBe(expected);
  });
});

describe('thread references', () => {
  it.each([
    [ID, ID],
    [ID.toUpperCase(), ID],
    [`${URL}/web/posts/${ID}`, ID],
    [`${URL}/web/posts/${ID}?x=1`, ID],
    [`${URL}/api/v1/posts/${ID}`, ID],
    [`https://evil.example/web/posts/${ID}`, undefined],
    [`${URL}/web/posts/${ID}extra`, undefined],
    ['42', undefined],
  ])('%s → %s', (ref, expected) => {
    expect(parseThreadRef(ref, URL)).toBe(expected);
  });

  it.each([
    [`Alice posted <${URL}/web/posts/${ID}|Roadmap> in #general`, ID],
    [`see ${URL}/web/posts/${ID}.`, ID],
    [`see https://blend.example.com.evil.test/web/posts/${ID}`, undefined],
    ['no link here', undefined],
  ])('finds the link in %j', (text, expected) => {
    expect(findPostLink(text, URL)).toBe(expected);
    expect(findPostLink(text, undefined)).toBeUndefined();
  });
});

describe('message text', () => {
  it.each([
    ['Fine by me &amp; Bob &lt;3', 'Fine by me & Bob <3'],
    ['ask <@U024BE7LH>', 'ask @U024BE7LH'],
    ['ask <@U024BE7LH|bob>', 'ask @bob'],
    ['in <#C024BE7LR|general>', 'in #general'],
    ['<!here> look', '@here look'],
    ['see <https://example.com|the doc>', 'see the doc (https://example.com)'],
    ['see <https://example.com>', 'see https://example.com'],
  ])('slack %j → %j', (text, expected) => {
    expect(slackToPlainText(text)).toBe(expected);
  });

  it.each([
    [`${URL}/web/posts/${ID} Agreed, ship it`, undefined, 'Agreed, ship it'],
    [`blend ${URL}/web/posts/${ID}\nAgreed`, 'blend', 'Agreed'],
    [`Agreed <${URL}/web/posts/${ID}|Roadmap>`, undefined, 'Agreed'],
  ])('reply %j without its thread link', (text, trigger, expected) => {
    expect(replyText(text, URL, trigger)).toBe(expected);
  });
});

describe('readSlackMessage', () => {
  const reply = { type: 'message', channel: 'C1', user: 'U1', text: 'Agreed', ts: '1700000001.000200', thread_ts: '1700000000.000100' };
  it.each([
    ['a reply in a thread', reply, { kind: 'reply', space: 'T1/C1', threadId: '1700000000.000100', messageTs: '1700000001.000200', user: 'U1', text: 'Agreed' }],
    ['a reply also sent to the channel', { ...reply, subtype: 'thread_broadcast' }, { kind: 'reply' }],
    ['a message outside threads', { ...reply, thread_ts: undefined }, { kind: 'ignore', reason: 'not_in_thread' }],
    ['the thread parent itself', { ...reply, thread_ts: reply.ts }, { kind: 'ignore', reason: 'not_in_thread' }],
    ['an edit', { ...reply, subtype: 'message_changed' }, { kind: 'ignore', reason: 'edit_or_system' }],
    ['a join', { ...reply, subtype: 'channel_join' }, { kind: 'ignore', reason: 'edit_or_system' }],
    ['an empty reply', { ...reply, text: '  ' }, { kind: 'ignore', reason: 'empty' }],
    ['a reaction event', { type: 'reaction_added' }, { kind: 'ignore', reason: 'not_a_message' }],
    ['Blend’s own message', { type: 'message', subtype: 'bot_message', bot_id: 'B1', channel: 'C1', ts: '1700000000.000100', text: `Alice posted <${URL}/web/posts/${ID}|Roadmap>` }, { kind: 'thread_source', space: 'T1/C1', threadId: '1700000000.000100', postId: ID }],
    ['Blend’s link in an attachment', { type: 'message', bot_id: 'B1', channel: 'C1', ts: '1.2', text: 'x', attachments: [{ title_link: `${URL}/web/posts/${ID}` }] }, { kind: 'thread_source', postId: ID }],
    ['a bot reply in a Blend thread is never a comment', { ...reply, bot_id: 'B1' }, { kind: 'ignore', reason: 'bot_without_link' }],
    ['a person pasting a Blend link starts nothing', { ...reply, thread_ts: undefined, text: `${URL}/web/posts/${ID}` }, { kind: 'ignore', reason: 'not_in_thread' }],
  ])('%s', (_what, event, expected) => {
    expect(readSlackMessage('T1', event, URL)).toMatchObject(expected);
  });
});

describe('judgeChatAuthor', () => {
  it.each([
    [undefined, { publish: false, reason: 'unknown_author' }],
    [{ optIn: 'pending' }, { publish: false, reason: 'not_opted_in' }],
    [{ optIn: 'opted_out' }, { publish: false, reason: 'opted_out' }],
    [{ optIn: 'opted_in' }, { publish: true }],
  ])('%j → %j', (person, expected) => {
    expect(judgeChatAuthor(person)).toEqual(expected);
  });
});
