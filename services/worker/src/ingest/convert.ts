import { renderMailContent, type ConversionOptions, type ForwardedMessage, type MailInput, type RenderedContent } from '@blend/core';

/**
 * The convert stage: what a parsed mail shows when it is published (docs/ARCHITECTURE.md
 * "Ingest, one mail at a time"): the title, the author's new text without quotes, signature,
 * footers and disclaimers, redacted, as text and safe HTML, with its tags and mentions
 * (`renderMailContent`), and the mails attached as files shown as forwards. Pure and
 * CPU-bound, so it runs in the parse thread right after parsing.
 */
export function convertContent(mail: MailInput, attachedMessages: ForwardedMessage[], options: ConversionOptions): RenderedContent {
  const content = renderMailContent(mail, {
    redactions: options.redactions,
    ...(options.disclaimerPatterns ? { disclaimerPatterns: options.disclaimerPatterns } : {}),
  });
  // Attached mails follow the ones quoted in the body.
  return attachedMessages.length > 0 ? { ...content, forwarded: [...content.forwarded, ...attachedMessages] } : content;
}
