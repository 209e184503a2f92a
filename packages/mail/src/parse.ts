import { Readable } from 'node:stream';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import {
  cleanDisplayName,
  decodeUtf7,
  envelopeRecipients,
  normaliseMessageId,
  parseIdList,
  parseInReplyTo,
  PermanentError,
  stripControlChars,
  type Address,
  type MailInput,
} from '@blend/core';
import { decodeRawHeader } from './body-charset';
import { prepareBodyParts, UNUSED_ALTERNATIVE_HEADER, withoutUuencodedFiles } from './body-parts';

/** Caps against MIME bombs (docs/SECURITY.md B3). @defaultValue see DEFAULT_MIME_LIMITS */
export interface MimeLimits {
  maxHeaderBytes: number;
  maxParts: number;
  /** Multipart containers (each has its own boundary): bounds the nesting depth. */
  maxMultiparts: number;
  maxHtmlChars: number;
}

export const DEFAULT_MIME_LIMITS: MimeLimits = {
  maxHeaderBytes: 256 * 1024,
  maxParts: 500,
  maxMultiparts: 32,
  maxHtmlChars: 2 * 1024 * 1024,
};

/** A file that came with a mail, as the parser found it. */
export interface ParsedAttachment {
  filename: string | null;
  contentType: string;
  size: number;
  content: Buffer;
  /** `Content-ID` without brackets, for `cid:` references from the HTML. */
  contentId: string | null;
  /** Shown within the message (a `cid:` image of multipart/related), not attached. */
  inline: boolean;
  /** What the virus scanner found in it; set by the worker before the file is stored. */
  infected?: string | null;
}

export interface ParsedInbound {
  mail: MailInput;
  attachments: ParsedAttachment[];
}

/**
 * Check the raw source against the caps before handing it to the parser, so a crafted
 * mail fails fast with `MIME_LIMITS` instead of tying up a worker.
 */
export function checkMimeLimits(raw: Buffer, limits: MimeLimits = DEFAULT_MIME_LIMITS): void {
  const headerEnd = indexOfHeaderEnd(raw);
  if ((headerEnd < 0 ? raw.length : headerEnd) > limits.maxHeaderBytes) {
    throw new PermanentError('MIME_LIMITS', `header block exceeds ${limits.maxHeaderBytes} bytes`);
  }
  // Each MIME part has its own Content-Type header; counting them bounds the part tree
  // without parsing it. Counted on the bytes: a large mail is not copied into a string for it.
  const { parts, boundaries } = mimeCounts(raw);
  if (parts > limits.maxParts) {
    throw new PermanentError('MIME_LIMITS', `message has ${parts} MIME parts (limit ${limits.maxParts})`);
  }
  // Siblings share their parent's boundary, so distinct boundaries count the multipart
  // containers: a nesting depth of N needs N of them (docs/SECURITY.md B3 caps depth at 20).
  if (boundaries > limits.maxMultiparts) {
    throw new PermanentError('MIME_LIMITS', `message has ${boundaries} nested or sibling multiparts (limit ${limits.maxMultiparts})`);
  }
}

const CONTENT_TYPE = Buffer.from('content-type:');
const BOUNDARY = Buffer.from('boundary');
const CR = 0x0d;
const LF = 0x0a;
const QUOTE = 0x22;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const HYPHEN = 0x2d;

/** `\s` of a regular expression, for a byte read as latin1: tab, LF, VT, FF, CR, space, no-break space. */
const isSpace = (b: number): boolean => (b >= 0x09 && b <= 0x0d) || b === 0x20 || b === 0xa0;
/** `[^";\r\n]`. */
const inValue = (b: number): boolean => b !== QUOTE && b !== SEMICOLON && b !== CR && b !== LF;

/** Whether `word` (lower-case ASCII) is at `at`, its letters in either case. */
function wordAt(raw: Buffer, at: number, word: Buffer): boolean {
  if (at + word.length > raw.length) return false;
  for (let i = 0; i < word.length; i++) {
    const b = raw[at + i]!;
    const w = word[i]!;
    if (b !== w && !(w >= 0x61 && w <= 0x7a && b === w - 0x20)) return false;
  }
  return true;
}

