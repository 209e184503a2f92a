import { translator, type Language } from '@blend/core';
import {
  defineTemplate,
  nameOr,
  oneLine,
  quoted,
  timeFormatter,
  type LayoutView,
  type RenderedMail,
} from './engine';

export interface NotificationItem {
  kind: 'mention' | 'reply';
  authorName: string;
  text: string;
  at: Date;
}

export interface NotificationMailInput {
  recipientName: string;
  threadTitle: string;
  postUrl: string;
  /** Oldest first; several items are coalesced notifications for one thread. */
  items: NotificationItem[];
  preferencesUrl: string;
  /** IANA zone for the times shown; an unknown zone shows UTC. */
  timezone: string;
  /** The recipient's language. @defaultValue 'en' */
  language?: Language;
}

interface NotificationView extends LayoutView {
  recipientName: string;
  headline: string;
  postUrl: string;
  items: { author: string; action: string; time: string; text: string }[];
}

const render = defineTemplate<NotificationView>(
  'notification',
  `
        <mj-text>
          <p style="margin:0 0 8px 0;">{{t 'common.hi' name=recipientName}}</p>
          <p style="margin:0;">{{headline}}</p>
          {{#each items}}
          <p style="margin:14px 0 0 0;"><b>{{author}}</b> {{action}} <span style="color:#59636e;font-size:13px;">{{time}}</span></p>
          <p class="quote" style="margin:4px 0 0 0;border-left:3px solid #d0d7de;padding-left:12px;">{{br text}}</p>
          {{/each}}
        </mj-text>
        <mj-button href="{{href postUrl}}">{{t 'common.viewThread'}}</mj-button>
`,
  `{{t 'common.hi' name=recipientName}}

{{headline}}
{{#each items}}

{{author}} {{action}}, {{time}}:
{{text}}
{{/each}}
`,
);

/**
 * A mention or reply (or several, coalesced) in one thread. The worker sends it with a
 * reply address for the thread, so replying comments.
 */
export function renderNotificationMail(m: NotificationMailInput): RenderedMail {
  const lang = m.language ?? 'en';
  const t = translator(lang, 'mail');
  const time = timeFormatter(m.timezone, lang);
  const title = quoted(m.threadTitle, lang);
  const first = m.items[0];
  const subject =
    m.items.length === 1 && first
      ? t(first.kind === 'mention' ? 'notification.mentionedSubject' : 'notification.repliedSubject', { author: nameOr(first.authorName, undefined, lang), title })
      : t('notification.updatesSubject', { count: m.items.length, title });
  return render({
    lang,
    subject: oneLine(subject),
    preview: first ? oneLine(first.text).slice(0, 140) : '',
    replyHint: t('notification.replyHint'),
    preferencesUrl: m.preferencesUrl,
    unsubscribeUrl: null,
    textFooterLines: [t('common.viewThreadAt', { url: m.postUrl })],
    recipientName: nameOr(m.recipientName, t('common.there')),
    headline: `${subject}:`,
    postUrl: m.postUrl,
    items: m.items.map((i) => ({
      author: nameOr(i.authorName, undefined, lang),
      action: t(i.kind === 'mention' ? 'notification.mentionedYou' : 'notification.replied'),
      time: time(i.at),
      text: i.text,
    })),
  });
}
