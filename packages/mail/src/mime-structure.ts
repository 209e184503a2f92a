/**
 * The MIME part tree of a raw message, read from its headers and boundary lines only (RFC 2045,
 * RFC 2046 section 5.1.1): nothing is decoded. Offsets are into the message read as latin1, so
 * an edit at an offset maps back onto the raw bytes one to one.
 */

/**
 * The raw message read as latin1 (one character a byte): what the part scan reads. A string is
 * one; {@link latin1View} is one over the bytes themselves, so a large mail is not copied into
 * a string of its size for the scan.
 */
export interface Latin1Text {
  readonly length: number;
  indexOf(search: string, from?: number): number;
  startsWith(search: string, at?: number): boolean;
  includes(search: string): boolean;
  /** As String.prototype.slice. */
  slice(start?: number, end?: number): string;
  charAt(at: number): string;
}

/** Where a String.prototype.slice bound `i` lands in a text of `length` (negative: from the end). */
function sliceBound(i: number | undefined, length: number, dflt: number): number {
  if (i === undefined) return dflt;
  const n = Math.trunc(i) || 0;
  return n < 0 ? Math.max(0, length + n) : Math.min(n, length);
}

/** `raw` as {@link Latin1Text}, reading the bytes in place: each method answers as the same method of `raw.toString('latin1')`. */
export function latin1View(raw: Buffer): Latin1Text {
  const length = raw.length;
  // A position as String.prototype.indexOf and startsWith take it: clamped to [0, length].
  const position = (at: number | undefined) => Math.min(Math.max(Math.trunc(at ?? 0) || 0, 0), length);
  return {
    length,
    indexOf: (search, from) => {
      const at = position(from);
      if (search.length === 0) return at;
      return raw.indexOf(search, at, 'latin1');
    },
    startsWith: (search, at) => {
      const from = position(at);
      return from + search.length <= length && raw.toString('latin1', from, from + search.length) === search;
    },
    includes: (search) => search.length === 0 || raw.indexOf(search, 0, 'latin1') >= 0,
    slice: (start, end) => {
      const from = sliceBound(start, length, 0);
      const to = sliceBound(end, length, length);
      return to > from ? raw.toString('latin1', from, to) : '';
    },
    charAt: (at) => {
      const i = Math.trunc(at) || 0;
      return i >= 0 && i < length ? String.fromCharCode(raw[i]!) : '';
    },
  };
}

/** A MIME part as found in the raw source (latin1 offsets). */
export interface Part {
  /** Where the part's header block starts and ends (the end is the blank line). */
  headerStart: number;
  headerEnd: number;
  bodyStart: number;
  bodyEnd: number;
  type: string;
  params: Map<string, string>;
  disposition: { type: string; params: Map<string, string>; at: number } | null;
  /** Where the Content-Type header's value starts and ends, when there is one. */
  contentType: { start: number; end: number } | null;
  /** Content-Transfer-Encoding, lower-cased; `7bit` when absent. */
  encoding: string;
  children: Part[];
}

/** Nesting followed at most: the MIME limits (docs/SECURITY.md B3) bound real mail far below. */
const MAX_DEPTH = 32;

/** The part tree of a message (`text` is the raw message as latin1: a string, or {@link latin1View} of its bytes). */
export function readMimeTree(text: Latin1Text): Part {
  return readPart(text, 0, text.length, 0);
}

