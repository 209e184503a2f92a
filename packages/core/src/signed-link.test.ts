import { describe, expect, it } from 'vitest';
import { LINK_LIFETIME_DAYS, linkIssuedAt, originTag, signLink, verifyLink, type LinkClaims } from './signed-link';

const secret = 's'.repeat(40);
const now = new Date('2026-11-25T12:00:00Z');
const exp = now.getTime() / 1000 + 3600;
const claims: LinkClaims = { purpose: 'opt_in', subject: 'person-1', exp };

describe('signed links', () => {
  it('round-trips valid claims', () => {
    expect(verifyLink(signLink(claims, secret), 'opt_in', secret, now)).toEqual(claims);
    const scoped = { ...claims, purpose: 'thread_withhold' as const, scope: 'post-1' };
    expect(verifyLink(signLink(scoped, secret), 'thread_withhold', secret, now)).toEqual(scoped);
  });

  const good = signLink(claims, secret);
  const [payload, sig] = good.split('.') as [string, string];
  it.each([
    ['another purpose', good, 'unsubscribe', secret, now],
    ['another secret', good, 'opt_in', 't'.repeat(40), now],
    ['expired', good, 'opt_in', secret, new Date((exp + 1) * 1000)],
    ['a flipped signature character', `${payload}.${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`, 'opt_in', secret, now],
    ['a changed payload', `${Buffer.from(JSON.stringify(['opt_in', 'person-2', '', exp])).toString('base64url')}.${sig}`, 'opt_in', secret, now],
    ['no signature', payload, 'opt_in', secret, now],
    ['an extra part', `${good}.x`, 'opt_in', secret, now],
    ['garbage', 'not a token at all', 'opt_in', secret, now],
    ['empty', '', 'opt_in', secret, now],
  ] as const)('refuses %s', (_label, token, purpose, key, at) => {
    expect(verifyLink(token, purpose, key, at)).toBeNull();
  });

  it('carries when the link was made; a link made before that field existed still verifies', () => {
    const issued = { ...claims, iat: now.getTime() / 1000 - 60 };
    const back = verifyLink(signLink(issued, secret), 'opt_in', secret, now);
    expect(back).toEqual(issued);
    expect(linkIssuedAt(back!)).toEqual(new Date(now.getTime() - 60_000));
    const legacy = verifyLink(signLink(claims, secret), 'opt_in', secret, now);
    expect(legacy).not.toHaveProperty('iat');
    expect(linkIssuedAt(legacy!)).toEqual(new Date((exp - LINK_LIFETIME_DAYS * 86_400) * 1000));
    const badIat = `${Buffer.from(JSON.stringify(['opt_in', 'person-1', '', exp, 'soon'])).toString('base64url')}`;
    expect(verifyLink(`${badIat}.${signLink(claims, secret).split('.')[1]}`, 'opt_in', secret, now)).toBeNull();
  });

  it('tags our Message-IDs with a keyed, stable origin value', () => {
    expect(originTag('a@x', secret)).toBe(originTag('a@x', secret));
    expect(originTag('a@x', secret)).not.toBe(originTag('b@x', secret));
    expect(originTag('a@x', secret)).not.toBe(originTag('a@x', 't'.repeat(40)));
    expect(originTag('a@x', secret)).toMatch(/^[0-9a-f]{32}$/);
  });
});