/**
 * What {@link checkMimeLimits} counts, read from the bytes: the lines that start with
 * `Content-Type:` (what `/^content-type:/gim` finds in the message as latin1), and the distinct
 * texts of `/boundary\s*=\s*"?[^";\r\n]+/gi`, matched as that expression matches them. The
 * bytes are searched natively (`indexOf`) for hyphens and equals signs; only those are looked
 * at more closely.
 */
export function mimeCounts(raw: Buffer): { parts: number; boundaries: number } {
  let parts = 0;
  // Each `Content-Type:` has one hyphen, seven bytes in; base64 (a large mail's files) has none.
  for (let at = raw.indexOf(HYPHEN, CONTENT_TYPE.indexOf(HYPHEN)); at >= 0; at = raw.indexOf(HYPHEN, at + 1)) {
    const start = at - CONTENT_TYPE.indexOf(HYPHEN);
    // At the start of a line: after LF or CR, as `^` with the `m` flag.
    if ((start === 0 || raw[start - 1] === LF || raw[start - 1] === CR) && wordAt(raw, start, CONTENT_TYPE)) parts++;
  }
  const seen = new Set<string>();
  // Each `=` after `boundary` and spaces is where a match may start, in the order of their
  // starts; matches do not overlap, so the next is searched from the end of the last one.
  let from = 0;
  for (let eq = raw.indexOf(EQUALS); eq >= 0; eq = raw.indexOf(EQUALS, eq + 1)) {
    let start = eq;
    while (start > 0 && isSpace(raw[start - 1]!)) start--;
    start -= BOUNDARY.length;
    if (start < from || !wordAt(raw, start, BOUNDARY)) continue;
    const end = boundaryMatchEnd(raw, start + BOUNDARY.length);
    if (end < 0) continue;
    seen.add(raw.toString('latin1', start, end));
    from = end;
    // The next `=` to look at is past this match.
    if (end - 1 > eq) eq = end - 1;
  }
  return { parts, boundaries: seen.size };
}

/**
 * Where a match of `\s*=\s*"?[^";\r\n]+` starting at `at` ends (the rest of the boundary
 * expression after its word), with the expression's greedy, backtracking choices; -1 when none.
 */
function boundaryMatchEnd(raw: Buffer, at: number): number {
  const n = raw.length;
  let i = at;
  while (i < n && isSpace(raw[i]!)) i++;
  if (i >= n || raw[i] !== EQUALS) return -1;
  const wsStart = i + 1;
  let wsEnd = wsStart;
  while (wsEnd < n && isSpace(raw[wsEnd]!)) wsEnd++;
  const run = (from: number): number => {
    let j = from;
    while (j < n && inValue(raw[j]!)) j++;
    return j;
  };
  // All the spaces taken, with the quote, then without it; then one space fewer at a time,
  // where the value starts at that space (not a quote, so `"?` is empty).
  if (wsEnd < n && raw[wsEnd] === QUOTE && wsEnd + 1 < n && inValue(raw[wsEnd + 1]!)) return run(wsEnd + 1);
  if (wsEnd < n && inValue(raw[wsEnd]!)) return run(wsEnd);
  for (let k = wsEnd - 1; k >= wsStart; k--) if (inValue(raw[k]!)) return run(k);
  return -1;
}

function indexOfHeaderEnd(raw: Buffer): number {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (crlf < 0) return lf;
  if (lf < 0) return crlf;
  return Math.min(crlf, lf);
}

/**
 * The message without blank lines before its first header line. Mailbox files and fixtures
 * stored from mbox sometimes start with one; read literally, it ends an empty header
 * (RFC 5322 section 2.1) and the whole message becomes body text.
 */
