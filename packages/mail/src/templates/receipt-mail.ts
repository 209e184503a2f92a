import { explainOutcome, translator, type Language } from '@blend/core';
import { defineTemplate, oneLine, quoted, type LayoutView, type RenderedMail } from './engine';

export type ReceiptMailInput = PublishedReceipt | NotPublishedReceipt;

/** A receipt for a mail that became a post or comment. */
export interface PublishedReceipt {
  outcome: 'posted' | 'commented';
  title: string;
  /** Exactly the text that was published. */
  text: string;
  postUrl: string;
  undoUrl: string;
  fixUrl: string;
  /** How long the Undo and Fix links work. */
  validMinutes: number;
  preferencesUrl: string;
  /** The sender's language. @defaultValue 'en' */
  language?: Language;
}

/** A receipt for a mail that was rejected, withheld or held. */
export interface NotPublishedReceipt {
  outcome: 'rejected' | 'withheld' | 'held';
  /** The subject of the sender's mail. */
  subject: string;
  /** An inbound reason code, explained with explainOutcome(). */
  reason: string;
  preferencesUrl: string;
  /** The sender's language. @defaultValue 'en' */
  language?: Language;
}

interface PublishedView extends LayoutView {
  lead: string;
  text: string;
  postUrl: string;
  undoUrl: string;
  fixUrl: string;
  validity: string;
}

interface NotPublishedView extends LayoutView {
  lead: string;
  why: string;
  whatToDo: string;
}

const renderPublished = defineTemplate<PublishedView>(
  'receipt-published',
  `
        <mj-text>
          <p style="margin:0;">{{lead}}</p>
          <p style="margin:12px 0 4px 0;color:#59636e;font-size:13px;">{{t 'receipt.exactly'}}</p>
          <p class="quote" style="margin:0;border-left:3px solid #d0d7de;padding-left:12px;">{{br text}}</p>
          <p style="margin:12px 0 0 0;"><a href="{{href postUrl}}">{{t 'receipt.viewInFeed'}}</a></p>
        </mj-text>
        <mj-button href="{{href undoUrl}}">{{t 'receipt.undo'}}</mj-button>
        <mj-button href="{{href fixUrl}}" background-color="#ffffff" color="#0b5cad" border="1px solid #0b5cad">{{t 'receipt.fix'}}</mj-button>
        <mj-text mj-class="muted"><p style="margin:0;">{{validity}}</p></mj-text>
`,
  `{{lead}}

{{t 'receipt.exactly'}}

{{text}}

{{t 'common.labelled' label=(t 'receipt.viewInFeed') value=postUrl}}

{{t 'common.labelled' label=(t 'receipt.undoText') value=undoUrl}}
{{t 'common.labelled' label=(t 'receipt.fixText') value=fixUrl}}
{{validity}}
`,
);

const renderNotPublished = defineTemplate<NotPublishedView>(
  'receipt-not-published',
  `
        <mj-text>
          <p style="margin:0;">{{lead}}</p>
          <p style="margin:12px 0 0 0;"><b>{{t 'receipt.why'}}</b> {{why}}</p>
          <p style="margin:8px 0 0 0;"><b>{{t 'receipt.whatToDo'}}</b> {{whatToDo}}</p>
        </mj-text>
`,
  `{{lead}}

{{t 'receipt.why'}} {{why}}

{{t 'receipt.whatToDo'}} {{whatToDo}}
`,
);

/** "30 minutes", "2 hours", "1 hour and 30 minutes". */
function duration(minutes: number, lang: Language): string {
  const t = translator(lang, 'mail');
  const m = Math.max(0, Math.round(minutes));
  if (m < 60) return t('receipt.minutes', { count: m });
  const h = Math.floor(m / 60);
  const hours = t('receipt.hours', { count: h });
  return m % 60 === 0 ? hours : t('receipt.hoursAndMinutes', { hours, minutes: t('receipt.minutes', { count: m % 60 }) });
}

const isPublished = (m: ReceiptMailInput): m is PublishedReceipt => m.outcome === 'posted' || m.outcome === 'commented';

/**
 * The receipt to a sender: what was published, with Undo and Fix links while they work,
 * or why nothing was and what to do. Replies to a receipt do not comment.
 */
export function renderReceiptMail(m: ReceiptMailInput): RenderedMail {
  const lang = m.language ?? 'en';
  const t = translator(lang, 'mail');
  const footer = { lang, replyHint: null, preferencesUrl: m.preferencesUrl, unsubscribeUrl: null };
  if (isPublished(m)) {
    const title = quoted(m.title, lang);
    const subject = m.outcome === 'posted' ? t('receipt.postedSubject', { title: oneLine(m.title) || t('common.untitled') }) : t('receipt.commentedSubject', { title });
    return renderPublished({
      ...footer,
      subject: oneLine(subject),
      preview: oneLine(m.text).slice(0, 140),
      textFooterLines: [],
      lead: t(m.outcome === 'posted' ? 'receipt.postedLead' : 'receipt.commentedLead', { title }),
      text: m.text,
      postUrl: m.postUrl,
      undoUrl: m.undoUrl,
      fixUrl: m.fixUrl,
      validity: t('receipt.validity', { duration: duration(m.validMinutes, lang) }),
    });
  }
  const { why, whatToDo } = explainOutcome(m.reason, lang);
  const original = oneLine(m.subject) || t('common.noSubject');
  return renderNotPublished({
    ...footer,
    subject: oneLine(t('receipt.notPublishedSubject', { subject: original })),
    preview: why,
    textFooterLines: [],
    lead: t(`receipt.${m.outcome}Lead`, { subject: quoted(original, lang) }),
    why,
    whatToDo,
  });
}
