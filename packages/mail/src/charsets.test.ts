import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sanitiseHtml } from '@blend/core';
import { convertMail } from '@blend/core';
import { parseMail } from './parse';

const FIXTURES = new URL('../../../test/fixtures/mail/', import.meta.url);
const load = (file: string) => parseMail(readFileSync(new URL(file, FIXTURES)));

/** Replacement characters and the usual UTF-8-read-as-Latin-1 pairs. */
const MOJIBAKE = /\uFFFD|Ã[\u0080-\u00BF]|â€|Â[\u00A0-\u00BF]|\+A[A-Za-z0-9+/]{2,}-/;

interface Case {
  subject: string;
  /** Exact expected body_text. */
  text: string;
  /** Words of the quoted history, signature or footer that must appear nowhere in the body. */
  absent: string[];
  source: 'html' | 'text';
  inline?: boolean;
  tags?: string[];
  names?: string[];
}

describe('fixture mail -> post body (charsets and clients)', () => {
  it.each<[string, Case]>([
    ['conv-outlook-desktop-reply.eml', {
      subject: 'RE: Quarterly plan',
      text: "Agreed, let's move the launch to Thursday. #launch\n\n@alice can you update the plan?",
      absent: ['quarterly plan is ready', 'Sent:', 'Best regards', 'Head of Finance', '1234 5678'],
      source: 'html', tags: ['launch'], names: ['alice'],
    }],
    ['conv-outlook-de-reply.eml', {
      subject: 'AW: Liefertermin für KW 12',
      text: 'Hallo Anna,\n\ndas Angebot passt so. Bitte bestätige den Liefertermin für KW 12.\n\nMit freundlichen Grüßen',
      absent: ['Zitatgeheim', 'Gesendet', 'Max Müller', 'Leiter Einkauf', 'vertrauliche'],
      source: 'html',
    }],
    ['conv-gmail-reply.eml', {
      subject: 'Re: Quarterly plan',
      text: 'Looks good to me. One question about Q3 hiring: do we have budget for two roles? #hiring',
      absent: ['ready for review', 'wrote:', 'ACME Corp', '-- '],
      source: 'html', tags: ['hiring'],
    }],
    ['conv-apple-reply.eml', {
      subject: 'Re: Atelier jeudi',
      text: 'D’accord pour jeudi 👍 J’apporte le projecteur.',
      absent: ['Citation secrète', 'a écrit', 'Envoyé de mon iPhone'],
      source: 'html',
    }],
    ['conv-thunderbird-reply.eml', {
      subject: 'Re: Planning',
      text: 'Prima, ik pas de planning aan.',
      absent: ['Geheim citaat', 'schreef', 'Jan de Vries'],
      source: 'html',
    }],
    ['conv-android-reply.eml', {
      subject: 'RE: Reunión',
      text: 'Perfecto, nos vemos el jueves.',
      absent: ['Cita secreta', 'Mensaje original', 'Enviado desde mi Galaxy'],
      source: 'html',
    }],
    ['conv-yahoo-reply.eml', {
      subject: 'Re: Team lunch',
      text: 'Sounds great, count me in! @bob',
      absent: ['Secret quote', 'wrote:'],
      source: 'html', names: ['bob'],
    }],
    ['conv-notes-reply.eml', {
      subject: 'Antwort: Quartalszahlen',
      text: 'Hallo Anna,\n\ndie Zahlen sind freigegeben.\n\nGruß',
      absent: ['Geheimzitat', 'Datum'],
      source: 'html',
    }],
    ['conv-inline-reply.eml', {
      subject: 'Re: Release',
      // Interleaved: the author's own lines in order; the quotes they answer are trimmed.
      text: 'Yes, if QA signs off by Wednesday.\n\nI will, @carol can review them. #release',
      absent: ['wrote:', 'Alice Example, Product', 'Thanks,', 'Bob', 'Can we ship on Thursday?'],
      source: 'text', inline: true, tags: ['release'], names: ['carol'],
    }],
    ['conv-ja-reply.eml', {
      subject: 'Re: 会議の件',
      text: '了解しました。木曜日の会議に参加します。\n\nよろしくお願いします。',
      absent: ['秘密の引用', 'iPhoneから送信', 'alice@corp.test'],
      source: 'text',
    }],
    ['conv-zh-gbk-reply.eml', {
      subject: '回复: 预算',
      text: '收到，我们周四开会讨论。#预算',
      absent: ['机密引用', '原始邮件', '发件人'],
      source: 'text', tags: ['预算'],
    }],
    ['conv-zh-big5-reply.eml', {
      subject: '回覆: 預算',
      text: '好的，我下週一回覆你。',
      absent: ['機密引用', '寫道'],
      source: 'text',
    }],
    ['conv-fr-win1252-reply.eml', {
      subject: 'Re: Budget validé – atelier',
      text: 'Bonjour Alice,\n\nC’est d’accord : le budget de 1 200 € est validé pour l’« atelier » de jeudi.\n\nCordialement,',
      absent: ['Citation secrète', 'Directeur', '+33'],
      source: 'text',
    }],
    ['conv-pl-iso88592-reply.eml', {
      subject: 'Re: Spotkanie w czwartek ąę',
      text: 'Dzień dobry,\n\nzgadzam się, spotkajmy się w czwartek o 10:00.\n\nPozdrawiam,',
      absent: ['Tajny cytat', 'napisał'],
      source: 'text',
    }],
    ['conv-ru-koi8r.eml', {
      subject: 'Re: Встреча в четверг',
      text: 'Привет, Иван!\n\nСогласен, встречаемся в четверг.\n\nС уважением,',
      absent: ['Секретная цитата', 'пишет', 'Отдел продаж'],
      source: 'text',
    }],
    ['conv-utf7.eml', {
      subject: 'Re: Angebot',
      // Decoded, and the markup that only exists after decoding is plain text, escaped below.
      text: 'Grüße aus München! Das Angebot für 3 € passt. <script>alert(1)</script>',
      absent: ['Geheimzitat', 'wrote:'],
      source: 'text',
    }],
  ])('%s', async (file, c) => {
    const { mail } = await load(file);
    const out = convertMail(mail);
    expect(mail.subject).toBe(c.subject);
    expect(out.bodyText).toBe(c.text);
    expect(out.source).toBe(c.source);
    expect(out.confidence).toBe('high');
    expect(out.inline).toBe(c.inline ?? false);
    expect(out.forwarded).toEqual([]);
    expect(out.tags).toEqual(c.tags ?? []);
    expect(out.mentions.names).toEqual(c.names ?? []);
    for (const word of c.absent) {
      expect(out.bodyText).not.toContain(word);
      expect(out.bodyHtml).not.toContain(word);
    }
    expect(`${mail.subject}\n${out.bodyText}\n${out.bodyHtml}\n${mail.from?.name ?? ''}`).not.toMatch(MOJIBAKE);
    expect(sanitiseHtml(out.bodyHtml)).toBe(out.bodyHtml);
    expect(out.bodyHtml).not.toMatch(/<script|<style|class=|style=|id=/i);
  });

  it.each([
    ['conv-ja-reply.eml', '山田太郎'],
    ['conv-zh-gbk-reply.eml', '张伟'],
    ['conv-zh-big5-reply.eml', '陳怡君'],
    ['conv-ru-koi8r.eml', 'Пётр Иванов'],
    ['conv-outlook-de-reply.eml', 'Max Müller'],
    ['conv-android-reply.eml', 'Ana García'],
  ])('%s: RFC 2047 display name is %s', async (file, name) => {
    expect((await load(file)).mail.from?.name).toBe(name);
  });

  it.each([
    ['conv-gmail-forward.eml', 'FYI, please review before Friday. #contracts', 'html', {
      from: 'Dana Supplier <dana@supplier.test>', date: 'Mon, 23 Nov 2026 at 17:45', subject: 'Supplier contract',
      text: 'Hi Bob,\n\nthe signed contract is attached.\n\nBest regards,',
    }],
    ['conv-outlook-forward.eml', 'Can someone from accounts payable take this?\n\nThanks,', 'text', {
      from: 'Dana Supplier <dana@supplier.test>', date: 'Monday, November 23, 2026 5:45 PM', subject: 'Invoice 4711',
      text: 'Dear Bob,\n\nplease find invoice 4711 attached.\n\nKind regards,',
    }],
  ])('%s: the note is the body, the forward is kept apart', async (file, note, source, forwarded) => {
    const out = convertMail((await load(file)).mail);
    expect(out.bodyText).toBe(note);
    expect(out.source).toBe(source);
    expect(out.forwarded).toEqual([forwarded]);
    // The forwarded message never leaks into the post body.
    expect(`${out.bodyText}${out.bodyHtml}`).not.toMatch(/Dana|invoice 4711 attached|signed contract|Forwarded/);
  });

  it('conv-rfc2231-attachment.eml: RFC 2231 continuations and charsets, RFC 2047 in a quoted filename', async () => {
    const { mail, attachments } = await load('conv-rfc2231-attachment.eml');
    expect(attachments.map((a) => a.filename)).toEqual(['報告書 第3四半期.pdf', 'résumé.txt', 'Präsentation Q3.pptx']);
    expect(convertMail(mail).bodyText).toBe('Please find the report attached.');
  });

  it('known To/Cc people become mentions, the sender and strangers do not', async () => {
    const { mail } = await load('conv-gmail-reply.eml');
    const out = convertMail(mail, { knownAddresses: new Set(['alice@corp.test', 'bob@corp.test']) });
    expect(out.mentions.emails).toEqual(['alice@corp.test']);
  });
});
