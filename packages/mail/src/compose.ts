import { Readable, Transform, type TransformCallback } from 'node:stream';
import nodemailer, { type Transporter } from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import { bridgeAddress, isPermanentSmtpFailure, issueBounceToken, originTag, senderAddress, type Addressing } from '@blend/core';
import type { AccessTokenSource } from './oauth2';

/** One outbox row as the composer needs it. */
export interface OutboundMail {
  id: string;
  toAddress: string;
  messageId: string;
  subject: string;
  textBody: string;
  htmlBody: string | null;
  inReplyTo: string | null;
  references: string[];
  autoSubmitted: string;
  replyTo: string | null;
  /** Display name of From (`Alice via Blend`); null = the `fromName` option. */
  fromName?: string | null;
  /** Extra headers (List-Unsubscribe, Precedence, Thread-Index, Thread-Topic). */
  headers?: Record<string, string>;
}

/** A file the mail carries (a mirrored comment's attachments). */
export interface OutboundFile {
  filename: string;
  /** Sent as the type Blend serves it with (core `servedAs`), never a declared `text/html`. */
  contentType: string;
  /** Its bytes, or, for a large file, its slices read only as the mail is written ({@link FileSlices}). */
  content: Buffer | FileSlices;
}

/**
 * A stored file read as the mail is written: `read(at, count)` gives `count` bytes from byte
 * `at` (0-based), null once the file is gone.
 */
export interface FileSlices {
  size: number;
  read(at: number, count: number): Promise<Buffer | null>;
}

export interface ComposeOptions {
  /** Blend's addresses: From and the VERP envelope sender. */
  addressing: Addressing;
  secret: string;
  /** Display name of the sender. @defaultValue "Blend" */
  fromName?: string;
}

/**
 * Header values never carry line breaks: a title or name with CR/LF/U+2028 must not add a
 * header (docs/SECURITY.md B16). nodemailer encodes the rest.
 */
