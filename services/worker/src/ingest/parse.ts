import type { MailInput, RenderedContent } from '@blend/core';
import type { ParsedAttachment } from '@blend/mail';
import { ParseLimitError } from '../parse-pool';
import { parseAndConvert } from '../parse-task';
import type { IngestDeps } from './deps';

/** A mail read: its parsed form, its files (not scanned yet) and what it shows. */
export interface ParsedInbound {
  ok: true;
  mail: MailInput;
  files: ParsedAttachment[];
  content: RenderedContent;
}

/** Why a stored mail cannot be read: it ends in this state, never retried by itself. */
export interface UnreadableInbound {
  ok: false;
  state: 'failed' | 'rejected';
  reason: string;
  /** What the parser said, or the limit error that stopped it. */
  detail: string;
  err?: ParseLimitError;
}

/**
 * The parse stage, with convert after it (docs/ARCHITECTURE.md "Ingest, one mail at a time"):
 * MIME parsed, attached mails read as forwards, then converted to what the mail shows; in a
 * thread that is stopped past BLEND_PARSE_TIMEOUT_MS when the worker has a parse pool
 * (docs/SECURITY.md F9), else here. A mail over the MIME limits or that is not MIME is
 * `rejected`; one whose thread was stopped is `failed` alone, for IT to look at and replay.
 */
export async function parseInbound(
  raw: Buffer,
  deps: Pick<IngestDeps, 'parsePool' | 'parseLane' | 'parseOrder' | 'conversion' | 'mimeLimits'>,
): Promise<ParsedInbound | UnreadableInbound> {
  let read;
  try {
    read = deps.parsePool
      ? await deps.parsePool.parse(raw, deps.parseLane, deps.parseOrder)
      : await parseAndConvert(raw, { ...deps.conversion, ...(deps.mimeLimits ? { mimeLimits: deps.mimeLimits } : {}) });
  } catch (err) {
    if (!(err instanceof ParseLimitError)) throw err;
    return { ok: false, state: 'failed', reason: err.reason, detail: err.message, err };
  }
  if (!read.ok) return { ok: false, state: 'rejected', reason: read.code === 'MIME_LIMITS' ? 'mime_limits' : 'malformed_mime', detail: read.message };
  return { ok: true, mail: read.mail, files: read.files, content: read.content };
}
