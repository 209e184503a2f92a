import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Secrets Blend must be able to read back (a watched mailbox's IMAP password), encrypted
 * at rest with AES-256-GCM under a key derived from BLEND_SECRET with HKDF-SHA256
 * (RFC 5869). The text form is `v1.<key id>.<iv>.<ciphertext>.<tag>` (base64url):
 *
 * - The key id (a 48-bit HKDF output, not the key) says which BLEND_SECRET sealed it, so a
 *   value sealed before `blend keys rotate` opens with BLEND_SECRET_PREVIOUS, and
 *   `blend mailbox rekey` can tell which rows still need re-sealing.
 * - `context` (the mailbox key) is authenticated as additional data: a sealed password
 *   copied onto another mailbox's row does not open.
 * - A 96-bit random IV per value (NIST SP 800-38D 8.2.2); a value is sealed at most a few
 *   times per mailbox, far below the 2^32 limit for random IVs under one key.
 */

const VERSION = 'v1';
const SALT = 'blend-sealed-secret';
const ENC_INFO = 'blend/sealed-secret/v1/aes-256-gcm';
const ID_INFO = 'blend/sealed-secret/v1/key-id';

/** Why a sealed value could not be opened: not ours, or sealed with a key we no longer have. */
export class SealedSecretError extends Error {
  constructor(
    readonly code: 'MALFORMED' | 'UNKNOWN_KEY' | 'TAMPERED',
    message: string,
  ) {
    super(message);
    this.name = 'SealedSecretError';
  }
}

function derive(secret: string, info: string, bytes: number): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, SALT, info, bytes));
}

/** The id of the key derived from `secret` (safe to show: it reveals nothing of the key). */
export function sealingKeyId(secret: string): string {
  return derive(secret, ID_INFO, 6).toString('hex');
}

/** Encrypt `plain` for storage, bound to `context`. */
export function sealSecret(plain: string, secret: string, context: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', derive(secret, ENC_INFO, 32), iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return [VERSION, sealingKeyId(secret), iv.toString('base64url'), ct.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

/** The key id a sealed value was made with, or null when it is not a sealed value. */
export function sealedKeyId(sealed: string): string | null {
  const parts = sealed.split('.');
  return parts.length === 5 && parts[0] === VERSION ? parts[1]! : null;
}

/**
 * Decrypt a value made by {@link sealSecret} with any of `secrets` (BLEND_SECRET first,
 * then BLEND_SECRET_PREVIOUS).
 * @returns the plaintext and the index in `secrets` of the key that opened it.
 * @throws SealedSecretError when the value is malformed, sealed under another key, or altered.
 */
export function openSecret(sealed: string, secrets: readonly (string | undefined)[], context: string): { plain: string; keyIndex: number } {
  const [version, kid, iv, ct, tag, extra] = sealed.split('.');
  if (version !== VERSION || !kid || iv === undefined || ct === undefined || !tag || extra !== undefined) {
    throw new SealedSecretError('MALFORMED', 'not a sealed secret');
  }
  const keyIndex = secrets.findIndex((s) => s !== undefined && sealingKeyId(s) === kid);
  if (keyIndex < 0) {
    throw new SealedSecretError('UNKNOWN_KEY', `sealed with key ${kid}, which is neither BLEND_SECRET nor BLEND_SECRET_PREVIOUS`);
  }
  // Node accepts GCM tags as short as 4 bytes unless told the length: insist on all 16.
  const decipher = createDecipheriv('aes-256-gcm', derive(secrets[keyIndex]!, ENC_INFO, 32), Buffer.from(iv, 'base64url'), { authTagLength: 16 });
  decipher.setAAD(Buffer.from(context, 'utf8'));
  try {
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
    return { plain, keyIndex };
  } catch (err) {
    // A wrong tag length or a failed GCM tag check: the value was altered.
    throw new SealedSecretError('TAMPERED', `sealed secret does not verify (${(err as Error).message})`);
  }
}

/** The context a webhook's signing secret is sealed under (docs/SECURITY.md I3). */
export const WEBHOOK_SECRET_CONTEXT = 'webhook-signing-secret';

/**
 * A webhook's signing secret as stored: opened when sealed, as is when it was stored before
 * secrets were sealed.
 */
export function webhookSigningSecret(stored: string, secrets: readonly (string | undefined)[]): string {
  return sealedKeyId(stored) === null ? stored : openSecret(stored, secrets, WEBHOOK_SECRET_CONTEXT).plain;
}
