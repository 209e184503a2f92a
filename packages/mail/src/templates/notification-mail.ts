import {
  defineTemplate,
  nameOr,
  oneLine,
  plural,
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
          <p style="margin:0 0 8px 0;">Hi {{recipientName}},</p>
          <p style="margin:0;">{{headline}}</p>
          {{#each items}}
          <p style="margin:14px 0 0 0;"><b>{{author}}</b> {{action}} <span style="color:#59636e;font-size:13px;">{{time}}</span></p>
          <p class="quote" style="margin:4px 0 0 0;border-left:3px solid #d0d7de;padding-left:12px;">{{br text}}</p>
          {{/each}}
        </mj-text>
        <mj-button href="{{href postUrl}}">View the thread</mj-button>
`,
  `Hi {{recipientName}},

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
  const time = timeFormatter(m.timezone);
  const title = quoted(m.threadTitle);
  const first = m.items[0];
  const subject =
    m.items.length === 1 && first
      ? first.kind === 'mention'
        ? `${nameOr(first.authorName)} mentioned you in ${title}`
        : `${nameOr(first.authorName)} replied to ${title}`
      : `${plural(m.items.length, 'new update')} in ${title}`;
  return render({
    subject: oneLine(subject),
    preview: first ? oneLine(first.text).slice(0, 140) : '',
    replyHint: 'Reply to this mail to add a comment to the thread.',
    preferencesUrl: m.preferencesUrl,
    unsubscribeUrl: null,
    textFooterLines: [`View the thread: ${m.postUrl}`],
    recipientName: nameOr(m.recipientName, 'there'),
    headline: `${subject}:`,
    postUrl: m.postUrl,
    items: m.items.map((i) => ({
      author: nameOr(i.authorName),
      action: i.kind === 'mention' ? 'mentioned you' : 'replied',
      time: time(i.at),
      text: i.text,
    })),
  });
}
