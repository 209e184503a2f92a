/**
 * Outlook's `Thread-Index` header: base64 of PidTagConversationIndex ([MS-OXOMSG] 2.2.1.3).
 * Outlook threads its conversation view by this header as well as by References, so mail
 * Blend sends into a conversation carries one derived from the thread's.
 *
 * Layout: a 22-byte header block, then one 5-byte response level per reply.
 * - header: reserved 0x01; the 40 high-order bits of the FILETIME (big-endian); a 16-byte
 *   GUID, Data1-3 big-endian (the byte order RFC 9562 UUIDs already use);
 * - response level: 1 bit DeltaCode, 31 bits TimeDelta, 8 bits random. The delta is the
 *   reply's FILETIME minus the header's; DeltaCode 0 stores its bits 48..18 (differences
 *   under 2^49 x 100 ns, about 1.78 years), DeltaCode 1 its bits 53..23.
 */

const HEADER_BYTES = 22;
const LEVEL_BYTES = 5;
/** 100-ns intervals between 1601-01-01 (FILETIME epoch) and 1970-01-01. */
const FILETIME_UNIX_OFFSET = 116_444_736_000_000_000n;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const filetime = (at: Date): bigint => BigInt(at.getTime()) * 10_000n + FILETIME_UNIX_OFFSET;

/** Decodes strict base64 (whitespace from header folding removed), or null. */
function decode(s: string): Uint8Array | null {
  const compact = s.replace(/\s+/g, '');
  if (!BASE64.test(compact)) return null;
  return new Uint8Array(Buffer.from(compact, 'base64'));
}

/**
 * A new conversation's Thread-Index: 0x01, the 5 high-order bytes of `at` as FILETIME,
 * then `guid`.
 *
 * @param guid - 16 bytes identifying the conversation (e.g. the post's UUID bytes), so the
 * same thread always gets the same GUID.
 * @throws RangeError when `guid` is not 16 bytes or `at` is not a valid date.
 */
export function newThreadIndex(at: Date, guid: Uint8Array): string {
  if (guid.length !== 16) throw new RangeError(`newThreadIndex: guid must be 16 bytes, got ${guid.length}`);
  if (Number.isNaN(at.getTime())) throw new RangeError('newThreadIndex: invalid date');
  const out = new Uint8Array(HEADER_BYTES);
  out[0] = 0x01;
  const high = filetime(at) >> 24n;
  for (let i = 0; i < 5; i++) out[1 + i] = Number((high >> BigInt(8 * (4 - i))) & 0xffn);
  out.set(guid, 6);
  return Buffer.from(out).toString('base64');
}

/**
 * FNV-1a over the parent bytes and the reply time, cut to 8 bits. [MS-OXOMSG] asks for a
 * random byte to tell siblings apart; deriving it keeps this function pure, so rebuilding
 * the same mail (a retried job) yields the same header.
 */
function uniquenessByte(parent: Uint8Array, at: Date): number {
  let h = 0x811c9dc5;
  const mix = (b: number) => {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  };
  for (const b of parent) mix(b);
  const ms = at.getTime();
  for (let i = 0; i < 8; i++) mix(Math.floor(ms / 2 ** (8 * i)) & 0xff);
  return (h ^ (h >>> 8) ^ (h >>> 16) ^ (h >>> 24)) & 0xff;
}

/**
 * The Thread-Index of a reply to a message whose Thread-Index is `parent`: `parent` plus
 * one 5-byte response level for `at`. Null when `parent` is not valid base64 of at least
 * 22 bytes (then send the reply without a Thread-Index rather than with a broken one).
 * A reply dated before the thread started (clock skew) gets a zero delta.
 */
export function childThreadIndex(parent: string, at: Date): string | null {
  const bytes = decode(parent);
  if (!bytes || bytes.length < HEADER_BYTES || Number.isNaN(at.getTime())) return null;

  let start = 0n;
  for (let i = 1; i <= 5; i++) start = (start << 8n) | BigInt(bytes[i]!);
  let delta = filetime(at) - (start << 24n);
  if (delta < 0n) delta = 0n;

  const small = delta < 1n << 49n;
  const timeDelta = (small ? delta >> 18n : delta >> 23n) & 0x7fff_ffffn;
  const word = Number(timeDelta) + (small ? 0 : 0x8000_0000);

  const out = new Uint8Array(bytes.length + LEVEL_BYTES);
  out.set(bytes);
  const p = bytes.length;
  out[p] = (word >>> 24) & 0xff;
  out[p + 1] = (word >>> 16) & 0xff;
  out[p + 2] = (word >>> 8) & 0xff;
  out[p + 3] = word & 0xff;
  out[p + 4] = uniquenessByte(bytes, at);
  return Buffer.from(out).toString('base64');
}

/**
 * True for a well-formed Thread-Index: strict base64 of 0x01, then 21 more header bytes,
 * then whole 5-byte response levels.
 */
export function isThreadIndex(s: string): boolean {
  const bytes = decode(s);
  return (
    bytes !== null &&
    bytes.length >= HEADER_BYTES &&
    (bytes.length - HEADER_BYTES) % LEVEL_BYTES === 0 &&
    bytes[0] === 0x01
  );
}

/**
 * The conversation part of a `Thread-Index` (its first 22 bytes, base64): the same for every
 * mail of one Outlook conversation. Null when the header is not a valid thread index.
 */
export function threadIndexRoot(value: string): string | null {
  const v = value.trim();
  if (!isThreadIndex(v)) return null;
  return Buffer.from(v, 'base64').subarray(0, 22).toString('base64');
}

/** Whether a `Thread-Index` belongs to a reply (it has at least one 5-byte child block). */
export function isThreadIndexReply(value: string): boolean {
  const v = value.trim();
  return isThreadIndex(v) && Buffer.from(v, 'base64').length > 22;
}
