import { describe, expect, it } from 'vitest';
import { openSecret, sealedKeyId, sealingKeyId, sealSecret, SealedSecretError } from './sealed-secret';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const KEY = 'imap://bridge%40corp.test@127.0.0.1:143/INBOX';

describe('sealSecret / openSecret', () => {
  it('round-trips, with a fresh IV each time and no plaintext in the sealed form', () => {
    const one = sealSecret('pässword:with@chars', A, KEY);
    const two = sealSecret('pässword:with@chars', A, KEY);
    expect(one).not.toBe(two);
    expect(one).not.toContain('word');
    expect(openSecret(one, [A], KEY)).toEqual({ plain: 'pässword:with@chars', keyIndex: 0 });
    expect(sealedKeyId(one)).toBe(sealingKeyId(A));
  });

  it('opens a value sealed before a key rotation with the previous key', () => {
    const old = sealSecret('s3cret', A, KEY);
    expect(openSecret(old, [B, A], KEY)).toEqual({ plain: 's3cret', keyIndex: 1 });
  });

  it.each([
    ['an unknown key', () => openSecret(sealSecret('x', A, KEY), [B, undefined], KEY), 'UNKNOWN_KEY'],
    ['another mailbox', () => openSecret(sealSecret('x', A, KEY), [A], `${KEY}2`), 'TAMPERED'],
    ['a changed ciphertext', () => {
      const parts = sealSecret('secret', A, KEY).split('.');
      parts[3] = Buffer.from('SECRET').toString('base64url');
      return openSecret(parts.join('.'), [A], KEY);
    }, 'TAMPERED'],
    ['a cut tag', () => openSecret(sealSecret('x', A, KEY).slice(0, -4), [A], KEY), 'TAMPERED'],
    ['plain text', () => openSecret('hunter2', [A], KEY), 'MALFORMED'],
  ])('refuses %s', (_what, fn, code) => {
    expect(fn).toThrow(SealedSecretError);
    try {
      fn();
    } catch (err) {
      expect((err as SealedSecretError).code).toBe(code);
    }
  });

  it('key ids differ per secret and do not reveal it', () => {
    expect(sealingKeyId(A)).not.toBe(sealingKeyId(B));
    expect(sealingKeyId(A)).toMatch(/^[0-9a-f]{12}$/);
  });
});
