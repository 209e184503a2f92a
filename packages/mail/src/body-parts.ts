import type { BodyDoubt } from '@blend/core';
import { judgeCharset, relabel } from './body-charset';
import { latin1View, readMimeTree, type Latin1Text, type Part } from './mime-structure';

/**
 * Which MIME parts of a mail are its body. mailparser joins every inline text/plain part into
 * `text`, so a named text file sent without a Content-Disposition (RFC 2183 makes the header
 * optional) and a second text/plain alternative both end up in the post. This reads the part
 * structure before parsing (headers only, no decoding) and marks such parts as attachments in
 * the raw source, so the parser keeps them apart. A mail that declares a multipart body but has
 * no part boundaries is read as the plain text it is, and a body part's charset label is
 * checked against its bytes.
 */

/** Header marking a text/plain alternative Blend does not read; such parts are not attachments either. */
export const UNUSED_ALTERNATIVE_HEADER = 'x-blend-unused-alternative';

/** Messages larger than this are scanned in place ({@link latin1View}) rather than as a string. */
export const IN_PLACE_BYTES = 64 * 1024;

/** What {@link prepareBodyParts} changed. */
export interface PreparedSource {
  raw: Buffer;
  doubt: BodyDoubt | null;
  /**
   * The message's own Content-Type when the source given to the parser says something else
   * (null: it had none), so the headers Blend records stay the mail's. Absent when unchanged.
   */
  declaredType?: string | null;
  /** A body part inside a multipart declares UTF-7, which the parser does not decode. */
  utf7: { text: boolean; html: boolean };
  /** The charset guessed for a body part without a usable label, if one was. */
  guessed: string | null;
}

/** Text `insert` in place of the bytes from `at` to `end` (latin1 offsets; equal for an insertion). */
export type Edit = { at: number; end: number; insert: string };

const UTF7_LABEL = /^(?:utf-?7|unicode-1-1-utf-7|csunicode11utf7)$/i;

/**
 * The raw message with its body parts made explicit: named text parts that are not the first
 * text of the mail become attachments, text/plain alternatives after the first are marked
 * unused, body parts whose charset label does not fit their bytes are relabelled (see
 * {@link judgeCharset}), and a multipart message without any boundary line becomes text/plain
 * (`doubt`: `no_mime_parts`). Returns the input itself when nothing needs changing.
 */
export function prepareBodyParts(raw: Buffer): PreparedSource {
  // A large message's bytes are read as latin1 in place: a string copy would be as large as the
  // mail (13 MB for a 10 MB file) on the parse thread's heap. A small one's string is cheaper to search.
  const text: Latin1Text = raw.length > IN_PLACE_BYTES ? latin1View(raw) : raw.toString('latin1');
  const root = readMimeTree(text);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const declared = root.contentType ? text.slice(root.contentType.start, root.contentType.end).replace(/\r?\n[ \t]+/g, ' ').trim() : null;
  const utf7 = { text: false, html: false };
  if (root.type.startsWith('multipart/') && root.children.length === 0 && root.contentType) {
    const edit = { at: root.contentType.start, end: root.contentType.end, insert: ' text/plain' };
    return { raw: applyEdits(raw, [edit]), doubt: 'no_mime_parts', declaredType: declared, utf7, guessed: null };
  }
  const edits: Edit[] = [];
  let doubt: BodyDoubt | null = null;
  let guessed: string | null = null;
  let firstText = true;
  const body = (part: Part) => {
    const charset = part.params.get('charset') ?? '';
    if (UTF7_LABEL.test(charset)) {
      // A single-part UTF-7 mail is decoded in conversion, from the top-level header.
      if (part !== root) utf7[part.type === 'text/html' ? 'html' : 'text'] = true;
      return;
    }
    const verdict = judgeCharset(text, part);
    if (verdict.kind === 'as_declared') return;
    edits.push(relabel(text, part, verdict.kind === 'utf8' ? 'utf-8' : verdict.charset, eol));
    if (verdict.kind === 'guessed') {
      doubt = 'charset_guessed';
      guessed ??= verdict.charset;
    }
  };
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
    if (!firstText && hasFilename(part)) {
      edits.push(asAttachment(part, eol));
      return;
    }
    firstText = false;
    if (part.type === 'text/plain' || part.type === 'text/html') body(part);
  };
  visit(root);
  if (edits.length === 0) return { raw, doubt, utf7, guessed };
  const rootTouched = edits.some((e) => e.at <= root.headerEnd);
  return { raw: applyEdits(raw, edits), doubt, utf7, guessed, ...(rootTouched ? { declaredType: declared } : {}) };
}

function hasFilename(part: Part): boolean {
  const named = (params: Map<string, string>, key: string) => [...params.keys()].some((k) => k === key || k.startsWith(`${key}*`));
  return named(part.params, 'name') || (part.disposition !== null && named(part.disposition.params, 'filename'));
}

function asAttachment(part: Part, eol: string): Edit {
  const d = part.disposition;
  if (d) return { at: d.at, end: d.at + d.type.length, insert: 'attachment' };
  return { at: part.headerStart, end: part.headerStart, insert: `Content-Disposition: attachment${eol}` };
}

/**
 * The message with the edits made, each at its offset in the original, the last one first (of
 * two at the same offset, the one listed later first), as the bytes between them and each
 * edit's text in latin1. Edits that overlap are made one after another on the whole text.
 */
export function applyEdits(raw: Buffer, edits: readonly Edit[]): Buffer {
  const lastFirst = [...edits].sort((a, b) => b.at - a.at);
  const inOrder = lastFirst.reverse();
  if (inOrder.some((e, i) => e.end < e.at || (i > 0 && inOrder[i - 1]!.end > e.at))) return applyOneByOne(raw.toString('latin1'), edits);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const e of inOrder) {
    pieces.push(raw.subarray(from, e.at), Buffer.from(e.insert, 'latin1'));
    from = e.end;
  }
  pieces.push(raw.subarray(from));
  return Buffer.concat(pieces);
}

/** The edits made on the text one after another, the last first (what {@link applyEdits} gives when none overlap). */
export function applyOneByOne(text: string, edits: readonly Edit[]): Buffer {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.at - a.at)) out = out.slice(0, e.at) + e.insert + out.slice(e.end);
  return Buffer.from(out, 'latin1');
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
