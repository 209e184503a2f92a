import { explainOutcome } from '@blend/core';
import { defineTemplate, oneLine, plural, quoted, type LayoutView, type RenderedMail } from './engine';

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
}

/** A receipt for a mail that was rejected, withheld or held. */
export interface NotPublishedReceipt {
  outcome: 'rejected' | 'withheld' | 'held';
  /** The subject of the sender's mail. */
  subject: string;
  /** An inbound reason code, explained with explainOutcome(). */
  reason: string;
  preferencesUrl: string;
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
          <p style="margin:12px 0 4px 0;color:#59636e;font-size:13px;">This is exactly what was published:</p>
          <p class="quote" style="margin:0;border-left:3px solid #d0d7de;padding-left:12px;">{{br text}}</p>
          <p style="margin:12px 0 0 0;"><a href="{{href postUrl}}">View it in the feed</a></p>
        </mj-text>
        <mj-button href="{{href undoUrl}}">Undo</mj-button>
        <mj-button href="{{href fixUrl}}" background-color="#ffffff" color="#0b5cad" border="1px solid #0b5cad">Fix</mj-button>
        <mj-text mj-class="muted"><p style="margin:0;">{{validity}}</p></mj-text>
`,
  `{{lead}}

This is exactly what was published:

{{text}}

View it in the feed: {{postUrl}}

Undo (remove it): {{undoUrl}}
Fix (edit it): {{fixUrl}}
{{validity}}
`,
);

const renderNotPublished = defineTemplate<NotPublishedView>(
  'receipt-not-published',
  `
        <mj-text>
          <p style="margin:0;">{{lead}}</p>
          <p style="margin:12px 0 0 0;"><b>Why:</b> {{why}}</p>
          <p style="margin:8px 0 0 0;"><b>What you can do:</b> {{whatToDo}}</p>
        </mj-text>
`,
  `{{lead}}

Why: {{why}}

What you can do: {{whatToDo}}
`,
);

/** "30 minutes", "2 hours", "1 hour and 30 minutes". */
function duration(minutes: number): string {
  const m = Math.max(0, Math.round(minutes));
  if (m < 60) return plural(m, 'minute');
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? plural(h, 'hour') : `${plural(h, 'hour')} and ${plural(m % 60, 'minute')}`;
}

const NOT_PUBLISHED_LEAD = {
  rejected: 'was not published.',
  withheld: 'was kept, but not published.',
  held: 'is on hold and was not published yet.',
} as const;

const isPublished = (m: ReceiptMailInput): m is PublishedReceipt => m.outcome === 'posted' || m.outcome === 'commented';

/**
 * The receipt to a sender: what was published, with Undo and Fix links while they work,
 * or why nothing was and what to do. Replies to a receipt do not comment.
 */
export function renderReceiptMail(m: ReceiptMailInput): RenderedMail {
  const footer = { replyHint: null, preferencesUrl: m.preferencesUrl, unsubscribeUrl: null };
  if (isPublished(m)) {
    const title = quoted(m.title);
    const subject = m.outcome === 'posted' ? `Published: ${oneLine(m.title) || 'untitled'}` : `Your comment on ${title} was published`;
    const validity = `Undo and Fix work for ${duration(m.validMinutes)} after this mail was sent.`;
    return renderPublished({
      ...footer,
      subject: oneLine(subject),
      preview: oneLine(m.text).slice(0, 140),
      textFooterLines: [],
      lead: m.outcome === 'posted' ? `Your post ${title} was published in the feed.` : `Your comment on ${title} was published in the feed.`,
      text: m.text,
      postUrl: m.postUrl,
      undoUrl: m.undoUrl,
      fixUrl: m.fixUrl,
      validity,
    });
  }
  const { why, whatToDo } = explainOutcome(m.reason);
  const original = oneLine(m.subject) || '(no subject)';
  return renderNotPublished({
    ...footer,
    subject: oneLine(`Not published: ${original}`),
    preview: why,
    textFooterLines: [],
    lead: `Your mail ${quoted(original)} ${NOT_PUBLISHED_LEAD[m.outcome]}`,
    why,
    whatToDo,
  });
}
