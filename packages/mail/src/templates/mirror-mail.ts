import { defineTemplate, nameOr, oneLine, replySubject, type LayoutView, type RenderedMail } from './engine';

export interface MirrorMailInput {
  authorName: string;
  /** The comment as plain text. */
  text: string;
  postTitle: string;
  postUrl: string;
  preferencesUrl: string;
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
        <mj-text mj-class="muted"><p style="margin:12px 0 0 0;">{{authorName}} commented on Blend · <a href="{{href postUrl}}">View the thread</a></p></mj-text>
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
  const authorName = nameOr(m.authorName);
  return render({
    subject: replySubject(m.postTitle),
    preview: oneLine(m.text).slice(0, 140),
    replyHint: 'Reply to this mail to answer in the thread.',
    preferencesUrl: m.preferencesUrl,
    unsubscribeUrl: null,
    textFooterLines: [`${authorName} commented on Blend.`, `View the thread: ${m.postUrl}`],
    text: m.text,
    authorName,
    postUrl: m.postUrl,
  });
}
