import { isAscii, isUtf8 } from 'node:buffer';
import chardet from 'chardet';
import type { Latin1Text, Part } from './mime-structure';

/**
 * The charset a text body part is read in, checked against its bytes. A label is wrong more
 * often than one would think (a client that writes UTF-8 and says Big5), and some mail has no
 * label at all (8-bit text with no Content-Type). mailparser believes the label, or reads UTF-8
 * without one, and shows mojibake or replacement characters.
 *
 * - Bytes that are valid UTF-8 with multibyte sequences are UTF-8 whatever the label says:
 *   text in a legacy charset (Latin-1, Big5, KOI8-R…) almost never happens to be valid UTF-8.
 * - Bytes that are not UTF-8, with no label or a UTF-8/ASCII label, are given the charset a
 *   statistical detector (npm `chardet`, ICU's detector) finds likeliest: a guess, so the
 *   result is low confidence (`charset_guessed`). A few bad bytes in otherwise valid UTF-8 are
 *   not a reason to guess.
 */
export type CharsetVerdict =
  | { kind: 'as_declared' }
  | { kind: 'utf8'; declared: string }
  | { kind: 'guessed'; charset: string };

const UTF8_LABEL = /^(?:utf-?8|us-ascii|ascii|ansi_x3\.4-1968)$/i;
/** Charsets whose bytes can look like anything (UTF-16/32) or are 7-bit (ISO-2022, UTF-7): left alone. */
const NOT_CHECKED = /^(?:utf-?(?:16|32)|ucs-?2|iso-2022|utf-?7|unicode-1-1-utf-7|csunicode11utf7)/i;
/** Share of non-ASCII characters that may fail to decode before a UTF-8 label is doubted. */
const BAD_UTF8_SHARE = 0.1;

/** What charset the body part `part` of the raw message `text` (as latin1) should be read in. */
export function judgeCharset(text: Latin1Text, part: Part): CharsetVerdict {
  const declared = (part.params.get('charset') ?? '').trim().toLowerCase();
  if (NOT_CHECKED.test(declared)) return { kind: 'as_declared' };
  const bytes = transferDecode(text.slice(part.bodyStart, part.bodyEnd), part.encoding);
  if (isAscii(bytes)) return { kind: 'as_declared' };
  const asUtf8: CharsetVerdict = declared === '' || UTF8_LABEL.test(declared) ? { kind: 'as_declared' } : { kind: 'utf8', declared };
  // Valid UTF-8 without an encoded U+FFFD decodes without one: no need to decode it to count them.
  if (isUtf8(bytes) && bytes.indexOf(REPLACEMENT_UTF8) < 0) return asUtf8;
  const decoded = UTF8.decode(bytes);
  const bad = decoded.match(/\uFFFD/g)?.length ?? 0;
  if (bad === 0) return asUtf8;
  if (declared !== '' && !UTF8_LABEL.test(declared)) return { kind: 'as_declared' };
  const nonAscii = decoded.match(/[^\x00-\x7f]/g)?.length ?? 0;
  if (declared !== '' && bad <= nonAscii * BAD_UTF8_SHARE) return { kind: 'as_declared' };
  const guess = chardet.analyse(bytes).find((c) => !/^(?:utf-|iso-2022)/i.test(c.name));
  return guess ? { kind: 'guessed', charset: guess.name } : { kind: 'as_declared' };
}

/** The bytes of a part body after its Content-Transfer-Encoding (RFC 2045 section 6). */
export function transferDecode(body: string, encoding: string): Buffer {
  if (encoding === 'base64') return Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(Buffer.from(body.replace(/=\r?\n/g, ''), 'latin1'));
  return Buffer.from(body, 'latin1');
}

const UTF8 = new TextDecoder('utf-8');
/** U+FFFD as UTF-8. */
const REPLACEMENT_UTF8 = Buffer.from([0xef, 0xbf, 0xbd]);
const EQUALS = 0x3d;
/** The value of each byte as a hexadecimal digit (either case), or -1. */
const HEX_DIGIT = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let d = 0; d < 16; d++) {
    t[d.toString(16).charCodeAt(0)] = d;
    t[d.toString(16).toUpperCase().charCodeAt(0)] = d;
  }
  return t;
})();

/**
 * Each `=XX` (two hexadecimal digits, soft line breaks already removed) as its byte, read left
 * to right as `/=([0-9A-Fa-f]{2})/g` finds them; any other `=` stays. In one pass over the bytes.
 */
export function decodeQuotedPrintable(src: Buffer): Buffer {
  const first = src.indexOf(EQUALS);
  if (first < 0) return src;
  const out = Buffer.allocUnsafe(src.length);
  let n = src.copy(out, 0, 0, first);
  for (let i = first; i < src.length; i++) {
    const b = src[i]!;
    if (b === EQUALS && i + 2 < src.length) {
      const hi = HEX_DIGIT[src[i + 1]!]!;
      const lo = HEX_DIGIT[src[i + 2]!]!;
      if (hi >= 0 && lo >= 0) {
        out[n++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
    }
    out[n++] = b;
  }
  return out.subarray(0, n);
}

/**
 * The edit that makes the part's Content-Type say `charset`: the charset parameter's value
 * replaced, the parameter added, or a Content-Type header added when the part has none.
 */
export function relabel(text: Latin1Text, part: Part, charset: string, eol: string): { at: number; end: number; insert: string } {
  const ct = part.contentType;
  if (!ct) return { at: part.headerStart, end: part.headerStart, insert: `Content-Type: ${part.type}; charset=${charset}${eol}` };
  const value = text.slice(ct.start, ct.end);
  const m = /(;\s*charset\s*=\s*)("[^"]*"|[^;\s]*)/i.exec(value);
  if (!m) return { at: ct.end, end: ct.end, insert: `; charset=${charset}` };
  const at = ct.start + m.index + (m[1] ?? '').length;
  return { at, end: at + (m[2] ?? '').length, insert: charset };
}

/**
 * A header value written in raw 8-bit bytes (RFC 5322 wants encoded words, RFC 2047), read in
 * `hint` (the charset guessed for the body) or in the likeliest charset for its bytes. Null
 * when the bytes are ASCII or valid UTF-8: the parser read those right.
 */
export function decodeRawHeader(latin1Value: string, hint: string | null): string | null {
  const bytes = Buffer.from(latin1Value, 'latin1');
  if (!bytes.some((b) => b >= 0x80)) return null;
  if (!new TextDecoder('utf-8').decode(bytes).includes('\uFFFD')) return null;
  const charset = hint ?? chardet.analyse(bytes).find((c) => !/^(?:utf-|iso-2022)/i.test(c.name))?.name;
  if (!charset) return null;
  try {
    return new TextDecoder(charset.toLowerCase()).decode(bytes);
  } catch {
    // A charset name the WHATWG decoder does not know: the parser's reading stands.
    return null;
  }
}
