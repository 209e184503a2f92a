import { describe, expect, it } from 'vitest';
import { issueBounceToken, readBounceToken } from './bounce-token';

const ID = '6f1c2a4e-8b3d-4c5e-9a7f-0d1e2f3a4b5c';
const SECRET = 's'.repeat(32);
const OLD = 'o'.repeat(32);

describe('bounce tokens', () => {
  const token = issueBounceToken(ID, SECRET);

  it('are 32 lower-case base32 characters that name their row', () => {
    expect(token).toMatch(/^[a-z2-7]{32}$/);
    expect(readBounceToken(token, SECRET)).toBe(ID);
    expect(issueBounceToken(ID.toUpperCase(), SECRET)).toBe(token);
  });

  it.each<[string, () => string, string[], string | null]>([
    ['folded to upper case by an MTA', () => token.toUpperCase(), [], ID],
    ['issued under the previous secret, during a key change', () => issueBounceToken(ID, OLD), [OLD], ID],
    ['issued under a secret no longer known', () => issueBounceToken(ID, OLD), [], null],
    ['the row id as 32 hex digits (the old format, readable from a Message-ID)', () => ID.replace(/-/g, ''), [], null],
    ['one character changed in the MAC', () => token.slice(0, 31) + (token[31] === 'a' ? 'b' : 'a'), [], null],
    ['one character changed in the id', () => (token[0] === 'a' ? 'b' : 'a') + token.slice(1), [], null],
    ['another row with this row’s MAC', () => issueBounceToken('00000000-0000-4000-8000-000000000000', SECRET).slice(0, 26) + token.slice(26), [], null],
    ['too short', () => token.slice(0, 31), [], null],
    ['not base32', () => token.slice(0, 31) + '1', [], null],
    ['empty', () => '', [], null],
  ])('%s', (_what, make, previous, expected) => {
    expect(readBounceToken(make(), SECRET, previous)).toBe(expected);
  });

  it('refuses to issue a token for something that is not a row id', () => {
    expect(() => issueBounceToken('not-a-uuid', SECRET)).toThrow(/not an outbox row id/);
  });
});
