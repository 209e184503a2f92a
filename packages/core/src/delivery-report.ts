import { normaliseMessageId } from './message-id';

/**
 * What a delivery status notification says about the mail it returns: the `multipart/report;
 * report-type=delivery-status` of RFC 6522, whose `message/delivery-status` part (RFC 3464)
 * holds a `Status` per recipient, followed by the returned message (`message/rfc822`) or only
 * its header (`text/rfc822-headers`). RFC 6533's `message/global-*` parts are read the same way.
 */
export interface DeliveryReport {
  /**
   * A real DSN: the message is a `multipart/report` with `report-type=delivery-status` (RFC 6522)
   * and holds a `message/delivery-status` part. Only such a report may change what Blend knows
   * about a delivery; its status is read from that part alone (docs/SECURITY.md, B10).
   */
  isDsn: boolean;
  /** The Status (`5.1.1`) of the first failed recipient, else of the first delayed or listed one. */
  status: string | null;
  /** A 5.x.x status: the mail will not be delivered (a 4.x.x is a delay, the MTA still tries). */
  permanent: boolean;
  /** That recipient's Diagnostic-Code, unfolded: `smtp; 550 5.1.1 <x@y>: Recipient address rejected…`. */
  diagnostic: string | null;
  /**
   * The Message-ID of the returned message, normalised; else Gmail's per-message
   * `X-Original-Message-ID`. Lets a bounce find our outbox row when its envelope sender
   * lost our VERP address (a submission server that rewrites it to the mailbox's own).
   */
  originalMessageId: string | null;
}

const REPORT_TYPES = /^(?:message\/(?:global-)?delivery-status)$/;
const RETURNED_TYPES = /^(?:message\/rfc822|message\/global|text\/rfc822-headers|message\/rfc822-headers|message\/global-headers)$/;
const STATUS = /^([245])\.\d{1,3}\.\d{1,3}/;

/**
 * Reads a DSN from the raw source (as `latin1` text). Status and diagnostic come only from a
 * delivery-status part: a plain-text "bounce" says whatever its writer chose and has none.
 */
export function readDeliveryReport(source: string): DeliveryReport {
  const parts = mimeParts(source);
  const reports = parts.filter((p) => REPORT_TYPES.test(p.type));
  const blocks = reports.flatMap((p) => fieldBlocks(p.body));
  // RFC 3464 section 2.1: one per-message block, then one per recipient (each with Final-Recipient).
  const isRecipient = (b: Map<string, string>) => b.has('final-recipient') || b.has('action') || b.has('status');
  const recipients = blocks.filter(isRecipient);
  const perMessage = blocks.filter((b) => !isRecipient(b));
  const withStatus = recipients.filter((r) => STATUS.test(r.get('status') ?? ''));
  const pick =
    withStatus.find((r) => /^failed/i.test(r.get('action') ?? '')) ??
    withStatus.find((r) => /^delayed/i.test(r.get('action') ?? '')) ??
    withStatus[0];
  const status = pick ? STATUS.exec(pick.get('status')!)![0] : null;
  const diagnostic = pick?.get('diagnostic-code') ?? null;
  const top = (fieldBlocks(headerOf(source))[0]?.get('content-type') ?? '').toLowerCase();
  const isDsn =
    /^multipart\/report\s*;/.test(top) && /report-type\s*=\s*"?(?:global-)?delivery-status"?/.test(top) && reports.length > 0;
  const returned = parts.find((p) => RETURNED_TYPES.test(p.type));
  const returnedId = returned ? (fieldBlocks(headerOf(returned.body))[0]?.get('message-id') ?? null) : null;
  const reportedId = perMessage.map((m) => m.get('x-original-message-id')).find(Boolean) ?? null;
  return {
    isDsn,
    status,
    permanent: status?.startsWith('5') ?? false,
    diagnostic,
    originalMessageId: normaliseMessageId(returnedId) ?? normaliseMessageId(reportedId),
  };
}

interface Part {
  /** The part's media type, lower-cased, without parameters. */
  type: string;
  /** The part's body, transfer encoding undone. */
  body: string;
}

/**
 * Every body part of the message, nested ones included, in source order: the text between
 * two boundary lines of any `boundary=` the message declares. Enough for the flat layout of
 * DSNs; a returned message's own parts come after the returned message's header, which is all
 * that is read of it.
 */
function mimeParts(source: string): Part[] {
  const text = source.replace(/\r\n/g, '\n');
  const boundaries = new Set([...text.matchAll(/boundary\s*=\s*(?:"([^"\n]+)"|([^;\s]+))/gi)].map((m) => m[1] ?? m[2]!));
  if (boundaries.size === 0) return [];
  const out: Part[] = [];
  let current: string[] | null = null;
  const flush = () => {
    if (current) out.push(part(current.join('\n')));
  };
  for (const line of text.split('\n')) {
    const delimiter = line.startsWith('--') ? line.slice(2).replace(/--\s*$|\s+$/g, '') : null;
    if (delimiter !== null && boundaries.has(delimiter)) {
      flush();
      current = line.trimEnd().endsWith(`${delimiter}--`) ? null : [];
    } else {
      current?.push(line);
    }
  }
  flush();
  return out;
}

function part(raw: string): Part {
  const split = raw.search(/\n\n|^\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split).replace(/^\n\n?/, '');
  const fields = fieldBlocks(head)[0] ?? new Map<string, string>();
  const type = (fields.get('content-type') ?? 'text/plain').split(';')[0]!.trim().toLowerCase();
  const encoding = (fields.get('content-transfer-encoding') ?? '').trim().toLowerCase();
  return { type, body: decode(body, encoding) };
}

/** The header block of a message: everything before its first empty line. */
function headerOf(message: string): string {
  const text = message.replace(/\r\n/g, '\n').replace(/^\n+/, '');
  const end = text.search(/\n[ \t]*\n/);
  return end < 0 ? text : text.slice(0, end);
}

function decode(body: string, encoding: string): string {
  if (encoding === 'base64') return Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64').toString('latin1');
  if (encoding === 'quoted-printable') {
    return body.replace(/=\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
  return body;
}

/**
 * Header-style field blocks separated by blank lines (RFC 3464 section 2.1: the per-message
 * block, then one per recipient), each as lower-cased name -> first value, folding undone.
 */
function fieldBlocks(text: string): Map<string, string>[] {
  const blocks: Map<string, string>[] = [];
  for (const chunk of text.replace(/\r\n/g, '\n').replace(/^\n+/, '').split(/\n[ \t]*\n/)) {
    const fields = new Map<string, string>();
    for (const line of chunk.replace(/\n[ \t]+/g, ' ').split('\n')) {
      const m = /^([!-9;-~]+):[ \t]*(.*)$/.exec(line);
      if (m && !fields.has(m[1]!.toLowerCase())) fields.set(m[1]!.toLowerCase(), m[2]!.trim());
    }
    if (fields.size > 0) blocks.push(fields);
  }
  return blocks;
}
