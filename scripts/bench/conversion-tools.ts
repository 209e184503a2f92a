/**
 * The extractors compared by `pnpm bench conversion`, each as a function from a parsed
 * message to the body text it would publish. The libraries get the same plain text: the
 * text/plain part, or for HTML-only mail the HTML rendered as text by Blend's htmlToPlainText.
 */
import EmailReplyParser from 'email-reply-parser';
import planer from 'planer';
import { compileRedactions, htmlToPlainText, renderMailContent, type MailInput } from '@blend/core';

export interface Prepared {
  mail: MailInput;
  /** The plain text every text-only tool reads. */
  text: string;
}

export interface Tool {
  name: string;
  note: string;
  run: (p: Prepared) => string;
}

/** What the text-only tools read: the text part, else the HTML as text. */
export function plainTextOf(mail: MailInput): string {
  return mail.text?.trim() ? mail.text : mail.html ? htmlToPlainText(mail.html) : '';
}

// BLEND_REDACT's default, as in production and the corpus test.
const redactions = compileRedactions('card,iban');

export const TOOLS: readonly Tool[] = [
  {
    name: 'Blend',
    note: '`renderMailContent` as in production: the HTML part decides what is cut, the text part\'s lines are shown',
    run: (p) => renderMailContent(p.mail, { redactions }).bodyText,
  },
  {
    name: 'Blend, text only',
    note: 'the same code given only the plain text the libraries get (no HTML part)',
    run: (p) => renderMailContent({ ...p.mail, text: p.text, html: null }, { redactions }).bodyText,
  },
  {
    name: 'email-reply-parser',
    note: "npm `email-reply-parser` (GitHub's EmailReplyParser rules): `read(text).getVisibleText()`",
    run: (p) => new EmailReplyParser().read(p.text).getVisibleText(),
  },
  {
    name: 'planer',
    note: "npm `planer` (Mailgun talon's quotation rules): `extractFromPlain(text)`; it does not remove signatures",
    run: (p) => planer.extractFromPlain(p.text),
  },
];
