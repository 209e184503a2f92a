import type { MailInput } from './types';
import { organisationEntry } from './received-path';

/** One `method=result` entry (RFC 8601 `resinfo`) of an Authentication-Results header. */
export interface AuthResult {
  /** Lower-cased method without its version (`dkim`, `spf`, `dmarc`, ...). */
  method: string;
  /** Lower-cased result keyword (`pass`, `fail`, `none`, ...). */
  result: string;
  /**
   * `reason` and every `ptype.property` (lower-cased key, e.g. `header.from`,
   * `header.d`, `smtp.mailfrom`) mapped to its value, unquoted. A repeated key keeps
   * its first value.
   */
  props: Record<string, string>;
}

/** A parsed Authentication-Results header value. */
export interface ParsedAuthResults {
  /** The authserv-id as written (compare it case-insensitively). */
  authservId: string;
  /** Empty for the `none` result set ("no authentication was done"). */
  results: AuthResult[];
}

/**
 * Parses the value of one Authentication-Results header (RFC 8601 §2.2):
 *
 * ```
 * authserv-id [ CFWS authres-version ] ( "; none" / 1*( ";" method[/ver]=result
 *   [reason=value] *(ptype.property=pvalue) ) )
 * ```
 *
 * Comments (nested, with quoted-pairs) are dropped wherever CFWS is allowed, and
 * quoted strings are unquoted, so `(dkim=pass)` inside a comment never counts.
 * A value is read up to the next whitespace or `;`, which also accepts the unquoted
 * `/`, `+` and `=` that real MTAs write in `header.b=`.
 *
 * @returns `null` when no authserv-id can be read, when a version other than 1 is
 * given (RFC 8601 §2.2 defines only version 1; other versions are not ours to
 * interpret), or when a result set is malformed. Callers treat `null` as "no results".
 */
export function parseAuthenticationResults(headerValue: string): ParsedAuthResults | null {
  const segments = splitSegments(headerValue);
  if (segments === null) return null;
  // A trailing ";" leaves an empty segment; tolerate it, as many MTAs write one.
  const [head = [], ...rest] = segments.filter((words, i) => i === 0 || words.length > 0);
  // head = authserv-id [version]. A head like `dkim = pass` (a missing authserv-id)
  // has more words and is rejected, so a method can never pose as an authserv-id.
  const [authservId, version, ...extra] = head;
  if (authservId === undefined || authservId.text === '' || extra.length > 0) return null;
  if (!authservId.quoted && authservId.text.includes('=')) return null;
  if (version !== undefined && (version.quoted || !/^0*1$/.test(version.text))) return null;

  // `no-result` (RFC 8601 §2.2): exactly one further segment reading `none`.
  const only = rest.length === 1 && rest[0]?.length === 1 ? rest[0][0] : undefined;
  if (only !== undefined && !only.quoted && asciiLower(only.text) === 'none') {
    return { authservId: authservId.text, results: [] };
  }
  const results: AuthResult[] = [];
  for (const words of rest) {
    const res = parseResinfo(words);
    if (res === null) return null;
    results.push(res);
  }
  if (results.length === 0) return null;
  return { authservId: authservId.text, results };
}

/**
 * The Authentication-Results that the configured MTA added, or `null`.
 *
 * Only headers whose authserv-id equals `authservId` (ASCII case-insensitive) count;
 * headers from any other authserv-id are foreign or forged and ignored (RFC 8601 §5,
 * §7.1). The trusted MTA prepends its header, so the topmost header carrying our id
 * is the one it wrote; anything with our id further down came with the message.
 * If that topmost header cannot be parsed, the result is `null`: we never fall
 * through to a lower (possibly forged) header with our id.
 *
 * With `trustedReceivedBy` (`BLEND_TRUSTED_RECEIVED_BY`), only a header above the `Received`
 * header where the mail entered the organisation counts (`organisationEntry`): when the MTA
 * added none of its own for this mail (a milter that skipped it or failed open), a header
 * the sender wrote with our id sits below that point and is not believed. Without the
 * setting the topmost header with our id is believed, which is safe only while the MTA
 * strips incoming ones (docs/SECURITY.md, B8).
 */
