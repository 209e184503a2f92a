import nodemailer, { type Transporter } from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import { originTag } from '@blend/core';

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
}

export interface ComposeOptions {
  domain: string;
  secret: string;
  /** Display name of the sender. @defaultValue "Blend" */
  fromName?: string;
}

/**
 * Header values never carry line breaks: a title or name with CR/LF/U+2028 must not add a
 * header (RELIABILITY B16). nodemailer encodes the rest.
 */
export function singleLine(s: string, max = 250): string {
  const flat = s.replace(/[\r\n\u2028\u2029\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return [...flat].slice(0, max).join('');
}

/** A Message-ID of ours, without angle brackets. */
export function newMessageId(id: string, domain: string): string {
  return `${id}@${domain}`;
}

/**
 * The nodemailer message for an outbox row: RFC 3834 `Auto-Submitted`, our signed
 * `X-Blend-Origin`, a VERP envelope sender (`bounce+ID@DOMAIN`) so bounces find the row,
 * and `X-Auto-Response-Suppress` so Exchange does not answer with out-of-office mail.
 */
export function composeOutbound(row: OutboundMail, opts: ComposeOptions): Mail.Options {
  const bracket = (id: string) => `<${id}>`;
  return {
    from: { name: singleLine(opts.fromName ?? 'Blend', 100), address: `status@${opts.domain}` },
    to: row.toAddress,
    ...(row.replyTo ? { replyTo: row.replyTo } : {}),
    subject: singleLine(row.subject),
    messageId: bracket(row.messageId),
    ...(row.inReplyTo ? { inReplyTo: bracket(row.inReplyTo) } : {}),
    ...(row.references.length ? { references: row.references.map(bracket) } : {}),
    text: row.textBody,
    ...(row.htmlBody ? { html: row.htmlBody } : {}),
    envelope: { from: `bounce+${row.id.replace(/-/g, '')}@${opts.domain}`, to: [row.toAddress] },
    headers: {
      'Auto-Submitted': row.autoSubmitted === 'auto-replied' ? 'auto-replied' : 'auto-generated',
      'X-Auto-Response-Suppress': 'All',
      'X-Blend-Origin': originTag(row.messageId, opts.secret),
    },
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

/** An SMTP transport from `BLEND_SMTP_URL` (`smtp://` with STARTTLS when offered, `smtps://`). */
export function createSmtpTransport(url: string): Transporter {
  const u = new URL(url);
  const secure = u.protocol === 'smtps:';
  return nodemailer.createTransport({
    host: u.hostname,
    port: u.port ? Number(u.port) : secure ? 465 : 25,
    secure,
    ...(u.username ? { auth: { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } } : {}),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 60_000,
  });
}

/**
 * Whether an SMTP failure is permanent: a 5xx reply other than 503 (bad sequence).
 * 4xx, timeouts and connection errors are transient (STYLE.md, RELIABILITY F18–F22).
 */
export function isPermanentSmtpError(err: unknown): boolean {
  const code = (err as { responseCode?: number }).responseCode;
  return typeof code === 'number' && code >= 500 && code < 600 && code !== 503;
}