function readPart(text: Latin1Text, start: number, end: number, depth: number): Part {
  const blank = headerBlockEnd(text, start, end);
  const headerEnd = blank.at;
  const part: Part = {
    headerStart: start, headerEnd, bodyStart: blank.body, bodyEnd: end,
    type: 'text/plain', params: new Map(), disposition: null, contentType: null, encoding: '7bit', children: [],
  };
  const headerRe = /(?:^|\n)(content-type|content-disposition|content-transfer-encoding)[ \t]*:((?:[^\n]*)(?:\n[ \t][^\n]*)*)/gi;
  const block = text.slice(start, headerEnd);
  for (let m = headerRe.exec(block); m; m = headerRe.exec(block)) {
    const valueStart = start + m.index + m[0].indexOf(':') + 1;
    const value = (m[2] ?? '').replace(/\r?\n[ \t]+/g, ' ').replace(/\r$/, '');
    const [head = '', ...rest] = splitParams(value);
    const params = new Map(rest.map(parseParam).filter((p): p is [string, string] => p !== null));
    const name = (m[1] ?? '').toLowerCase();
    if (name === 'content-transfer-encoding') {
      part.encoding = head.trim().toLowerCase();
    } else if (name === 'content-type') {
      if (part.contentType) continue;
      part.type = head.trim().toLowerCase() || 'text/plain';
      part.params = params;
      part.contentType = { start: valueStart, end: valueStart + (m[2] ?? '').replace(/\r$/, '').length };
    } else if (!part.disposition) {
      const lead = (m[2] ?? '').length - (m[2] ?? '').trimStart().length;
      part.disposition = { type: head.trim().toLowerCase(), params, at: valueStart + lead };
    }
  }
  const boundary = part.params.get('boundary');
  if (part.type.startsWith('multipart/') && boundary && depth < MAX_DEPTH) {
    part.children = childRanges(text, blank.body, end, boundary).map(([s, e]) => readPart(text, s, e, depth + 1));
  }
  return part;
}

/** The blank line that ends the header block starting at `start`, and where the body begins. */
function headerBlockEnd(text: Latin1Text, start: number, end: number): { at: number; body: number } {
  // A part that starts with a blank line has no headers.
  if (text.startsWith('\r\n', start)) return { at: start, body: start + 2 };
  if (text.startsWith('\n', start)) return { at: start, body: start + 1 };
  const crlf = text.indexOf('\r\n\r\n', start);
  const lf = text.indexOf('\n\n', start);
  const candidates = [crlf >= 0 && crlf < end ? { at: crlf + 2, body: crlf + 4 } : null, lf >= 0 && lf < end ? { at: lf + 1, body: lf + 2 } : null]
    .filter((c): c is { at: number; body: number } => c !== null)
    .sort((a, b) => a.at - b.at);
  return candidates[0] ?? { at: end, body: end };
}

/** The [start, end) ranges of the parts between `--boundary` lines (RFC 2046 section 5.1.1). */
function childRanges(text: Latin1Text, start: number, end: number, boundary: string): Array<[number, number]> {
  const delimiter = `--${boundary}`;
  const out: Array<[number, number]> = [];
  let open = -1;
  let at = text.indexOf(delimiter, start);
  while (at >= 0 && at < end) {
    const lineStart = at === 0 || text.charAt(at - 1) === '\n';
    const after = at + delimiter.length;
    const closing = text.startsWith('--', after);
    const lineEnd = text.indexOf('\n', after);
    const rest = text.slice(after + (closing ? 2 : 0), lineEnd < 0 ? end : lineEnd);
    if (lineStart && /^[ \t\r]*$/.test(rest)) {
      // The CRLF before a delimiter belongs to the delimiter.
      if (open >= 0) out.push([open, at - (text.charAt(at - 2) === '\r' ? 2 : 1)]);
      if (closing) return out;
      open = lineEnd < 0 ? end : lineEnd + 1;
    }
    at = text.indexOf(delimiter, after);
  }
  if (open >= 0) out.push([open, end]);
  return out;
}

/** `value; a=b; c="d;e"` split at the semicolons outside quotes. */
export function splitParams(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    if (ch === ';' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function parseParam(p: string): [string, string] | null {
  const eq = p.indexOf('=');
  if (eq < 0) return null;
  const key = p.slice(0, eq).trim().toLowerCase();
  const value = p.slice(eq + 1).trim().replace(/^"(.*)"$/s, '$1');
  return key ? [key, value] : null;
}