export function trustedResults(mail: MailInput, authservId: string, trustedReceivedBy: readonly string[] = []): ParsedAuthResults | null {
  const want = asciiLower(authservId.trim());
  if (want === '') return null;
  const ours = (value: string): boolean => {
    const id = readAuthservId(value);
    return id !== null && asciiLower(id) === want;
  };
  if (trustedReceivedBy.length === 0) {
    const value = (mail.headers['authentication-results'] ?? []).find(ours);
    return value === undefined ? null : parseAuthenticationResults(value);
  }
  const fields = mail.headerFields ?? [];
  const entry = organisationEntry(fields, trustedReceivedBy);
  for (let i = 0; i < entry; i++) {
    const [name, value] = fields[i]!;
    if (name === 'authentication-results' && ours(value)) return parseAuthenticationResults(value);
  }
  return null;
}

/** A word of a segment, and whether it began or ended with a quoted-string. */
interface Word {
  text: string;
  quoted: boolean;
  endsQuoted: boolean;
}

/**
 * Reads only the authserv-id, so that {@link trustedResults} can recognise our own
 * header even when the rest of it does not parse.
 */
function readAuthservId(value: string): string | null {
  const first = splitSegments(value)?.[0]?.[0];
  return first === undefined || (!first.quoted && first.text.includes('=')) ? null : first.text;
}

/**
 * Splits a header value into `;`-separated segments of whitespace-separated words,
 * with comments removed and quoted-strings unquoted. `=` and `.` stay inside words
 * (`header.d=corp.test` is one word; {@link joinPairs} re-joins `a = b`).
 * @returns null on an unterminated comment or quoted-string.
 */
function splitSegments(value: string): Word[][] | null {
  const segments: Word[][] = [[]];
  let word = null as Word | null;
  const flush = (): void => {
    if (word !== null) segments[segments.length - 1]?.push(word);
    word = null;
  };
  for (let i = 0; i < value.length; i++) {
    const c = value[i] ?? '';
    if (c === '(') {
      // RFC 5322 §3.2.2 comment: nests, and a quoted-pair may escape a parenthesis.
      flush();
      let depth = 1;
      for (i++; i < value.length && depth > 0; i++) {
        const d = value[i];
        if (d === '\\') i++;
        else if (d === '(') depth++;
        else if (d === ')') depth--;
      }
      if (depth > 0) return null;
      i--;
    } else if (c === '"') {
      // RFC 5322 §3.2.4 quoted-string: a whole value, or the local-part of
      // `"a b"@corp.test` (RFC 8601 pvalue), so it joins the current word.
      let text = '';
      for (i++; i < value.length && value[i] !== '"'; i++) {
        if (value[i] === '\\') i++;
        text += value[i] ?? '';
      }
      if (i >= value.length) return null;
      word = { text: (word?.text ?? '') + text, quoted: word?.quoted ?? true, endsQuoted: true };
    } else if (c === ';') {
      flush();
      segments.push([]);
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      flush();
    } else {
      word = { text: (word?.text ?? '') + c, quoted: word?.quoted ?? false, endsQuoted: false };
    }
  }
  flush();
  return segments;
}

/** Parses `method[/version] = result *(key = value)` from the words of one segment. */
function parseResinfo(words: Word[]): AuthResult | null {
  const pairs = joinPairs(words);
  if (pairs === null) return null;
  const [first, ...others] = pairs;
  if (first === undefined) return null;
  const method = asciiLower(first.key.replace(/\/.*$/, ''));
  const result = asciiLower(first.value);
  if (!/^[a-z0-9_-]+$/.test(method) || !/^[a-z0-9_-]+$/.test(result)) return null;
  const props: Record<string, string> = {};
  for (const { key, value } of others) {
    const k = asciiLower(key);
    if (!(k in props)) props[k] = value;
  }
  return { method, result, props };
}

/**
 * Turns `a=b`, `a = b`, `a= b` and `a =b` into key/value pairs (RFC 8601 allows
 * CFWS around "="). A `ptype . property` split by spaces is not re-joined: no MTA
 * is known to write it, and failing closed there costs nothing.
 */
function joinPairs(words: Word[]): { key: string; value: string }[] | null {
  const pairs: { key: string; value: string }[] = [];
  for (let i = 0; i < words.length; i++) {
    let w = words[i];
    if (w === undefined || w.quoted) return null;
    let text = w.text;
    const next = words[i + 1];
    if (!text.includes('=') && next !== undefined && !next.quoted && next.text.startsWith('=')) {
      text += next.text;
      w = next;
      i++;
    }
    const eq = text.indexOf('=');
    if (eq <= 0) return null;
    let value = text.slice(eq + 1);
    if (value === '' && !w.endsQuoted) {
      const v = words[++i];
      if (v === undefined) return null;
      value = v.text;
    }
    pairs.push({ key: text.slice(0, eq), value });
  }
  return pairs;
}

/** Lower-cases ASCII only, so a non-ASCII look-alike never folds onto our id. */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}
