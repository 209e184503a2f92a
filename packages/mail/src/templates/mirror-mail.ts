import { translator, type Language } from '@blend/core';
import { defineTemplate, nameOr, oneLine, replySubject, type LayoutView, type RenderedMail } from './engine';

export interface MirrorMailInput {
  authorName: string;
  /** The comment as plain text. */
  text: string;
  postTitle: string;
  postUrl: string;
  preferencesUrl: string;
  /** The language of the note around the comment (the comment itself is the author's). @defaultValue 'en' */
  language?: Language;
}

interface MirrorView extends LayoutView {
  text: string;
  authorName: string;
  postUrl: string;
}

const render = defineTemplate<MirrorView>(
  'mirror',
  `
        <mj-text><p style="margin:0;">{{br text}}</p></mj-text>
        <mj-text mj-class="muted"><p style="margin:12px 0 0 0;">{{t 'mirror.commented' author=authorName}} · <a href="{{href postUrl}}">{{t 'common.viewThread'}}</a></p></mj-text>
`,
  `{{text}}
`,
);

/**
 * A comment written in the feed, mirrored into the mail conversation it belongs to. It
 * reads like a mail from the author: the comment first, then a short note where it came
 * from. The worker sends it with the thread's Reply-To, so replying comments.
 */
export function renderMirrorMail(m: MirrorMailInput): RenderedMail {
  const lang = m.language ?? 'en';
  const t = translator(lang, 'mail');
  const authorName = nameOr(m.authorName, undefined, lang);
  return render({
    lang,
    subject: replySubject(m.postTitle, lang),
    preview: oneLine(m.text).slice(0, 140),
    replyHint: t('common.replyToAnswer'),
    preferencesUrl: m.preferencesUrl,
    unsubscribeUrl: null,
    textFooterLines: [t('mirror.commentedLine', { author: authorName }), t('common.viewThreadAt', { url: m.postUrl })],
    text: m.text,
    authorName,
    postUrl: m.postUrl,
  });
}
