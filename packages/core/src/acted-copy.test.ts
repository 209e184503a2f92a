import { describe, expect, it } from 'vitest';
import { judgeActedCopy, judgePublishedCopy, type ActedCopy } from './acted-copy';
import type { IngestDecision } from './ingest-decision';

const optOut: ActedCopy = { state: 'command', reason: 'opt_out' };
const digest: ActedCopy = { state: 'command', reason: 'digest' };
const liked: ActedCopy = { state: 'liked', reason: 'like' };

describe('judgeActedCopy', () => {
  it.each<[string, ActedCopy, IngestDecision, 'duplicate' | 'conflicting_copy']>([
    ['the same command again', optOut, { action: 'command', command: { kind: 'opt_out' } }, 'duplicate'],
    ['a digest command again, whatever frequency', digest, { action: 'command', command: { kind: 'digest', frequency: 'off' } }, 'duplicate'],
    ['a like again', liked, { action: 'like', postId: 'p1' }, 'duplicate'],
    ['a like again on the thread it was merged into', liked, { action: 'like', postId: 'p2' }, 'duplicate'],
    ['refused this time (a copy through a forwarder)', optOut, { action: 'reject', reason: 'dmarc_fail' }, 'duplicate'],
    ['withheld this time (the person opted out since)', liked, { action: 'withhold', reason: 'opted_out', threadPostId: 'p1' }, 'duplicate'],
    ['held this time (a rate limit)', liked, { action: 'hold', reason: 'sender_rate' }, 'duplicate'],
    ['another command under the same Message-ID', optOut, { action: 'command', command: { kind: 'opt_in' } }, 'conflicting_copy'],
    ['a command where a like was', liked, { action: 'command', command: { kind: 'help' } }, 'conflicting_copy'],
    ['a like where a command was', optOut, { action: 'like', postId: 'p1' }, 'conflicting_copy'],
    ['a post under a command Message-ID', optOut, { action: 'post', groupSlug: 'general', title: 't', body: 'b' }, 'conflicting_copy'],
    ['a comment under a like Message-ID', liked, { action: 'comment', postId: 'p1', body: 'great, and more' }, 'conflicting_copy'],
  ])('%s', (_what, earlier, decision, expected) => {
    expect(judgeActedCopy(earlier, decision)).toBe(expected);
  });
});

describe('judgePublishedCopy', () => {
  it.each<[string, string | null, string, 'duplicate' | 'conflicting_copy']>([
    ['the same text', 'Ship it on Friday.', 'Ship it on Friday.', 'duplicate'],
    ['other line ends and trailing space', 'Ship it\r\non Friday.  \r\n', 'Ship it\non Friday.', 'duplicate'],
    ['the earlier text is no longer kept', null, 'anything', 'duplicate'],
    ['other words under the same Message-ID', 'Ship it on Friday.', 'Ship it on Monday.', 'conflicting_copy'],
    ['inner spacing differs', 'Ship  it', 'Ship it', 'conflicting_copy'],
  ])('%s', (_what, earlier, text, expected) => {
    expect(judgePublishedCopy(earlier, text)).toBe(expected);
  });
});
