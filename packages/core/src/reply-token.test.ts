import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { routeRecipient } from './route';
import {
  DEFAULT_REPLY_TOKEN_MAX_USES,
  DEFAULT_REPLY_TOKEN_TTL_DAYS,
  generateReplyToken,
  hashReplyToken,
  isWellFormedReplyToken,
  judgeReplyToken,
  normaliseReplyToken,
  tokenLogId,
  type ReplySender,
  type ReplyTokenRow,
  type ReplyTokenVerdict,
} from './reply-token';

/** A deterministic "random" source that returns `bytes`, padded with zeros. */
const fixed =
  (bytes: number[]) =>
  (n: number): Uint8Array => {
    const out = new Uint8Array(n);
    out.set(bytes.slice(0, n));
    return out;
  };

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

const TOKEN = generateReplyToken(fixed(ascii('0123456789abcdefg')));
const SECRET = 's'.repeat(32);

describe('generateReplyToken', () => {
  it.each<[string, number[], string]>([
    // RFC 4648 section 10 vector: BASE32("foobar") = "MZXW6YTBOI======"; the rest is zero bits.
    ['RFC 4648 foobar', ascii('foobar'), 'v1mzxw6ytboiaaaaaaaaaaaaaaaa'],
    ['all zero bits', [], `v1${'a'.repeat(26)}`],
    ['all one bits', new Array<number>(17).fill(0xff), `v1${'7'.repeat(26)}`],
    // 0x08 0x42 ... = 00001 00001 00001 ...: every character is "b".
    ['alternating groups', [0x08, 0x42, 0x10, 0x84, 0x21, 0x08, 0x42, 0x10, 0x84, 0x21, 0x08, 0x42, 0x10, 0x84, 0x21, 0x08, 0x42], `v1${'b'.repeat(26)}`],
  ])('%s', (_name, bytes, expected) => {
    expect(generateReplyToken(fixed(bytes))).toBe(expected);
  });

  it('asks for 17 bytes (130 bits) and gives 28 characters', () => {
    const asked: number[] = [];
    const token = generateReplyToken((n) => {
      asked.push(n);
      return new Uint8Array(n);
    });
    expect(asked).toEqual([17]);
    expect(token).toHaveLength(28);
  });

  it('uses the last random bits (130 bits, not 128)', () => {
    const a = generateReplyToken(fixed([...new Array<number>(16).fill(0), 0b0100_0000]));
    expect(a).toBe(`v1${'a'.repeat(25)}b`);
  });

  it('refuses a short read from the random source', () => {
    expect(() => generateReplyToken(() => new Uint8Array(16))).toThrow(/16 bytes, expected 17/);
  });

  it('fits a reply address that the router accepts', () => {
    const address = `reply+${TOKEN}@blend.example.test`;
    expect(address.indexOf('@')).toBeLessThan(64);
    expect(routeRecipient(address.toUpperCase(), { mode: 'domain', domain: 'blend.example.test' })).toEqual({ kind: 'reply', token: TOKEN });
  });
});

describe('normaliseReplyToken / isWellFormedReplyToken', () => {
  it.each<[string, string | null]>([
    [TOKEN, TOKEN],
    [TOKEN.toUpperCase(), TOKEN],
    [`V1${TOKEN.slice(2)}`, TOKEN],
    [`v1${'a'.repeat(26)}`, `v1${'a'.repeat(26)}`],
    [`v1${'7'.repeat(26)}`, `v1${'7'.repeat(26)}`],
    // base32 has no 0, 1, 8 or 9
    [`v1${'a'.repeat(25)}0`, null],
    [`v1${'a'.repeat(25)}1`, null],
    [`v1${'a'.repeat(25)}8`, null],
    [`v1${'a'.repeat(25)}9`, null],
    // wrong version, length, padding, separators
    [`v2${'a'.repeat(26)}`, null],
    [`${'a'.repeat(28)}`, null],
    [`v1${'a'.repeat(25)}`, null],
    [`v1${'a'.repeat(27)}`, null],
    [`v1${'a'.repeat(24)}==`, null],
    [`v1${'a'.repeat(12)}-${'a'.repeat(13)}`, null],
    [` ${TOKEN.slice(1)}`, null],
    ['', null],
    // U+212A KELVIN SIGN lower-cases to "k" with toLowerCase(); it must not pass
    [`v1${'a'.repeat(25)}\u212A`, null],
    // a hex token of another system
    ['0123456789abcdef0123456789abcdef', null],
  ])('%j -> %j', (input, expected) => {
    expect(normaliseReplyToken(input)).toBe(expected);
    expect(isWellFormedReplyToken(input)).toBe(expected !== null);
  });
});

