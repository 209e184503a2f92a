import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { MessagePort } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { compileConversion, PermanentError, type ConversionOptions, type ConversionSettings, type MailInput, type RenderedContent } from '@blend/core';
import { parseMail, splitAttachedMessages, type MimeLimits, type ParsedAttachment } from '@blend/mail/parsing';
import { convertContent } from './ingest/convert';

/** The settings conversion needs, as configured (strings, so they can cross to a thread). */
export interface ParseSettings extends ConversionSettings {
  mimeLimits?: MimeLimits;
}

/** The same settings compiled, as the in-process path already holds them. */
export interface CompiledParseSettings extends ConversionOptions {
  mimeLimits?: MimeLimits;
}

/** One mail read: its parsed form, files and what it shows; or why it cannot be read. */
export type ParseResult =
  | { ok: true; mail: MailInput; files: ParsedAttachment[]; content: RenderedContent }
  | { ok: false; code: 'MIME_LIMITS' | 'MALFORMED_MIME'; message: string };

/**
 * Parse a raw mail, then convert it to what it shows (`convertContent`): the CPU-bound stages of
 * ingest, with no I/O, so
 * it can run in a thread that is terminated when it runs away (docs/SECURITY.md F9). A mail the
 * parser refuses is a result, not a throw: a thread's errors lose their type on the way back.
 */
export async function parseAndConvert(raw: Buffer, settings: CompiledParseSettings): Promise<ParseResult> {
  let parsed;
  try {
    parsed = await parseMail(raw, settings.mimeLimits);
  } catch (err) {
    if (err instanceof PermanentError && (err.code === 'MIME_LIMITS' || err.code === 'MALFORMED_MIME')) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
  // A mail attached as a file is a forward: read as one, never stored as a file (docs/SECURITY.md B28).
  const { files, messages } = await splitAttachedMessages(parsed.attachments, { redactions: settings.redactions });
  return { ok: true, mail: parsed.mail, files, content: convertContent(parsed.mail, messages, settings) };
}

/** A task for a parse thread: the source, the settings, and a port to say when work began. */
export interface ParseTask {
  raw: Uint8Array;
  settings: ParseSettings;
  /** Told when the thread starts on this mail: the time limit counts from then, not from the queue. */
  started?: MessagePort;
}

const compiled = new Map<string, CompiledParseSettings>();

/** Settings compiled once per thread (redaction entries carry functions, which cannot cross). */
function compile(settings: ParseSettings): CompiledParseSettings {
  const key = JSON.stringify(settings);
  let c = compiled.get(key);
  if (!c) {
    c = { ...compileConversion(settings), ...(settings.mimeLimits ? { mimeLimits: settings.mimeLimits } : {}) };
    compiled.set(key, c);
  }
  return c;
}

/**
 * A source of this many bytes or more is collected after: parsing it leaves the thread holding
 * several times its size (its copy of the source, the decoded parts, the files sent back), which
 * V8 would otherwise keep until the thread's heap next fills, however many small mails follow
 * (a 13 MiB mail left about 90 MiB).
 */
export const COLLECT_AFTER_BYTES = 1024 * 1024;

/** The thread's entry (piscina calls the default export once per task). */
export default async function runParseTask(task: ParseTask): Promise<ParseResult> {
  task.started?.postMessage('started');
  task.started?.close();
  // A Buffer arrives as a plain Uint8Array; view the same bytes as a Buffer again.
  const result = await parseAndConvert(Buffer.from(task.raw.buffer, task.raw.byteOffset, task.raw.byteLength), compile(task.settings));
  // Once the result has gone back to the main thread, so the files' copies here are garbage too
  // (the pool lets a thread's event loop run between mails).
  if (task.raw.byteLength >= COLLECT_AFTER_BYTES) setTimeout(collectGarbage, 0);
  return withFilesMoved(result);
}

/**
 * The result, with each file whose bytes are a memory block of their own moved to the main
 * thread rather than copied: a copy would be serialised and then read back, two more copies of
 * a large file alive at once beside the thread's own.
 */
function withFilesMoved(result: ParseResult): ParseResult {
  if (!result.ok) return result;
  const blocks = new Set<ArrayBuffer>();
  for (const { content } of result.files) {
    const block = content.buffer;
    if (block instanceof ArrayBuffer && content.byteOffset === 0 && content.byteLength === block.byteLength && block.byteLength > 0) blocks.add(block);
  }
  if (blocks.size === 0) return result;
  // piscina sends `valueSymbol` with `transferableSymbol` as its transfer list.
  return move({ [transferableSymbol]: [...blocks], [valueSymbol]: result } as never) as never;
}

let gc: (() => void) | undefined;

/** A full collection of this thread's heap. */
function collectGarbage(): void {
  if (!gc) {
    // `gc` is given to contexts made after the flag is set; this one is only for that.
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}
