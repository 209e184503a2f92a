import { translator, type Language } from './i18n';
import { noticeFooter, type NoticeText } from './notices';

/**
 * To the author of a post or comment an admin hid: what, why, and that only they still see it
 * (docs/SECURITY.md B40). Plain text in the author's language; the reason is the admin's own
 * words, sent to the author only.
 */
export function hiddenItemNotice(p: { kind: 'post' | 'comment'; title: string; reason: string; postUrl: string | null; bridge: string; lang?: Language }): NoticeText {
  const lang = p.lang ?? 'en';
  const t = translator(lang, 'mail');
  const title = t('common.quoted', { title: p.title });
  const what = p.title ? t(`notice.hidden.${p.kind}`, { title }) : t(`notice.hidden.${p.kind}Untitled`);
  const still = p.postUrl ? t(`notice.hidden.${p.kind}StillYoursAt`, { url: p.postUrl }) : t(`notice.hidden.${p.kind}StillYours`);
  return {
    subject: t(`notice.hidden.${p.kind}Subject`),
    text: `${what}\n\n${t('notice.hidden.reason', { reason: p.reason })}\n\n${still}\n${t('notice.hidden.notRecalled')}${noticeFooter(p.bridge, lang)}`,
    language: lang,
  };
}
