import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Addressing } from './addressing';
import { newReplyAddress } from './reply-address';
import { DEFAULT_REPLY_TOKEN_MAX_USES, hashReplyToken } from './reply-token';
import { routeRecipient } from './route';

const SECRET = 's'.repeat(32);
const NOW = new Date('2026-12-06T12:00:00Z');
const ids = { personId: 'p1', postId: 'post1', outboundId: 'o1' };

describe('newReplyAddress', () => {
  it.each<[string, Addressing, RegExp]>([
    ['domain mode', { mode: 'domain', domain: 'blend.corp.test' }, /^reply\+[a-z0-9]+@blend\.corp\.test$/],
    ['plus mode', { mode: 'plus', mailbox: 'bridge', domain: 'corp.test' }, /^bridge\+reply-[a-z0-9]+@corp\.test$/],
  ])('%s: an address that routes back to its token, whose hash is the record', (_name, addressing, shape) => {
    const r = newReplyAddress({ addressing, secret: SECRET, ...ids, now: NOW, random: (n) => randomBytes(n) });
    expect(r.address).toMatch(shape);
    const route = routeRecipient(r.address, addressing);
    expect(route).toMatchObject({ kind: 'reply' });
    const token = (route as { token: string }).token;
    expect(r.record).toEqual({
      tokenHash: hashReplyToken(token, SECRET),
      ...ids,
      expiresAt: new Date('2027-01-05T12:00:00Z'),
      maxUses: DEFAULT_REPLY_TOKEN_MAX_USES,
    });
  });

  it('gives each call a new token', () => {
    const issue = () => newReplyAddress({ addressing: { mode: 'domain', domain: 'b.test' }, secret: SECRET, ...ids, now: NOW, random: (n) => randomBytes(n) });
    expect(issue().address).not.toBe(issue().address);
  });
});
