import type { BodyDoubt } from '@blend/core';

/**
 * Which MIME parts of a mail are its body. mailparser joins every inline text/plain part into
 * `text`, so a named text file sent without a Content-Disposition (RFC 2183 makes the header
 * optional) and a second text/plain alternative both end up in the post. This reads the part
 * structure before parsing (headers only, no decoding) and marks such parts as attachments in
 * the raw source, so the parser keeps them apart. A mail that declares a multipart body but has
 * no part boundaries is read as the plain text it is.
 */

/** A MIME part as found in the raw source (latin1 offsets). */
interface Part {
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
  children: Part[];
}

/** Header marking a text/plain alternative Blend does not read; such parts are not attachments either. */
export const UNUSED_ALTERNATIVE_HEADER = 'x-blend-unused-alternative';

/** What {@link prepareBodyParts} changed. */
export interface PreparedSource {
  raw: Buffer;
  doubt: BodyDoubt | null;
  /** The Content-Type header as the mail declared it, when the source was changed to text/plain. */
  declaredType?: string;
}

/** Nesting followed at most: the MIME limits (docs/SECURITY.md B3) bound real mail far below. */
const MAX_DEPTH = 32;

/**
 * The raw message with its body parts made explicit: named text parts that are not the first
 * text of the mail become attachments, text/plain alternatives after the first are marked
 * unused, and a multipart message without any boundary line becomes text/plain (`doubt`:
 * `no_mime_parts`). Returns the input itself when nothing needs changing.
 */
export function prepareBodyParts(raw: Buffer): PreparedSource {
  const text = raw.toString('latin1');
  const root = readPart(text, 0, text.length, 0);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const edits: Array<{ at: number; end: number; insert: string }> = [];
  if (root.type.startsWith('multipart/') && root.children.length === 0 && root.contentType) {
    const declaredType = text.slice(root.contentType.start, root.contentType.end).replace(/\r?\n[ \t]+/g, ' ').trim();
    edits.push({ at: root.contentType.start, end: root.contentType.end, insert: ' text/plain' });
    return { raw: apply(text, edits), doubt: 'no_mime_parts', declaredType };
  }
  let firstText = true;
  const visit = (part: Part) => {
    if (part.type.startsWith('multipart/')) {
      let plainSeen = false;
      for (const child of part.children) {
        if (part.type === 'multipart/alternative' && child.type === 'text/plain' && child.disposition?.type !== 'attachment') {
          if (plainSeen) {
            edits.push({ at: child.headerStart, end: child.headerStart, insert: `${UNUSED_ALTERNATIVE_HEADER}: 1${eol}` });
            edits.push(asAttachment(child, eol));
            continue;
          }
          plainSeen = true;
        }
        visit(child);
      }
      return;
    }
    if (!part.type.startsWith('text/') || part.disposition?.type === 'attachment') return;
    if (!firstText && hasFilename(part)) edits.push(asAttachment(part, eol));
    firstText = false;
  };
  visit(root);
  return { raw: edits.length ? apply(text, edits) : raw, doubt: null };
}

function hasFilename(part: Part): boolean {
  const named = (params: Map<string, string>, key: string) => [...params.keys()].some((k) => k === key || k.startsWith(`${key}*`));
  return named(part.params, 'name') || (part.disposition !== null && named(part.disposition.params, 'filename'));
}

function asAttachment(part: Part, eol: string): { at: number; end: number; insert: string } {
  const d = part.disposition;
  if (d) return { at: d.at, end: d.at + d.type.length, insert: 'attachment' };
  return { at: part.headerStart, end: part.headerStart, insert: `Content-Disposition: attachment${eol}` };
}

function apply(text: string, edits: Array<{ at: number; end: number; insert: string }>): Buffer {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.at - a.at)) out = out.slice(0, e.at) + e.insert + out.slice(e.end);
  return Buffer.from(out, 'latin1');
}

function readPart(text: string, start: number, end: number, depth: number): Part {
  const blank = headerBlockEnd(text, start, end);
  const headerEnd = blank.at;
  const part: Part = {
    headerStart: start, headerEnd, bodyStart: blank.body, bodyEnd: end,
    type: 'text/plain', params: new Map(), disposition: null, contentType: null, children: [],
  };
  const headerRe = /(?:^|\n)(content-type|content-disposition)[ \t]*:((?:[^\n]*)(?:\n[ \t][^\n]*)*)/gi;
  const block = text.slice(start, headerEnd);
  for (let m = headerRe.exec(block); m; m = headerRe.exec(block)) {
    const valueStart = start + m.index + m[0].indexOf(':') + 1;
    const value = (m[2] ?? '').replace(/\r?\n[ \t]+/g, ' ').replace(/\r$/, '');
    const [head = '', ...rest] = splitParams(value);
    const params = new Map(rest.map(parseParam).filter((p): p is [string, string] => p !== null));
    if ((m[1] ?? '').toLowerCase() === 'content-type') {
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
function headerBlockEnd(text: string, start: number, end: number): { at: number; body: number } {
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
function childRanges(text: string, start: number, end: number, boundary: string): Array<[number, number]> {
  const delimiter = `--${boundary}`;
  const out: Array<[number, number]> = [];
  let open = -1;
  let at = text.indexOf(delimiter, start);
  while (at >= 0 && at < end) {
    const lineStart = at === 0 || text[at - 1] === '\n';
    const after = at + delimiter.length;
    const closing = text.startsWith('--', after);
    const lineEnd = text.indexOf('\n', after);
    const rest = text.slice(after + (closing ? 2 : 0), lineEnd < 0 ? end : lineEnd);
    if (lineStart && /^[ \t\r]*$/.test(rest)) {
      // The CRLF before a delimiter belongs to the delimiter.
      if (open >= 0) out.push([open, at - (text[at - 2] === '\r' ? 2 : 1)]);
      if (closing) return out;
      open = lineEnd < 0 ? end : lineEnd + 1;
    }
    at = text.indexOf(delimiter, after);
  }
  if (open >= 0) out.push([open, end]);
  return out;
}

/** `value; a=b; c="d;e"` split at the semicolons outside quotes. */
function splitParams(value: string): string[] {
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

/**
 * A text body without its uuencoded files (`begin 644 name` … `end`, as Lotus Notes and old
 * Unix mailers append them) and the lines that announce them: "(See attached file: name)",
 * "(UUEncoded file named: name follows)", "(Its format is: …)". The file is not text the
 * author wrote; shown, it is thousands of lines of noise.
 */
export function withoutUuencodedFiles(text: string): string {
  if (!/^begin [0-7]{3,4} \S/m.test(text)) return text;
  const names = new Set<string>();
  const kept: string[] = [];
  let inFile = false;
  for (const line of text.split('\n')) {
    const begin = /^begin [0-7]{3,4} (.+?)\r?$/.exec(line);
    if (!inFile && begin) {
      inFile = true;
      names.add(begin[1] ?? '');
      continue;
    }
    if (inFile) {
      if (/^end\r?$/.test(line)) inFile = false;
      continue;
    }
    kept.push(line);
  }
  const announces = (line: string) => {
    const m = /^\((?:See attached file|UUEncoded file named): (.+?)(?: follows)?\)\s*$/.exec(line.trim()) ?? null;
    return (m !== null && names.has(m[1] ?? '')) || /^\(Its format is: [^)]*\)\s*$/.test(line.trim());
  };
  return kept.filter((line) => !announces(line)).join('\n');
}
