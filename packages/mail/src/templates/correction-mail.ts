import { translator, type Language } from '@blend/core';
import { defineTemplate, nameOr, replySubject, type LayoutView, type RenderedMail } from './engine';

export interface CorrectionMailInput {
  authorName: string;
  change: 'edited' | 'deleted';
  /** The new text; '' when deleted. */
  text: string;
  postTitle: string;
  postUrl: string;
  preferencesUrl: string;
  /** The recipient's language. @defaultValue 'en' */
  language?: Language;
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
          <p style="margin:12px 0 0 0;color:#59636e;font-size:13px;"><a href="{{href postUrl}}">{{t 'common.viewThread'}}</a></p>
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
  const lang = m.language ?? 'en';
  const t = translator(lang, 'mail');
  const author = nameOr(m.authorName, undefined, lang);
  const edited = m.change === 'edited';
  return render({
    lang,
    subject: replySubject(m.postTitle, lang),
    preview: t(edited ? 'correction.editedPreview' : 'correction.deletedPreview', { author }),
    replyHint: t('common.replyToAnswer'),
    preferencesUrl: m.preferencesUrl,
    unsubscribeUrl: null,
    textFooterLines: [t('common.viewThreadAt', { url: m.postUrl })],
    lead: t(edited ? 'correction.editedLead' : 'correction.deletedLead', { author }),
    edited,
    text: edited ? m.text : '',
    postUrl: m.postUrl,
  });
}
