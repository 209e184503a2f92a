import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { dkimSign } from 'mailauth';
import { schema, type Database } from '@blend/db';
import { waitFor } from './database';

/** A plain RFC 5322 message for tests; returns the raw text and its Message-ID. */
export function buildMessage(m: {
  from: string;
  to: string;
  cc?: string;
  subject: string;
  body?: string;
  html?: string;
  inReplyTo?: string;
  headers?: Record<string, string>;
  messageId?: string;
}): { raw: string; messageId: string } {
  const messageId = m.messageId ?? `t-${randomBytes(6).toString('hex')}@${m.from.split('@')[1]!.replace(/>.*$/, '')}`;
  const head = [
    `From: ${m.from}`,
    `To: ${m.to}`,
    ...(m.cc ? [`Cc: ${m.cc}`] : []),
    `Subject: ${m.subject}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${messageId}>`,
    ...(m.inReplyTo ? [`In-Reply-To: <${m.inReplyTo}>`, `References: <${m.inReplyTo}>`] : []),
    ...Object.entries(m.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
    'MIME-Version: 1.0',
    `Content-Type: ${m.html ? 'text/html' : 'text/plain'}; charset=utf-8`,
  ];
  return { raw: `${head.join('\r\n')}\r\n\r\n${m.html ?? m.body ?? 'Hello.'}\r\n`, messageId };
}

/**
 * A mail from `from`@corp.test to the bridge (status@example.test unless `to`), with explicit
 * In-Reply-To and References (given without angle brackets): the thread tests' mail.
 */
export function corpMail(m: { id: string; from: string; to?: string; cc?: string; subject: string; body: string; inReplyTo?: string; references?: string[] }): string {
  return buildMessage({
    messageId: m.id,
    from: `${m.from} <${m.from}@corp.test>`,
    to: m.to ?? 'status@example.test',
    ...(m.cc ? { cc: m.cc } : {}),
    subject: m.subject,
    body: m.body,
    headers: {
      ...(m.inReplyTo ? { 'In-Reply-To': `<${m.inReplyTo}>` } : {}),
      ...(m.references ? { References: m.references.map((r) => `<${r}>`).join(' ') } : {}),
    },
  }).raw;
}

/** DKIM-sign a raw message (mailauth). */
export async function signDkim(raw: string, key: { signingDomain: string; selector: string; privateKey: string }): Promise<string> {
  const signed = await dkimSign(raw, { ...key, signatureData: [key] });
  if (signed.errors.length) throw new Error(`DKIM signing failed: ${JSON.stringify(signed.errors)}`);
  return signed.signatures + raw;
}

/** Wait until the inbound row with this Message-ID has left `received`, and return it. */
export async function finalRow(db: Database, messageId: string, timeoutMs = 20_000) {
  return waitFor(async () => {
    const rows = await db.select().from(schema.inboundMessages).where(eq(schema.inboundMessages.messageId, messageId));
    const r = rows.find((x) => x.state !== 'received');
    return r ?? undefined;
  }, `a final state for <${messageId}>`, timeoutMs);
}
