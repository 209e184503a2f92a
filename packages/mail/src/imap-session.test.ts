import { describe, expect, it } from 'vitest';
import { uidSet } from './imap-session';

describe('uidSet', () => {
  it.each([
    [[7], '7'],
    [[3, 1, 2], '1:3'],
    [[1, 2, 3, 5, 8, 9, 9], '1:3,5,8:9'],
    [[10, 4, 11, 6], '4,6,10:11'],
  ])('%j -> %s (exactly these UIDs)', (uids, set) => {
    expect(uidSet(uids)).toBe(set);
  });
});