export function withoutLeadingBlankLines(raw: Buffer): Buffer {
  let i = 0;
  while (i < raw.length && i < 64 && (raw[i] === 0x0a || raw[i] === 0x0d)) i++;
  if (i === 0 || !/^[!-9;-~]+:/.test(raw.subarray(i, i + 80).toString('latin1'))) return raw;
  return raw.subarray(i);
}

/**
 * A source larger than this is given to the parser in slices of it. Given the whole message as
 * one Buffer, mailparser decodes a base64 part in one piece: the part as a string, a second
 * string without its line breaks, then the bytes (a 10 MB file passed through some 27 MB of
 * strings on the parse thread's heap); in slices, each step holds one slice's worth.
 */
export const PARSER_SLICE_BYTES = 64 * 1024;

/** The source as the parser reads it: a small one as is, a larger one as a stream of slices of its bytes (views, not copies). */
export function parserInput(raw: Buffer): Buffer | Readable {
  if (raw.length <= PARSER_SLICE_BYTES) return raw;
  return Readable.from(
    (function* () {
      for (let at = 0; at < raw.length; at += PARSER_SLICE_BYTES) yield raw.subarray(at, at + PARSER_SLICE_BYTES);
    })(),
    { objectMode: false },
  );
}

/**
 * Parse a raw RFC 5322 message with mailparser into the normalised `MailInput` the
 * domain logic uses. Linkification and text-to-HTML are off (ReDoS bait, docs/SECURITY.md B4).
 */
export async function parseMail(source: Buffer, limits: MimeLimits = DEFAULT_MIME_LIMITS): Promise<ParsedInbound> {
  const raw = withoutLeadingBlankLines(source);
  checkMimeLimits(raw, limits);
  const prepared = prepareBodyParts(raw);
  let parsed: ParsedMail;
  try {
    parsed = await simpleParser(parserInput(prepared.raw), {
      // A delivery report's machine-readable part (RFC 3464) is not text for people: kept as a file.
      keepDeliveryStatus: true,
      skipTextToHtml: true,
      skipTextLinks: true,
      skipImageLinks: true,
      skipHtmlToText: true,
      maxHtmlLengthToParse: limits.maxHtmlChars,
      // A mail attached as a file (message/rfc822) stays one file, read as a forward by
      // splitAttachedMessages: merged in, its text would join the body and its files the post's.
      ...({ ignoreEmbedded: true } as object),
    });
  } catch (err) {
    throw new PermanentError('MALFORMED_MIME', `mailparser: ${(err as Error).message}`);
  }
  const headerFields = headerFieldList(parsed, prepared.declaredType);
  const headers = headerRecord(headerFields);
  const subject = readableSubject(parsed.subject ?? '', raw, prepared.guessed);
  const mail: MailInput = {
    messageId: normaliseMessageId(parsed.messageId ?? ''),
    // From the header lines, not mailparser's values: it splits References on whitespace and
    // brackets every word (`<Your>`, `<message>`), and brackets a whole In-Reply-To phrase, so
    // a phrase's words could no longer be told from ids.
    inReplyTo: parseInReplyTo(headers['in-reply-to']),
    references: parseIdList(headers['references']),
    subject: stripControlChars(subject),
    from: firstAddress(parsed.from),
    to: addresses(parsed.to),
    cc: addresses(parsed.cc),
    deliveredTo: envelopeRecipients(headers),
    date: parsed.date && !Number.isNaN(parsed.date.getTime()) ? parsed.date : null,
    headers,
    headerFields,
    text: typeof parsed.text === 'string' ? stripControlChars(withoutUuencodedFiles(bodyText(parsed.text, prepared.utf7.text))) : null,
    html: typeof parsed.html === 'string' ? bodyText(parsed.html, prepared.utf7.html) : null,
    // A guessed subject is no doubt about the body: confidence is about the author's text.
    doubt: prepared.doubt,
  };
  return {
    mail,
    attachments: parsed.attachments.filter((a) => !a.headers.has(UNUSED_ALTERNATIVE_HEADER)).map((a) => ({
      filename: a.filename ?? null,
      contentType: a.contentType,
      size: a.size,
      content: a.content,
      contentId: a.contentId ? a.contentId.replace(/^<|>$/g, '') : null,
      inline: Boolean(a.related) || (a.contentDisposition === 'inline' && Boolean(a.contentId)),
    })),
  };
}

