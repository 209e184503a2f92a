import { defineTemplate, nameOr, replySubject, type LayoutView, type RenderedMail } from './engine';

export interface CorrectionMailInput {
  authorName: string;
  change: 'edited' | 'deleted';
  /** The new text; '' when deleted. */
  text: string;
  postTitle: string;
  postUrl: string;
  preferencesUrl: string;
}

interface CorrectionView extends LayoutView {
  lead: string;
  edited: boolean;
  text: string;
  postUrl: string;
}

const render = defineTemplate<CorrectionView>(
  'correction',
  `
        <mj-text>
          <p style="margin:0;">{{lead}}</p>
          {{#if edited}}<p class="quote" style="margin:8px 0 0 0;border-left:3px solid #d0d7de;padding-left:12px;">{{br text}}</p>{{/if}}
          <p style="margin:12px 0 0 0;color:#59636e;font-size:13px;"><a href="{{href postUrl}}">View the thread</a></p>
        </mj-text>
`,
  `{{lead}}
{{#if edited}}

{{text}}
{{/if}}
`,
);

/**
 * Follows a mirrored comment into the mail conversation after its author edited or
 * deleted it in the feed: short, and only the new text (mail cannot be recalled).
 */
export function renderCorrectionMail(m: CorrectionMailInput): RenderedMail {
  const author = nameOr(m.authorName);
  const edited = m.change === 'edited';
  return render({
    subject: replySubject(m.postTitle),
    preview: edited ? `${author} edited their comment` : `${author} deleted their comment`,
    replyHint: 'Reply to this mail to answer in the thread.',
    preferencesUrl: m.preferencesUrl,
    unsubscribeUrl: null,
    textFooterLines: [`View the thread: ${m.postUrl}`],
    lead: edited ? `${author} edited their comment:` : `${author} deleted their comment.`,
    edited,
    text: edited ? m.text : '',
    postUrl: m.postUrl,
  });
}
