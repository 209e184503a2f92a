import { createHash, type Hash } from 'node:crypto';
import { stripControlChars } from './clean-text';
import { normaliseMessageId } from './message-id';
import type { MailInput } from './types';

/** Bumped when the canonical form changes, so old and new hashes never collide by accident. */
const CANONICAL_VERSION = 'blend-dedupe-v1';

const CR = 0x0d;
const LF = 0x0a;

/**
 * The key that makes a re-delivered or re-fetched mail land on the same row
 * (docs/SECURITY.md I2, F16; docs/ARCHITECTURE.md invariant 2).
 *
 * - `mid:<Message-ID>` when the mail has a usable Message-ID (normalised as in
 *   {@link normaliseMessageId}).
 * - otherwise `sha256:<hex>` of {@link contentHash}.
 *
 * A Message-ID reused for different content (F17) is not detected here: store
 * {@link contentHash} next to the key and compare when the key already exists.
 *
 * @param rawSource - the stored RFC 5322 source; when given, its body is hashed
 *   instead of the decoded text/html parts.
 */
export function dedupeKey(mail: MailInput, rawSource?: Uint8Array): string {
  const id = normaliseMessageId(mail.messageId);
  return id !== null ? `mid:${id}` : `sha256:${contentHash(mail, rawSource)}`;
}

/**
 * SHA-256 (hex) of a canonical form of the mail that survives re-delivery:
 * From address, Date (as an instant), Subject (control characters removed,
 * whitespace collapsed, since folding differs between hops), the To and Cc
 * addresses sorted and deduplicated, and the body.
 *
 * Headers that each hop adds or rewrites (Received, Delivered-To, Return-Path,
 * Authentication-Results) are deliberately left out. Body line endings are
 * normalised to LF and trailing whitespace is ignored, because MTAs and IMAP
 * servers store CRLF or LF and may add a final newline.
 *
 * @param rawSource - when given, the bytes after the first empty line are hashed
 *   instead of `mail.text`/`mail.html`.
 */
export function contentHash(mail: MailInput, rawSource?: Uint8Array): string {
  const date = mail.date !== null && !Number.isNaN(mail.date.getTime()) ? mail.date.toISOString() : '';
  const recipients = [...new Set([...mail.to, ...mail.cc].map((a) => a.address.trim().toLowerCase()))].sort();
  const headerPart = JSON.stringify([
    CANONICAL_VERSION,
    mail.from?.address.trim().toLowerCase() ?? '',
    date,
    stripControlChars(mail.subject).replace(/\s+/g, ' ').trim(),
    recipients,
  ]);

  // JSON escapes every newline, so "\n" cannot occur inside headerPart and is
  // an unambiguous separator before the body.
  const hash = createHash('sha256').update(headerPart).update('\n');
  if (rawSource !== undefined) {
    hashRawBody(hash, rawSource);
  } else {
    hash.update(JSON.stringify([canonicalText(mail.text), canonicalText(mail.html)]));
  }
  return hash.digest('hex');
}

function canonicalText(s: string | null): string | null {
  return s === null ? null : s.replace(/\r\n?/g, '\n').trimEnd();
}

/**
 * Feeds the body of a raw message (everything after the first empty line, RFC
 * 5322 section 2.1) into `hash` with CRLF and bare CR turned into LF and
 * trailing whitespace dropped, without copying the (possibly 25 MB) source.
 */
function hashRawBody(hash: Hash, raw: Uint8Array): void {
  let end = raw.length;
  while (end > 0 && isTrailingSpace(raw[end - 1])) end--;
  let start = bodyStart(raw);
  if (start >= end) return;
  for (let i = start; i < end; i++) {
    if (raw[i] !== CR) continue;
    hash.update(raw.subarray(start, i));
    // CRLF: skip the CR, the LF goes out with the next segment. Bare CR: emit LF.
    if (raw[i + 1] !== LF) hash.update('\n');
    start = i + 1;
  }
  hash.update(raw.subarray(start, end));
}

function isTrailingSpace(byte: number | undefined): boolean {
  return byte === CR || byte === LF || byte === 0x20 || byte === 0x09;
}

/** Index just after the header/body separator, or the end when there is no body. */
function bodyStart(raw: Uint8Array): number {
  // A source with no header lines at all starts with the empty line.
  if (raw[0] === LF) return 1;
  if (raw[0] === CR && raw[1] === LF) return 2;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== LF) continue;
    // LF LF, or LF CR LF (CRLF CRLF seen from its first LF); lone CRs are not line ends here.
    if (raw[i + 1] === LF) return i + 2;
    if (raw[i + 1] === CR && raw[i + 2] === LF) return i + 3;
  }
  return raw.length;
}
