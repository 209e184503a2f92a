import { describe, expect, it } from 'vitest';
import { linkStanding, type ConsentFacts, type LinkFacts, type LinkStanding } from './link-standing';

const sent = new Date('2026-12-01T10:00:00Z');
const before = new Date('2026-11-30T10:00:00Z');
const after = new Date('2026-12-02T10:00:00Z');
const person = (optIn: ConsentFacts['optIn'], optInChangedAt: Date | null): ConsentFacts => ({ optIn, optInChangedAt });
const ok: LinkStanding = { valid: true };
const done: LinkStanding = { valid: false, why: 'done' };
const superseded: LinkStanding = { valid: false, why: 'superseded' };
const gone: LinkStanding = { valid: false, why: 'gone' };

describe('linkStanding', () => {
  it.each<[string, LinkFacts, LinkStanding]>([
    // Opt in: gives consent, so a newer choice voids it.
    ['opt-in, unknown address (an invitation)', { purpose: 'opt_in', person: null }, ok],
    ['opt-in, pending since before the link', { purpose: 'opt_in', person: person('pending', null) }, ok],
    ['opt-in, opted out before the link was sent (mailed "opt in" again)', { purpose: 'opt_in', person: person('opted_out', before) }, ok],
    ['opt-in, opted out after the link was sent', { purpose: 'opt_in', person: person('opted_out', after) }, superseded],
    ['opt-in, opted out within the second the link was made', { purpose: 'opt_in', person: person('opted_out', new Date(sent.getTime() + 900)) }, ok],
    ['opt-in, already opted in', { purpose: 'opt_in', person: person('opted_in', after) }, done],
    // Opt out: takes consent back, valid while there is consent to take back.
    ['opt-out, opted in', { purpose: 'unsubscribe', person: person('opted_in', before) }, ok],
    ['opt-out, opted in again after the link was sent', { purpose: 'unsubscribe', person: person('opted_in', after) }, ok],
    ['opt-out, pending', { purpose: 'unsubscribe', person: person('pending', null) }, ok],
    ['opt-out, already opted out', { purpose: 'unsubscribe', person: person('opted_out', after) }, done],
    ['opt-out, unknown address', { purpose: 'unsubscribe', person: null }, done],
    // Share a held mail.
    ['share, still held, author opted in', { purpose: 'share_confirm', message: { state: 'held', reason: 'external_participants' }, author: person('opted_in', before) }, ok],
    ['share, author opted out since', { purpose: 'share_confirm', message: { state: 'held', reason: 'external_participants' }, author: person('opted_out', after) }, superseded],
    ['share, author erased', { purpose: 'share_confirm', message: { state: 'held', reason: 'external_participants' }, author: null }, superseded],
    ['share, confirmed and waiting', { purpose: 'share_confirm', message: { state: 'received', reason: null }, author: person('opted_in', before) }, done],
    ['share, published', { purpose: 'share_confirm', message: { state: 'posted', reason: null }, author: person('opted_in', before) }, done],
    ['share, rejected since', { purpose: 'share_confirm', message: { state: 'rejected', reason: 'dmarc_fail' }, author: person('opted_in', before) }, gone],
    ['share, held for another reason', { purpose: 'share_confirm', message: { state: 'held', reason: 'unclear_quote' }, author: person('opted_in', before) }, gone],
    ['share, purged', { purpose: 'share_confirm', message: null, author: person('opted_in', before) }, gone],
    // Keep my replies out of a thread.
    ['withhold, live thread', { purpose: 'thread_withhold', postLive: true, alreadyWithheld: false }, ok],
    ['withhold, already', { purpose: 'thread_withhold', postLive: true, alreadyWithheld: true }, done],
    ['withhold, thread retracted', { purpose: 'thread_withhold', postLive: false, alreadyWithheld: false }, gone],
    // List-Unsubscribe.
    ['unsubscribe, digests on', { purpose: 'list_unsubscribe', personExists: true, targetLive: true, alreadyOff: false }, ok],
    ['unsubscribe, already off', { purpose: 'list_unsubscribe', personExists: true, targetLive: true, alreadyOff: true }, done],
    ['unsubscribe, person erased', { purpose: 'list_unsubscribe', personExists: false, targetLive: true, alreadyOff: false }, gone],
    ['unsubscribe, thread retracted', { purpose: 'list_unsubscribe', personExists: true, targetLive: false, alreadyOff: false }, gone],
    // Receipt links.
    ['undo, still published', { purpose: 'undo', targetLive: true }, ok],
    ['undo, removed already', { purpose: 'undo', targetLive: false }, gone],
    ['fix, still published', { purpose: 'fix', targetLive: true }, ok],
    ['fix, removed', { purpose: 'fix', targetLive: false }, gone],
  ])('%s', (_label, facts, expected) => {
    expect(linkStanding(facts, sent)).toEqual(expected);
  });
});
