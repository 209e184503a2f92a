import { createHmac, timingSafeEqual } from 'node:crypto';
import { base32Decode, base32Encode } from './base32';

/**
 * The token of Blend's VERP bounce address (`bounce+<token>@`, `M+bounce-<token>@` in plus
 * mode): the outbox row's id and a MAC over it, so that only Blend can make one.
 *
 * The row id alone is no secret: it is part of the Message-ID of the mail (`blend.<id>@`),
 * which every recipient sees. A bounce address made of the id alone let anyone who had one of
 * Blend's mails send three forged "failed" notices to it and pause all mail to that person
 * (docs/SECURITY.md, B10). The MAC (HMAC-SHA256 with BLEND_SECRET, 32 bits) makes a forged
 * address a blind guess with one chance in four billion per mail.
 *
 * Format: 20 bytes (the 16 of the UUID, then 4 of the MAC) as 32 lower-case base32 characters
 * (RFC 4648 section 6; lower case because an MTA may fold a local part's case): as long as the
 * 32 hex digits it replaces, so `MAILBOX_MAX_CHARS` holds.
 */

const TOKEN = /^[a-z2-7]{32}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Domain separation: BLEND_SECRET also keys reply tokens, signed links and origin tags. */
const CONTEXT = 'blend-bounce|';
const MAC_BYTES = 4;

/** The bounce token of outbox row `outboundId` (a UUID). */
export function issueBounceToken(outboundId: string, secret: string): string {
  const id = outboundId.toLowerCase();
  if (!UUID.test(id)) throw new Error(`not an outbox row id: ${outboundId}`);
  const bytes = Buffer.concat([Buffer.from(id.replace(/-/g, ''), 'hex'), mac(id, secret)]);
  return base32Encode(bytes);
}

/**
 * The outbox row id a bounce token names, or null when it is malformed or its MAC is wrong
 * under `secret` and every one of `previous` (BLEND_SECRET_PREVIOUS, during a key change).
 */
export function readBounceToken(token: string, secret: string, previous: readonly string[] = []): string | null {
  const t = token.toLowerCase();
  if (!TOKEN.test(t)) return null;
  const bytes = base32Decode(t);
  const hex = bytes.subarray(0, 16).toString('hex');
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const given = bytes.subarray(16, 16 + MAC_BYTES);
  return [secret, ...previous].some((s) => timingSafeEqual(mac(id, s), given)) ? id : null;
}

function mac(id: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(CONTEXT + id).digest().subarray(0, MAC_BYTES);
}
