import { describe, expect, it } from 'vitest';
import { orphanReplyWait, type OrphanReplyFacts } from './orphan-reply';

const at = (ms: number) => new Date(Date.UTC(2026, 11, 6, 12, 0, 0) + ms);
// A reply that would become a post, stored at 0, decided at 500 ms, with a 3 s grace.
const f = (over: Partial<OrphanReplyFacts> = {}): OrphanReplyFacts => ({ isReply: true, action: 'post', parentSeen: false, storedAt: at(0), now: at(500), graceMs: 3000, ...over });

describe('orphanReplyWait', () => {
  it.each<[string, Partial<OrphanReplyFacts>, number]>([
    ['within the grace: waits for the rest of it', {}, 2500],
    ['decided again at the end of the grace: goes on', { now: at(3000) }, 0],
    ['a backlog stored long ago: goes on', { now: at(3_600_000) }, 0],
    ['no grace configured: goes on', { graceMs: 0 }, 0],
    ['not a reply: a new thread goes on', { isReply: false }, 0],
    ['Blend has the parent (withheld, rejected, or its own mail): goes on', { parentSeen: true }, 0],
    ['a comment found its thread', { action: 'comment' }, 0],
    ['withheld or held mail does not become a post now', { action: 'withhold' }, 0],
    ['a store time ahead of now (clocks) waits no longer than the grace', { storedAt: at(10_000), now: at(0) }, 3000],
  ])('%s', (_, over, wait) => {
    expect(orphanReplyWait(f(over))).toBe(wait);
  });
});
