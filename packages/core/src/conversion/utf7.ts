/**
 * UTF-7 (RFC 2152) support. mailparser's libmime deliberately does not decode
 * UTF-7 (it hands the ASCII through as UTF-8) because a filter that inspects the
 * raw text would miss `+ADw-script+AD4-` = `<script>`. We decode it, then
 * sanitise: the markup that appears is removed or escaped like any other, so
 * the reader sees the author's words instead of `+AOQ-` (docs/SECURITY.md B6).
 */

/** `charset=utf-7` and its aliases in a Content-Type value. */
const UTF7_CHARSET = /;\s*charset\s*=\s*"?(?:utf-?7|unicode-1-1-utf-7|csunicode11utf7)"?\s*(?:;|$)/i;

/** A shifted sequence: `+`, modified base64 (no padding), an optional closing `-`. */
const SHIFTED = /\+([A-Za-z0-9+/]*)-?/g;

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * True when the message's top-level Content-Type declares UTF-7. Only a
 * single-part body can be recognised from the top-level headers; parts of a
 * multipart mail need their own charset, which `MailInput` does not carry.
 */
export function declaresUtf7(headers: Readonly<Record<string, readonly string[]>>): boolean {
  return (headers['content-type'] ?? []).some((v) => UTF7_CHARSET.test(v));
}

/** Decodes UTF-7 text: `Gr+APw-+AN8-e` -> `Grüße`, `+-` -> `+`; bits left over are dropped. */
export function decodeUtf7(s: string): string {
  return s.replace(SHIFTED, (match, b64: string) => {
    if (b64 === '') return match === '+-' ? '+' : match;
    const units: number[] = [];
    let bits = 0;
    let count = 0;
    for (const ch of b64) {
      bits = ((bits << 6) | BASE64.indexOf(ch)) & 0xffffff;
      count += 6;
      if (count >= 16) {
        count -= 16;
        units.push((bits >> count) & 0xffff);
      }
    }
    // Surrogate pairs are two 16-bit units in UTF-7 too, so fromCharCode rebuilds them.
    return String.fromCharCode(...units);
  });
}
