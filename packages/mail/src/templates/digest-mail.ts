import type { DigestModel, DigestThread } from '@blend/core';
import {
  defineTemplate,
  mailtoUri,
  nameOr,
  oneLine,
  plural,
  replySubject,
  timeFormatter,
  zoneLabel,
  type LayoutView,
  type RenderedMail,
} from './engine';

/** A digest thread with the links the worker adds: the feed page and a reply address. */
export type DigestMailThread = DigestThread & { url: string; replyAddress: string };

export interface DigestMailInput {
  recipientName: string;
  frequency: 'hourly' | 'daily' | 'weekly';
  /** composeDigest()'s result, each thread with its links added. */
  digest: Omit<DigestModel, 'threads'> & { threads: DigestMailThread[] };
  preferencesUrl: string;
  unsubscribeUrl: string;
  /** IANA zone for the times shown. @defaultValue 'UTC' */
  timezone?: string;
}

interface DigestView extends LayoutView {
  recipientName: string;
  intro: string;
  zoneNote: string;
  threads: {
    title: string;
    url: string;
    groupName: string;
    mentionsMe: boolean;
    omittedLabel: string | null;
    replyAddress: string;
    replyHref: string;
    items: { author: string; time: string; byMail: boolean; text: string }[];
  }[];
  omittedThreadsLabel: string | null;
}

const render = defineTemplate<DigestView>(
  'digest',
  `
        <mj-text>
          <p style="margin:0 0 8px 0;">Hi {{recipientName}},</p>
          <p style="margin:0;">{{intro}}</p>
        </mj-text>
        <mj-raw>{{#each threads}}</mj-raw>
        <mj-text padding="18px 24px 4px 24px">
          <p style="margin:0;padding-top:14px;border-top:1px solid #d0d7de;font-size:17px;font-weight:bold;"><a href="{{href url}}" style="text-decoration:none;">{{title}}</a></p>
          <p style="margin:0;color:#59636e;font-size:13px;">{{groupName}}{{#if mentionsMe}} · <b>You were mentioned</b>{{/if}}</p>
          {{#if omittedLabel}}<p style="margin:8px 0 0 0;color:#59636e;font-size:13px;">{{omittedLabel}}</p>{{/if}}
          {{#each items}}
          <p style="margin:10px 0 0 0;"><b>{{author}}</b> <span style="color:#59636e;font-size:13px;">{{time}}{{#if byMail}} · by mail{{/if}}</span></p>
          <p style="margin:2px 0 0 0;">{{br text}}</p>
          {{/each}}
          <p style="margin:10px 0 0 0;"><a href="{{href replyHref}}">Reply to this thread</a> · <a href="{{href url}}">Open in the feed</a></p>
        </mj-text>
        <mj-raw>{{/each}}</mj-raw>
        <mj-raw>{{#if omittedThreadsLabel}}</mj-raw>
        <mj-divider />
        <mj-text mj-class="muted"><p style="margin:0;">{{omittedThreadsLabel}}</p></mj-text>
        <mj-raw>{{/if}}</mj-raw>
        <mj-text mj-class="muted"><p style="margin:12px 0 0 0;">{{zoneNote}}</p></mj-text>
`,
  `Hi {{recipientName}},

{{intro}}
{{#each threads}}


== {{title}} ==
{{groupName}}{{#if mentionsMe}} · You were mentioned{{/if}}
{{url}}
{{#if omittedLabel}}
({{omittedLabel}})
{{/if}}
{{#each items}}

{{author}}, {{time}}{{#if byMail}} (by mail){{/if}}:
{{text}}
{{/each}}

Reply to this thread: {{replyAddress}}
{{/each}}
{{#if omittedThreadsLabel}}


{{omittedThreadsLabel}}
{{/if}}

{{zoneNote}}
`,
);

/**
 * The digest: threads in the given order (newest activity first, as composeDigest sorts
 * them), each with its newest items, a count of older ones and a reply link whose address
 * posts a comment to that thread. The mail itself has no reply address.
 */
export function renderDigestMail(m: DigestMailInput): RenderedMail {
  const { digest } = m;
  const time = timeFormatter(m.timezone);
  const threadCount = digest.threads.length + digest.omittedThreads;
  const subject = oneLine(
    `Your ${m.frequency} Blend digest: ${plural(threadCount, 'thread')}, ${plural(digest.totalItems, 'update')}`,
  );
  const threads = digest.threads.map((t) => ({
    title: oneLine(t.title) || 'Untitled',
    url: t.url,
    groupName: t.groupName,
    mentionsMe: t.mentionsMe,
    omittedLabel: t.omittedItems > 0 ? `${plural(t.omittedItems, 'earlier update')} not shown` : null,
    replyAddress: t.replyAddress,
    replyHref: mailtoUri(t.replyAddress, replySubject(t.title)),
    items: t.items.map((i) => ({
      author: nameOr(i.authorName, i.authorEmail),
      time: time(i.at),
      byMail: i.source === 'email',
      text: i.text,
    })),
  }));
  const first = threads[0];
  return render({
    subject,
    preview: first ? `${first.title}: ${first.items.at(-1)?.author ?? ''}` : 'Nothing new',
    replyHint: null,
    preferencesUrl: m.preferencesUrl,
    unsubscribeUrl: m.unsubscribeUrl,
    textFooterLines: [],
    recipientName: nameOr(m.recipientName, 'there'),
    intro: 'Here is what happened in the threads you follow since your last digest. Use “Reply to this thread” to add a comment by mail.',
    zoneNote: `Times are in ${zoneLabel(m.timezone)}.`,
    threads,
    omittedThreadsLabel: digest.omittedThreads > 0 ? `${plural(digest.omittedThreads, 'more thread')} not shown. Open the feed to see everything.` : null,
  });
}
