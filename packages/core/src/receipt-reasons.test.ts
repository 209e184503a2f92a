import { describe, expect, it } from 'vitest';
import { explainOutcome, type ReceiptReasonCode } from './receipt-reasons';

const CODES: ReceiptReasonCode[] = [
  'dmarc_fail', 'unauthenticated', 'not_org_domain', 'invalid_from', 'bad_token', 'sender_mismatch',
  'unknown_command', 'unknown_group', 'empty_body', 'mime_limits', 'malformed_mime', 'too_large',
  'missing_source', 'sender_unknown', 'not_opted_in', 'opted_out', 'participant_declined', 'encrypted',
  'sensitivity_label', 'confidential_marker', 'external_participants', 'sender_rate', 'thread_rate',
  'org_rate', 'unclear_quote', 'not_group_member', 'group_archived',
];

describe('explainOutcome', () => {
  it.each(CODES)('%s has its own plain text', (code) => {
    const e = explainOutcome(code);
    expect(e.why).toMatch(/^[A-Z].*\.$/);
    expect(e.whatToDo).toMatch(/^[A-Z].*\.$/);
    // plain English: a snake_case code is not shown to the reader
    if (code.includes('_')) expect(`${e.why} ${e.whatToDo}`).not.toContain(code);
    expect(e.why).not.toBe(explainOutcome('no_such_code').why);
  });

  it('every code has a distinct reason, except a token of someone else, told as a dead one', () => {
    const told = CODES.filter((c) => c !== 'sender_mismatch' && c !== 'not_group_member');
    expect(new Set(told.map((c) => explainOutcome(c).why)).size).toBe(told.length);
    expect(explainOutcome('sender_mismatch')).toEqual(explainOutcome('bad_token'));
    // An outsider is never told that a private group exists (docs/SECURITY.md, private groups).
    expect(explainOutcome('not_group_member')).toEqual(explainOutcome('unknown_group'));
  });

  it.each<[string, Partial<ReturnType<typeof explainOutcome>>]>([
    [
      'unclear_quote',
      {
        why: 'Blend could not tell your new text apart from the quoted conversation, so it published nothing.',
        whatToDo: 'Reply again with your text above the quoted mail, or ask IT to release it.',
      },
    ],
    ['brand_new_code', { why: 'Blend did not publish this mail (reason: brand_new_code).' }],
    ['', { why: 'Blend did not publish this mail (reason: unknown).' }],
    ['x\r\nBcc: y', { why: 'Blend did not publish this mail (reason: xBccy).' }],
    ['__proto__', { why: 'Blend did not publish this mail (reason: __proto__).' }],
    ['toString', { why: 'Blend did not publish this mail (reason: toString).' }],
  ])('%j', (code, expected) => {
    expect(explainOutcome(code)).toMatchObject(expected);
  });
});