export function singleLine(s: string, max = 250): string {
  const flat = s.replace(/[\r\n\u2028\u2029\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  // No more UTF-16 units than `max`, so no more code points either: nothing to cut (the usual case, without an array of its characters).
  if (flat.length <= max) return flat;
  return [...flat].slice(0, max).join('');
}

/** Files larger than this go to nodemailer as a stream of slices of this size (see {@link fileContent}). */
export const FILE_SLICE_BYTES = 64 * 1024;

/** The bytes of a file given as {@link FileSlices} read at a time, as nodemailer's stream of it asks for more. */
export const FILE_READ_BYTES = 512 * 1024;

/** A file the mail was to carry is gone (erased while the mail was written): the attempt fails and its retry reads the files afresh. */
export class FileGoneError extends Error {
  constructor(filename: string) {
    super(`file ${JSON.stringify(filename)} is no longer stored`);
    this.name = 'FileGoneError';
  }
}

/**
 * A file's bytes as nodemailer should get them. Given a Buffer, nodemailer base64-encodes it
 * in one piece, as one string and its line-wrapped copy: about 39 MiB at once for a 10 MB file
 * (docs/BENCHMARKS.md). Given a stream, it encodes slice by slice. A file given as its slices is
 * read {@link FILE_READ_BYTES} at a time only when the stream is read, so a mail waiting for its
 * SMTP session, or written slowly, holds about one read of it; a read that fails, or finds the
 * file gone ({@link FileGoneError}), fails the stream and with it the mail's attempt. A stream
 * is read once, so a mail whose pooled connection closes mid-send fails that attempt (the send
 * job retries it) where nodemailer would have sent it again on another connection; small files
 * stay Buffers.
 */
export function fileContent(content: Buffer | FileSlices, filename = 'file'): Buffer | Readable {
  if (!Buffer.isBuffer(content)) return sliceStream(content, filename);
  if (content.length <= FILE_SLICE_BYTES) return content;
  let at = 0;
  return new Readable({
    read() {
      if (at >= content.length) {
        this.push(null);
        return;
      }
      this.push(content.subarray(at, at + FILE_SLICE_BYTES));
      at += FILE_SLICE_BYTES;
    },
  });
}

/** The stream of a file read as it is consumed: each `read` of the stream pushes one {@link FILE_SLICE_BYTES} slice, reading the next {@link FILE_READ_BYTES} when the last is used up. */
function sliceStream(file: FileSlices, filename: string): Readable {
  let next = 0;
  let held: Buffer = Buffer.alloc(0);
  let used = 0;
  return new Readable({
    highWaterMark: FILE_SLICE_BYTES,
    read() {
      if (used < held.length) {
        this.push(held.subarray(used, (used += FILE_SLICE_BYTES)));
        return;
      }
      if (next >= file.size) {
        this.push(null);
        return;
      }
      const count = Math.min(FILE_READ_BYTES, file.size - next);
      const from = next;
      next += count;
      file.read(from, count).then(
        (bytes) => {
          if (this.destroyed) return;
          if (!bytes || bytes.length !== count) {
            this.destroy(new FileGoneError(filename));
            return;
          }
          held = bytes;
          used = 0;
          this.push(held.subarray(used, (used += FILE_SLICE_BYTES)));
        },
        (err: unknown) => this.destroy(err as Error),
      );
    },
  });
}

/**
 * The nodemailer message for an outbox row: RFC 3834 `Auto-Submitted`, our signed
 * `X-Blend-Origin`, a VERP envelope sender (`bounce+ID@DOMAIN`, `M+bounce-ID@DOMAIN` in plus
 * mode) so bounces find the row, and `X-Auto-Response-Suppress` so Exchange does not answer
 * with out-of-office mail.
 */
export function composeOutbound(row: OutboundMail, opts: ComposeOptions, files: readonly OutboundFile[] = []): Mail.Options {
  const bracket = (id: string) => `<${id}>`;
  return {
    from: { name: singleLine(row.fromName ?? opts.fromName ?? 'Blend', 100), address: senderAddress(opts.addressing) },
    to: row.toAddress,
    ...(row.replyTo ? { replyTo: row.replyTo } : {}),
    subject: singleLine(row.subject),
    messageId: bracket(row.messageId),
    ...(row.inReplyTo ? { inReplyTo: bracket(row.inReplyTo) } : {}),
    ...(row.references.length ? { references: row.references.map(bracket) } : {}),
    text: row.textBody,
    ...(row.htmlBody ? { html: row.htmlBody } : {}),
    // Decided once from the text part: nodemailer otherwise scans each part four times.
    textEncoding: textEncodingOf(row.textBody),
    ...(files.length ? { attachments: files.map((f) => ({ filename: f.filename, contentType: f.contentType, content: fileContent(f.content, f.filename), contentDisposition: 'attachment' as const })) } : {}),
    envelope: { from: bridgeAddress(opts.addressing, { kind: 'bounce', token: issueBounceToken(row.id, opts.secret) }), to: [row.toAddress] },
    headers: {
      ...extraHeaders(row.headers),
      'Auto-Submitted': row.autoSubmitted === 'auto-replied' ? 'auto-replied' : 'auto-generated',
      'X-Auto-Response-Suppress': 'All',
      'X-Blend-Origin': originTag(row.messageId, opts.secret),
    },
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

/**
 * Quoted-printable for text mostly in Latin letters, base64 for the rest (where QP would
 * triple the size): the rule nodemailer applies to each part, applied to the text part once.
 */
export function textEncodingOf(text: string): 'quoted-printable' | 'base64' {
  let latin = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80 || c <= 0x08 || c === 0x0b || c === 0x0c || (c >= 0x0e && c <= 0x1f)) other++;
    else if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) latin++;
  }
  return other < latin ? 'quoted-printable' : 'base64';
}

/** Only the extra headers we write ourselves, each value on one line. */
const EXTRA_HEADERS = new Set(['List-Unsubscribe', 'List-Unsubscribe-Post', 'List-Id', 'Precedence', 'Thread-Index', 'Thread-Topic', 'Content-Language']);
function extraHeaders(h: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (EXTRA_HEADERS.has(k)) out[k] = singleLine(v, 900);
  return out;
}

/**
 * A pooled SMTP transport from `BLEND_SMTP_URL` (`smtp://` with STARTTLS when offered,
 * `smtps://`): sessions are kept open and reused, so a burst of notices does not pay a TCP
 * connect, EHLO, STARTTLS and AUTH per mail. A session that answered 4xx/5xx to one mail is
 * RSET and reused; one the server closed is replaced. The caller must `close()` it on shutdown.
 * @param pool.maxConnections sessions open at once. @defaultValue 5
 * @param pool.maxMessages mails per session before it is replaced. @defaultValue 100
 */
export function createSmtpTransport(
  url: string,
  pool: { maxConnections?: number; maxMessages?: number } = {},
  /** How to log in (BLEND_SMTP_AUTH). @defaultValue password when the URL names a user, else none */
  login: SmtpLogin = { kind: new URL(url).username ? 'password' : 'none' },
  /**
   * Sign every mail with DKIM (BLEND_DKIM_*): this transport is the one way Blend's mail
   * leaves (mirrors, notifications, digests, receipts), so all of it is signed.
   * @defaultValue unsigned
   */
  dkim?: { domainName: string; keySelector: string; privateKey: string },
): Transporter {
  const u = new URL(url);
  const secure = u.protocol === 'smtps:';
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: pool.maxConnections ?? 5,
    maxMessages: pool.maxMessages ?? 100,
    host: u.hostname,
    port: u.port ? Number(u.port) : secure ? 465 : 25,
    secure,
    ...smtpAuth(u, login),
    ...(dkim ? { dkim } : {}),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 60_000,
  });
  // A fresh one for each read of the message (nodemailer reads it again for a retry on another session).
  transport.use('stream', (mail, done) => {
    (mail.message as unknown as { transform(make: () => Transform): void }).transform(() => new WriteGathering());
    done();
  });
  return transport;
}

