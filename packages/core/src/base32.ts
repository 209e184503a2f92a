/**
 * RFC 4648 section 6 base32, lower-case, without padding: the alphabet of Blend's tokens in
 * mail addresses, which must survive an MTA folding a local part's case (RFC 5321 section 2.4).
 */
export const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** The bytes as one big-endian bit string, 5 bits per character; trailing bits short of 5 are dropped. */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32_ALPHABET[(buffer >>> bits) & 31];
    }
  }
  return out;
}

/** The inverse of {@link base32Encode} for lower-case text of the alphabet; bits short of a byte are dropped. */
export function base32Decode(text: string): Buffer {
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const c of text) {
    buffer = ((buffer << 5) | BASE32_ALPHABET.indexOf(c)) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((buffer >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}
