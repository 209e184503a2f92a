import { translator, type Language } from './i18n';

/**
 * The text of the short mails Blend sends about inbound mail (invitations, confirmations,
 * notices), in the recipient's language (`lang`, English when not given). Plain text only,
 * generic wording: nothing in them tells a stranger more than how to opt in
 * (docs/SECURITY.md I3 "any text sent to an untrusted sender is generic").
 */
export interface NoticeText {
  subject: string;
  text: string;
  /** The language it is written in, for its `Content-Language` header; absent: English. */
  language?: Language;
}

/** The signature every notice ends with (after the RFC 3676 delimiter). */
export const noticeFooter = (bridge: string, lang: Language = 'en') => `\n\n-- \n${translator(lang, 'mail')('notice.footer', { bridge })}`;

/** To someone whose mail was withheld because they have not opted in. */
export function inviteNotice(p: { bridge: string; optInUrl: string; retentionDays: number; lang?: Language }): NoticeText {
  const lang = p.lang ?? 'en';
  const t = translator(lang, 'mail');
  return {
    subject: t('notice.invite.subject'),
    text: t('notice.invite.text', { url: p.optInUrl, days: t('notice.days', { count: p.retentionDays }) }) + noticeFooter(p.bridge, lang),
    language: lang,
  };
}

/** Double opt-in: confirm a mailed `opt in` command. */
export function optInConfirmNotice(p: { bridge: string; optInUrl: string; lang?: Language }): NoticeText {
  const lang = p.lang ?? 'en';
  const t = translator(lang, 'mail');
  return { subject: t('notice.optInConfirm.subject'), text: t('notice.optInConfirm.text', { url: p.optInUrl }) + noticeFooter(p.bridge, lang), language: lang };
}

/** Confirm an `unsubscribe` keyword (docs/SECURITY.md B23: a keyword asks for confirmation). */
export function optOutConfirmNotice(p: { bridge: string; optOutUrl: string; lang?: Language }): NoticeText {
  const lang = p.lang ?? 'en';
  const t = translator(lang, 'mail');
  return { subject: t('notice.optOutConfirm.subject'), text: t('notice.optOutConfirm.text', { url: p.optOutUrl }) + noticeFooter(p.bridge, lang), language: lang };
}

/** Sent after a mailed `opt out`: what changed. */
export function optedOutNotice(p: { bridge: string; lang?: Language }): NoticeText {
  const lang = p.lang ?? 'en';
  const t = translator(lang, 'mail');
  return { subject: t('notice.optedOut.subject'), text: t('notice.optedOut.text') + noticeFooter(p.bridge, lang), language: lang };
}

/** A new mirrored thread names this person on To/Cc: consent per thread. */
export function threadNotice(p: { bridge: string; sharer: string; title: string; postUrl: string; withholdUrl: string; lang?: Language }): NoticeText {
  const lang = p.lang ?? 'en';
  const t = translator(lang, 'mail');
  return {
    subject: t('notice.thread.subject', { title: p.title }),
    text: t('notice.thread.text', { sharer: p.sharer, title: p.title, url: p.postUrl, withholdUrl: p.withholdUrl }) + noticeFooter(p.bridge, lang),
    language: lang,
  };
}

/** The sharer's thread has people outside the organisation on To/Cc: confirm first. */
export function shareConfirmNotice(p: { bridge: string; title: string; outsiders: string[]; confirmUrl: string; lang?: Language }): NoticeText {
  const lang = p.lang ?? 'en';
  const t = translator(lang, 'mail');
  const list = p.outsiders.slice(0, 10).join(', ');
  const shown = p.outsiders.length > 10 ? t('notice.shareConfirm.more', { list, count: p.outsiders.length - 10 }) : list;
  return {
    subject: t('notice.shareConfirm.subject', { title: p.title }),
    text: t('notice.shareConfirm.text', { title: p.title, outsiders: shown, url: p.confirmUrl }) + noticeFooter(p.bridge, lang),
    language: lang,
  };
}

/**
 * Answer to `help`: the commands in the recipient's language, each by the first phrase of its
 * command catalogue entry (every language's phrases are understood).
 */
export function helpNotice(p: { bridge: string; lang?: Language }): NoticeText {
  const lang = p.lang ?? 'en';
  const t = translator(lang, 'mail');
  const c = translator(lang, 'command');
  const word = (key: string) => c(key).split('|')[0]!.trim();
  const digest = `${word('digest')} ${['digest.daily', 'digest.hourly', 'digest.weekly', 'digest.off'].map(word).join('|')}`;
  const rows: [string, string][] = [
    [word('optIn'), t('notice.help.optIn')],
    [word('optOut'), t('notice.help.optOut')],
    [digest, t('notice.help.digest')],
    [word('help'), t('notice.help.help')],
  ];
  // A column for the phrases; one too long for it is followed by three spaces.
  const lines = rows.map(([cmd, what]) => `  ${cmd.length > 23 ? `${cmd}   ` : cmd.padEnd(26)}${what}`);
  return {
    subject: t('notice.help.subject'),
    text: `${t('notice.help.intro', { bridge: p.bridge })}\n\n${lines.join('\n')}\n\n${t('notice.help.outro', { bridge: p.bridge })}`,
    language: lang,
  };
}