/** The most bytes of a message {@link WriteGathering} holds before it passes them on. */
export const SMTP_WRITE_BYTES = 64 * 1024;

/**
 * The pieces nodemailer writes a message in (each header block, boundary and encoded part, about
 * ten for a mirror) passed on together, up to {@link SMTP_WRITE_BYTES} at a time: each piece
 * went to the SMTP socket as a write of its own, a system call each. The bytes are the same; a
 * large file still streams, one gathering at a time.
 */
export class WriteGathering extends Transform {
  private held: Buffer[] = [];
  private bytes = 0;

  override _transform(chunk: Buffer | string, encoding: BufferEncoding, done: TransformCallback): void {
    const b = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
    if (this.bytes === 0 && b.length >= SMTP_WRITE_BYTES) this.push(b);
    else {
      this.held.push(b);
      this.bytes += b.length;
      if (this.bytes >= SMTP_WRITE_BYTES) this.release();
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    this.release();
    done();
  }

  private release(): void {
    if (this.bytes === 0) return;
    this.push(this.held.length === 1 ? this.held[0] : Buffer.concat(this.held, this.bytes));
    this.held = [];
    this.bytes = 0;
  }
}

/** How Blend logs in to its SMTP server: the URL's password, an OAuth 2.0 token (SASL XOAUTH2), or not at all. */
export type SmtpLogin = { kind: 'password' } | { kind: 'none' } | { kind: 'oauth2'; tokens: AccessTokenSource };

function smtpAuth(u: URL, login: SmtpLogin) {
  const user = decodeURIComponent(u.username);
  switch (login.kind) {
    case 'none':
      return {};
    case 'password':
      return { auth: { user, pass: decodeURIComponent(u.password) } };
    case 'oauth2': {
      const tokens = login.tokens;
      let last: string | null = null;
      return {
        auth: {
          type: 'OAuth2' as const,
          user,
          // nodemailer asks again with renew=true when the server refused the token it offered
          // (a 334 challenge, then a 535): that token is dropped and a fresh one fetched, once.
          // An `expires` already in the past makes nodemailer ask for every new session, so the
          // token source alone decides when a token is reused.
          provisionCallback: (_user: string, renew: boolean, cb: (err: Error | null, token?: string, expires?: number) => void) => {
            if (renew && last) tokens.invalidate(last);
            tokens.getToken().then(
              (token) => {
                last = token;
                cb(null, token, 1);
              },
              (err: unknown) => cb(err as Error),
            );
          },
        },
      };
    }
  }
}

/**
 * Whether a send's failure is permanent for its outbox row: a 5xx reply about the mail or its
 * recipient. 4xx, 503, timeouts, connection errors and failures of Blend's own account (a
 * refused login, SMTP AUTH disabled, a sending limit) are transient ({@link isPermanentSmtpFailure};
 * docs/SECURITY.md F18–F22).
 */
export function isPermanentSmtpError(err: unknown): boolean {
  const e = (err ?? {}) as { code?: unknown; responseCode?: unknown; response?: unknown };
  return isPermanentSmtpFailure({
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.responseCode === 'number' ? { responseCode: e.responseCode } : {}),
    ...(typeof e.response === 'string' ? { response: e.response } : {}),
  });
}
