import { translator, type DigestModel, type DigestThread, type Language } from '@blend/core';
import {
  defineTemplate,
  mailtoUri,
  nameOr,
  oneLine,
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
  /** The recipient's language. @defaultValue 'en' */
  language?: Language;
}

interface DigestView extends LayoutView {
  recipientName: string;
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
          <p style="margin:0 0 8px 0;">{{t 'common.hi' name=recipientName}}</p>
          <p style="margin:0;">{{t 'digest.intro'}}</p>
        </mj-text>
        <mj-raw>{{#each threads}}</mj-raw>
        <mj-text padding="18px 24px 4px 24px">
          <p style="margin:0;padding-top:14px;border-top:1px solid #d0d7de;font-size:17px;font-weight:bold;"><a href="{{href url}}" style="text-decoration:none;">{{title}}</a></p>
          <p style="margin:0;color:#59636e;font-size:13px;">{{groupName}}{{#if mentionsMe}} · <b>{{t 'digest.mentioned'}}</b>{{/if}}</p>
          {{#if omittedLabel}}<p style="margin:8px 0 0 0;color:#59636e;font-size:13px;">{{omittedLabel}}</p>{{/if}}
          {{#each items}}
          <p style="margin:10px 0 0 0;"><b>{{author}}</b> <span style="color:#59636e;font-size:13px;">{{time}}{{#if byMail}} · {{t 'digest.byMail'}}{{/if}}</span></p>
          <p style="margin:2px 0 0 0;">{{br text}}</p>
          {{/each}}
          <p style="margin:10px 0 0 0;"><a href="{{href replyHref}}">{{t 'digest.replyToThread'}}</a> · <a href="{{href url}}">{{t 'digest.openInFeed'}}</a></p>
        </mj-text>
        <mj-raw>{{/each}}</mj-raw>
        <mj-raw>{{#if omittedThreadsLabel}}</mj-raw>
        <mj-divider />
        <mj-text mj-class="muted"><p style="margin:0;">{{omittedThreadsLabel}}</p></mj-text>
        <mj-raw>{{/if}}</mj-raw>
        <mj-text mj-class="muted"><p style="margin:12px 0 0 0;">{{zoneNote}}</p></mj-text>
`,
  `{{t 'common.hi' name=recipientName}}

{{t 'digest.intro'}}
{{#each threads}}


== {{title}} ==
{{groupName}}{{#if mentionsMe}} · {{t 'digest.mentioned'}}{{/if}}
{{url}}
{{#if omittedLabel}}
({{omittedLabel}})
{{/if}}
{{#each items}}

{{author}}, {{time}}{{#if byMail}} ({{t 'digest.byMail'}}){{/if}}:
{{text}}
{{/each}}

{{t 'common.labelled' label=(t 'digest.replyToThread') value=replyAddress}}
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
  const lang = m.language ?? 'en';
  const t = translator(lang, 'mail');
  const time = timeFormatter(m.timezone, lang);
  const threadCount = digest.threads.length + digest.omittedThreads;
  const subject = oneLine(
    t(`digest.subject.${m.frequency}`, { threads: t('digest.threads', { count: threadCount }), updates: t('digest.updates', { count: digest.totalItems }) }),
  );
  const threads = digest.threads.map((th) => ({
    title: oneLine(th.title) || t('common.untitledTitle'),
    url: th.url,
    groupName: th.groupName,
    mentionsMe: th.mentionsMe,
    omittedLabel: th.omittedItems > 0 ? t('digest.omittedItems', { count: th.omittedItems }) : null,
    replyAddress: th.replyAddress,
    replyHref: mailtoUri(th.replyAddress, replySubject(th.title, lang)),
    items: th.items.map((i) => ({
      author: nameOr(i.authorName, i.authorEmail),
      time: time(i.at),
      byMail: i.source === 'email',
      text: i.text,
    })),
  }));
  const first = threads[0];
  return render({
    lang,
    subject,
    preview: first ? `${first.title}: ${first.items.at(-1)?.author ?? ''}` : t('digest.nothingNew'),
    replyHint: null,
    preferencesUrl: m.preferencesUrl,
    unsubscribeUrl: m.unsubscribeUrl,
    textFooterLines: [],
    recipientName: nameOr(m.recipientName, t('common.there')),
    zoneNote: t('digest.zoneNote', { zone: zoneLabel(m.timezone) }),
    threads,
    omittedThreadsLabel: digest.omittedThreads > 0 ? t('digest.omittedThreads', { count: digest.omittedThreads }) : null,
  });
}
