/**
 * The soak benchmark's mail, written to a spool file before the run so that generating it
 * costs no CPU while Blend is measured, and the sources do not sit in the benchmark's heap:
 * the ingest corpus (scripts/bench/corpus.ts), with a large attachment added to every
 * `bigEvery`-th message.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { normaliseMessageId } from '@blend/core';
import { CorpusGenerator, type BenchPerson } from './corpus';

export interface SpooledMail {
  offset: number;
  length: number;
  date: Date;
  /** Normalised as Blend stores it: no angle brackets, domain lower-cased. */
  messageId: string;
  reply: boolean;
  big: boolean;
}

export interface Spool {
  file: string;
  mails: SpooledMail[];
  totalBytes: number;
  bigBytes: number;
  seconds: number;
}

export interface SpoolOptions {
  file: string;
  count: number;
  /** Every `bigEvery`-th message (1-based) carries the large attachment; 0: none. */
  bigEvery: number;
  /** Size of the large attachment's content (before base64). */
  bigBytes: number;
  seed: number;
  people: BenchPerson[];
  bridgeAddress: string;
  onProgress?: (done: number) => void;
}

/** Generate the mail into `opts.file` (truncated first); returns where each message is. */
export async function writeSpool(opts: SpoolOptions): Promise<Spool> {
  const started = Date.now();
  const generator = new CorpusGenerator({ seed: opts.seed, people: opts.people, bridgeAddress: opts.bridgeAddress });
  const fh = await open(opts.file, 'w');
  const mails: SpooledMail[] = [];
  let offset = 0;
  let bigBytes = 0;
  try {
    for (let i = 1; i <= opts.count; i++) {
      const m = await generator.next({ deliveredTo: true });
      const big = opts.bigEvery > 0 && i % opts.bigEvery === 0;
      const raw = big ? withAttachment(m.raw, bigAttachment(opts.seed, i, opts.bigBytes)) : m.raw;
      await fh.write(raw, 0, raw.length, offset);
      mails.push({ offset, length: raw.length, date: m.date, messageId: normaliseMessageId(m.messageId)!, reply: m.kind === 'reply', big });
      offset += raw.length;
      if (big) bigBytes += raw.length;
      if (i % 5000 === 0) opts.onProgress?.(i);
    }
  } finally {
    await fh.close();
  }
  return { file: opts.file, mails, totalBytes: offset, bigBytes, seconds: (Date.now() - started) / 1000 };
}

/** Reads spooled messages back one at a time. */
export async function openSpool(spool: Spool): Promise<{ read(m: SpooledMail): Promise<Buffer>; close(): Promise<void> }> {
  const fh: FileHandle = await open(spool.file, 'r');
  return {
    read: async (m) => {
      const buf = Buffer.allocUnsafe(m.length);
      const { bytesRead } = await fh.read(buf, 0, m.length, m.offset);
      if (bytesRead !== m.length) throw new Error(`spool ${spool.file}: read ${bytesRead} of ${m.length} bytes at ${m.offset}`);
      return buf;
    },
    close: () => fh.close(),
  };
}

interface Attachment {
  filename: string;
  contentType: string;
  content: Buffer;
}

/**
 * Deterministic incompressible content (AES-128-CTR over zeros, keyed by seed and index):
 * every large attachment differs, so Blend's SHA-256 de-duplication cannot store it once.
 */
export function bigAttachment(seed: number, index: number, bytes: number): Attachment {
  const key = createHash('sha256').update(`soak:${seed}:${index}`).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  const head = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1');
  const body = cipher.update(Buffer.alloc(Math.max(0, bytes - head.length)));
  return { filename: `quarterly-figures-${index}.pdf`, contentType: 'application/pdf', content: Buffer.concat([head, body]) };
}

/**
 * Add a file to a generated message: the old body (multipart/alternative, or mixed with a
 * small file) becomes the first part of a new multipart/mixed (RFC 2046 5.1.3), the file
 * the second, base64 in 76-character lines (RFC 2045 6.8). Header fields other than
 * Content-Type and Content-Transfer-Encoding stay at the top.
 */
export function withAttachment(raw: Buffer, a: Attachment): Buffer {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error('generated message has no header/body separator');
  const fields = raw.subarray(0, end).toString('latin1').split(/\r\n(?![ \t])/);
  const isContent = (f: string) => /^content-(type|transfer-encoding)\s*:/i.test(f);
  const inner = fields.filter(isContent);
  if (!inner.some((f) => /^content-type\s*:/i.test(f))) throw new Error('generated message has no Content-Type');
  const boundary = `----soak-${createHash('sha1').update(a.content.subarray(0, 64)).digest('hex').slice(0, 24)}`;
  const b64 = a.content.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  const head = [
    ...fields.filter((f) => !isContent(f)),
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    'This is a multi-part message in MIME format.',
    `--${boundary}`,
    ...inner,
    '',
    '',
  ].join('\r\n');
  const tail = [
    '',
    `--${boundary}`,
    `Content-Type: ${a.contentType}; name="${a.filename}"`,
    `Content-Disposition: attachment; filename="${a.filename}"`,
    'Content-Transfer-Encoding: base64',
    '',
    lines.join('\r\n'),
    `--${boundary}--`,
    '',
  ].join('\r\n');
  return Buffer.concat([Buffer.from(head, 'latin1'), raw.subarray(end + 4), Buffer.from(tail, 'latin1')]);
}