/**
 * Every header field, topmost first, as `[lower-cased name, unfolded value]`. `declaredType`:
 * the Content-Type the mail declared (null: none) when the source given to the parser says
 * something else (see prepareBodyParts), so the headers stay the mail's own.
 */
function headerFieldList(parsed: ParsedMail, declaredType?: string | null): [string, string][] {
  const fields: [string, string][] = parsed.headerLines.map(({ key, line }) => {
    const colon = line.indexOf(':');
    return [key.toLowerCase(), (colon >= 0 ? line.slice(colon + 1) : '').replace(/\r?\n[ \t]+/g, ' ').trim()];
  });
  if (declaredType === undefined) return fields;
  const at = fields.findIndex(([name]) => name === 'content-type');
  if (at < 0) return fields;
  return declaredType === null ? fields.filter((_f, i) => i !== at) : fields.map((f, i): [string, string] => (i === at ? ['content-type', declaredType] : f));
}

/**
 * The subject as the parser read it, or, when it holds replacement characters because the
 * header was written in raw 8-bit bytes, those bytes read in the body's guessed charset or the
 * likeliest one for them.
 */
function readableSubject(parsed: string, raw: Buffer, hint: string | null): string {
  if (!parsed.includes('\uFFFD')) return parsed;
  const end = indexOfHeaderEnd(raw);
  const header = raw.subarray(0, end < 0 ? raw.length : end).toString('latin1');
  const value = /^subject:[ \t]*([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)/im.exec(header)?.[1]?.replace(/\r?\n[ \t]+/g, ' ').trim();
  const decoded = value === undefined ? null : decodeRawHeader(value, hint);
  return decoded ?? parsed;
}

/**
 * A body as the author's text: UTF-7 decoded when its part declared it (mailparser hands UTF-7
 * through undecoded, see decodeUtf7), and without U+FFFD, which marks a byte the charset could
 * not decode and tells a reader nothing.
 */
function bodyText(body: string, utf7: boolean): string {
  return (utf7 ? decodeUtf7(body) : body).replace(/\uFFFD/g, '');
}

function headerRecord(fields: [string, string][]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of fields) (out[name] ??= []).push(value);
  return out;
}

function addresses(field: AddressObject | AddressObject[] | undefined): Address[] {
  if (!field) return [];
  const list = Array.isArray(field) ? field : [field];
  const out: Address[] = [];
  for (const obj of list) {
    for (const a of obj.value) {
      // Group syntax ("undisclosed-recipients:;") nests addresses one level down.
      const members = a.group ?? [a];
      for (const m of members) {
        const address = canonicalAddress(m.address ?? '');
        if (address) out.push({ address, name: cleanDisplayName(m.name ?? '') });
      }
    }
  }
  return out;
}

function firstAddress(field: AddressObject | undefined): Address | null {
  return addresses(field)[0] ?? null;
}

/**
 * The addr-spec in canonical form (lower-case, IDNA domain), or null when it is not a
 * plain `local@domain`. Identity is only ever matched on this value, never a display name.
 */
export function canonicalAddress(raw: string): string | null {
  const s = raw.trim();
  const at = s.lastIndexOf('@');
  if (at <= 0 || at === s.length - 1) return null;
  const local = s.slice(0, at);
  if (/[\s<>(),;:\\"[\]]/.test(local) || local.length > 64) return null;
  let domain: string;
  try {
    domain = new URL(`http://${s.slice(at + 1)}`).hostname;
  } catch {
    return null;
  }
  if (!/^[a-z0-9.-]+$/.test(domain) || !domain.includes('.')) return null;
  return `${local.toLowerCase()}@${domain}`;
}
