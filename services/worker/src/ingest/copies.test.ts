import type { IngestDecision } from '@blend/core';
import type { EarlierCopy } from '@blend/db';
import { describe, expect, it } from 'vitest';
import { copyAfterDecision, copyBeforeDecision, type CopyEnd } from './copies';

const published = (bodyText: string | null): EarlierCopy => ({ inboundId: 'i1', published: true, bodyText });
const refused: EarlierCopy = { inboundId: 'i1', published: false };
const optedOut: EarlierCopy = { inboundId: 'i1', published: false, acted: { state: 'command', reason: 'opt_out' } };
const duplicate: CopyEnd = { state: 'duplicate', duplicateOf: 'i1' };
const held: CopyEnd = { state: 'held', duplicateOf: 'i1' };

const post: IngestDecision = { action: 'post', groupSlug: 'general', title: 't', body: 'Ship it.' };
const reject: IngestDecision = { action: 'reject', reason: 'dmarc_fail' };
const withhold: IngestDecision = { action: 'withhold', reason: 'not_opted_in', threadPostId: null };

describe('copyBeforeDecision', () => {
  it.each<[string, EarlierCopy | undefined, CopyEnd | null]>([
    ['no earlier copy: goes on', undefined, null],
    ['a published copy with the same text: duplicate', published('Ship it.'), duplicate],
    ['a published copy that was edited since: duplicate', published(null), duplicate],
    ['a published copy that says something else: held', published('Ship it tomorrow.'), held],
    ['an unpublished copy never shadows this one before deciding', refused, null],
  ])('%s', (_what, earlier, expected) => {
    expect(copyBeforeDecision(earlier, 'Ship it.')).toEqual(expected);
  });
});

describe('copyAfterDecision', () => {
  it.each<[string, EarlierCopy | undefined, IngestDecision, CopyEnd | null]>([
    ['no earlier copy: goes on', undefined, post, null],
    ['a refused copy, refused again: duplicate', refused, reject, duplicate],
    ['a refused copy, publishable now: goes on', refused, post, null],
    ['a refused copy, withheld now: goes on (it may be published later)', refused, withhold, null],
    ['a command carried out, the same command again: duplicate', optedOut, { action: 'command', command: { kind: 'opt_out' } }, duplicate],
    ['a command carried out, a post under its Message-ID: held', optedOut, post, held],
  ])('%s', (_what, earlier, decision, expected) => {
    expect(copyAfterDecision(earlier, decision)).toEqual(expected);
  });
});
