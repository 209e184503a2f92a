import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

/**
 * The PEM text of BLEND_DKIM_PRIVATE_KEY. A key pasted into a one-line environment file
 * (docker's `--env-file`, `.env`) has its line breaks written as `\n`; they are turned back
 * into line breaks. Prefer BLEND_DKIM_PRIVATE_KEY_FILE, which needs no such escaping.
 */
export function dkimKeyText(value: string): string {
  const text = value.includes('\n') ? value : value.replace(/\\n/g, '\n');
  return `${text.trim()}\n`;
}

/**
 * Why a DKIM private key cannot sign Blend's mail, or null when it can. nodemailer signs
 * with `rsa-sha256` only, and RFC 8301 section 3.2 forbids RSA keys under 1024 bits (2048
 * is what it asks for). The message never quotes the key (docs/SECURITY.md B32).
 */
export function dkimKeyProblem(value: string): string | null {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: dkimKeyText(value), format: 'pem' });
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'unreadable';
    return `must be an unencrypted PEM RSA private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----); it could not be read (${code}). Make one with \`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048\``;
  }
  if (key.asymmetricKeyType !== 'rsa') {
    return `must be an RSA key (nodemailer signs with rsa-sha256 only); this one is ${key.asymmetricKeyType ?? 'of an unknown type'}`;
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 1024) return `must be an RSA key of at least 1024 bits (2048 advised; RFC 8301); this one has ${bits}`;
  return null;
}

/** The TXT record that publishes the key: `v=DKIM1; k=rsa; p=…` (base64 DER of the public key). */
export function dkimTxtRecord(value: string): string {
  const pub = createPublicKey(createPrivateKey({ key: dkimKeyText(value), format: 'pem' }));
  return `v=DKIM1; k=rsa; p=${pub.export({ type: 'spki', format: 'der' }).toString('base64')}`;
}
