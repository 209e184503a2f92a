import { renderMailContent, type ForwardedMessage, type Redaction } from '@blend/core';
import { parseMail, type ParsedAttachment } from './parse';

/** Media types of a whole message carried as a file (Outlook's "Forward as attachment"). */
const MESSAGE_TYPES = new Set(['message/rfc822', 'message/global']);

/** Whether a file is a whole mail message (RFC 2046 section 5.2.1, RFC 6532). */
export function isAttachedMessage(a: Pick<ParsedAttachment, 'contentType' | 'filename'>): boolean {
  return MESSAGE_TYPES.has(a.contentType.toLowerCase()) || /\.eml$/i.test(a.filename ?? '');
}

/**
 * Takes the messages attached as files out of a mail's attachments and reads each as a
 * forwarded message: its author, date, subject and own new text. They are then published only
 * under the rules for forwarded content (its author opted in), never stored as an opaque file
 * that would hand a colleague's mail, and the files in it, to every reader (docs/SECURITY.md B28).
 * A message that cannot be read becomes a note without its content. Files inside an attached
 * message are never stored.
 */
export async function splitAttachedMessages(
  attachments: readonly ParsedAttachment[],
  opts: { redactions: readonly Redaction[] },
): Promise<{ files: ParsedAttachment[]; messages: ForwardedMessage[] }> {
  const files: ParsedAttachment[] = [];
  const messages: ForwardedMessage[] = [];
  for (const a of attachments) {
    if (!isAttachedMessage(a)) {
      files.push(a);
      continue;
    }
    try {
      const { mail } = await parseMail(a.content);
      const content = renderMailContent(mail, { redactions: opts.redactions });
      messages.push({
        from: mail.headers['from']?.[0] ?? (mail.from ? mail.from.address : ''),
        date: mail.headers['date']?.[0] ?? null,
        subject: mail.subject,
        text: content.bodyText,
      });
    } catch {
      messages.push({ from: '', date: null, subject: '', text: '(an attached message that could not be read is not shown)' });
    }
  }
  return { files, messages };
}