describe('hashReplyToken', () => {
  const expected = createHmac('sha256', SECRET).update(`blend-reply-token|${TOKEN}`).digest('hex');

  it.each<[string, string, string, boolean]>([
    ['same token', TOKEN, SECRET, true],
    ['upper-cased by a MUA', TOKEN.toUpperCase(), SECRET, true],
    ['another secret', TOKEN, 't'.repeat(32), false],
    ['another token', generateReplyToken(fixed([1])), SECRET, false],
  ])('%s', (_name, token, secret, same) => {
    const hash = hashReplyToken(token, secret);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash === expected).toBe(same);
  });

  it('has its own context: not a bare HMAC of the token under the shared secret', () => {
    expect(hashReplyToken(TOKEN, SECRET)).not.toBe(createHmac('sha256', SECRET).update(TOKEN).digest('hex'));
  });

  it('hashes a malformed token instead of throwing (it simply matches no row)', () => {
    expect(hashReplyToken('abcdefgh', SECRET)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashReplyToken('ABCDEFGH', SECRET)).toBe(hashReplyToken('abcdefgh', SECRET));
  });

  it('refuses an empty secret', () => {
    expect(() => hashReplyToken(TOKEN, '')).toThrow(/empty secret/);
  });
});

describe('tokenLogId', () => {
  it.each<[string, string]>([
    ['same for any case', TOKEN.toUpperCase()],
    ['same for the canonical form', TOKEN],
  ])('%s', (_name, input) => {
    expect(tokenLogId(input)).toBe(tokenLogId(TOKEN));
  });

  it('is 8 hex characters and does not contain the token', () => {
    const id = tokenLogId(TOKEN);
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    expect(TOKEN).not.toContain(id);
    expect(tokenLogId(generateReplyToken(fixed([2])))).not.toBe(id);
  });
});

describe('judgeReplyToken', () => {
  const now = new Date('2025-03-01T12:00:00Z');
  const row: ReplyTokenRow = {
    personId: 'p1',
    postId: 'post1',
    expiresAt: new Date('2025-03-10T00:00:00Z'),
    revokedAt: null,
    uses: 0,
    maxUses: DEFAULT_REPLY_TOKEN_MAX_USES,
  };
  const bound: ReplySender = { personId: 'p1', authenticated: true, optedIn: true };
  const bad = { ok: false, reason: 'bad_token' } as const;

  it.each<[string, Partial<ReplyTokenRow> | null, Partial<ReplySender>, ReplyTokenVerdict]>([
    ['valid', {}, {}, { ok: true, postId: 'post1' }],
    ['last use left', { uses: 19 }, {}, { ok: true, postId: 'post1' }],
    ['one millisecond before expiry', { expiresAt: new Date(now.getTime() + 1) }, {}, { ok: true, postId: 'post1' }],
    // every token failure is the same bad_token (no oracle, B18)
    ['unknown token', null, {}, bad],
    ['revoked', { revokedAt: new Date('2025-02-01T00:00:00Z') }, {}, bad],
    ['revoked in the future still counts', { revokedAt: new Date('2030-01-01T00:00:00Z') }, {}, bad],
    ['expired', { expiresAt: new Date('2025-02-28T00:00:00Z') }, {}, bad],
    ['expires exactly now', { expiresAt: now }, {}, bad],
    ['invalid expiry date', { expiresAt: new Date(Number.NaN) }, {}, bad],
    ['uses exhausted', { uses: 20 }, {}, bad],
    ['uses over the max', { uses: 25 }, {}, bad],
    ['max uses zero', { maxUses: 0 }, {}, bad],
    // token failures win over sender failures
    ['unknown token from a stranger', null, { personId: null, authenticated: false, optedIn: false }, bad],
    ['expired token of another person', { expiresAt: new Date('2025-01-01T00:00:00Z') }, { personId: 'p2' }, bad],
    // sender binding (B19), authentication (B8), opt-in (3.2)
    ['forwarded digest: a colleague replies', {}, { personId: 'p2' }, { ok: false, reason: 'sender_mismatch' }],
    ['unknown sender address', {}, { personId: null }, { ok: false, reason: 'sender_mismatch' }],
    ['colleague, also unauthenticated', {}, { personId: 'p2', authenticated: false }, { ok: false, reason: 'sender_mismatch' }],
    ['spoofed From of the bound person', {}, { authenticated: false }, { ok: false, reason: 'unauthenticated' }],
    ['spoofed and opted out', {}, { authenticated: false, optedIn: false }, { ok: false, reason: 'unauthenticated' }],
    ['opted out since the digest', {}, { optedIn: false }, { ok: false, reason: 'not_opted_in' }],
  ])('%s', (_name, rowPatch, senderPatch, expected) => {
    const r = rowPatch === null ? null : { ...row, ...rowPatch };
    expect(judgeReplyToken(r, { ...bound, ...senderPatch }, now)).toEqual(expected);
  });

  it('has defaults within docs/SECURITY.md 3.1', () => {
    expect(DEFAULT_REPLY_TOKEN_TTL_DAYS).toBeGreaterThanOrEqual(14);
    expect(DEFAULT_REPLY_TOKEN_TTL_DAYS).toBeLessThanOrEqual(30);
    expect(DEFAULT_REPLY_TOKEN_MAX_USES).toBe(20);
  });
});
