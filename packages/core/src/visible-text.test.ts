import { describe, expect, it } from 'vitest';
import { extractVisibleText } from './visible-text';

const l = (...lines: string[]) => lines.join('\n');

describe('extractVisibleText', () => {
  it.each<[string, string, string]>([
    ['plain text', l('Hello', '', 'Thanks'), l('Hello', '', 'Thanks')],
    ['empty', '', ''],
    ['CRLF normalised', 'Hello\r\nworld\r\n', l('Hello', 'world')],
    ['trailing and leading blank lines', l('', '  ', 'Hello', '', '', ''), 'Hello'],
    ['control chars', 'Hel\u0000lo', 'Hello'],

    // attributions
    ['English attribution', l('Yes.', '', 'On Mon, 3 Jun 2024 at 10:00, Jane <jane@corp.com> wrote:', '> Budget?'), 'Yes.'],
    ['attribution wrapped over two lines', l('Yes.', '', 'On Mon, 3 Jun 2024 at 10:00, Jane Doe <', 'jane@corp.com> wrote:', '> Budget?'), 'Yes.'],
    ['attribution with no quote below', l('Yes.', 'On Monday Jane wrote:', 'Budget?'), 'Yes.'],
    ['German', l('Ja.', '', 'Am 03.06.2024 um 10:00 schrieb Max Mustermann <max@firma.de>:', '> Budget?'), 'Ja.'],
    ['French with no-break space', l('Oui.', '', 'Le lun. 3 juin 2024 à 10:00, Jean <jean@x.fr> a écrit\u00A0:', '> Budget ?'), 'Oui.'],
    ['French plain space', l('Oui.', 'Le 3 juin 2024, Jean a écrit :', '> x'), 'Oui.'],
    ['Spanish', l('Sí.', 'El lun, 3 jun 2024 a las 10:00, Ana (<ana@x.es>) escribió:', '> x'), 'Sí.'],
    ['Italian', l('Sì.', 'Il giorno lun 3 giu 2024 alle ore 10:00 Luca <luca@x.it> ha scritto:', '> x'), 'Sì.'],
    ['Dutch', l('Ja.', 'Op ma 3 jun. 2024 om 10:00 schreef Jan <jan@x.nl>:', '> x'), 'Ja.'],
    ['Portuguese', l('Sim.', 'Em seg., 3 de jun. de 2024 às 10:00, Ana <ana@x.pt> escreveu:', '> x'), 'Sim.'],
    ['a sentence starting with On is kept', l('On Monday we ship.', 'Then we rest.'), l('On Monday we ship.', 'Then we rest.')],

    // separators and Outlook header blocks
    ['Original Message', l('Fine.', '', '-----Original Message-----', 'From: Jane', 'Budget?'), 'Fine.'],
    ['spaced Original Message', l('Fine.', '----- Original Message -----', 'From: Jane'), 'Fine.'],
    ['Ursprüngliche Nachricht', l('Gut.', '-----Ursprüngliche Nachricht-----', 'Von: Max'), 'Gut.'],
    ['Gmail forward', l('FYI', '', '---------- Forwarded message ---------', 'From: Jane <jane@corp.com>', 'Hi'), 'FYI'],
    ['Apple forward', l('FYI', '', 'Begin forwarded message:', '', 'From: Jane'), 'FYI'],
    [
      'Outlook header block',
      l('Agreed.', '', 'From: Jane Doe <jane@corp.com>', 'Sent: Monday, June 3, 2024 10:00 AM', 'To: Bob <bob@corp.com>', 'Subject: Budget', '', 'Budget?'),
      'Agreed.',
    ],
    [
      'Outlook header block with bold field names',
      l('Agreed.', '', '*From:* Jane Doe <jane@corp.com>', '*Sent:* Monday, June 3, 2024 10:00 AM', '*Subject:* Budget'),
      'Agreed.',
    ],
    [
      'German Outlook block',
      l('Einverstanden.', '', 'Von: Max Mustermann <max@firma.de>', 'Gesendet: Montag, 3. Juni 2024 10:00', 'An: Bob', 'Betreff: Budget'),
      'Einverstanden.',
    ],
    [
      'underscore rule before the block',
      l('Agreed.', '', '________________________________', 'From: Jane Doe <jane@corp.com>', 'Sent: Monday', 'Subject: Budget'),
      'Agreed.',
    ],
    ['underscore rule and From only', l('Agreed.', '________________________________', '', 'From: Jane'), 'Agreed.'],
    ['From: line without a date is kept', l('From: the team', 'We ship on Monday.'), l('From: the team', 'We ship on Monday.')],
    ['underscores alone are kept', l('Sign here', '__________________'), l('Sign here', '__________________')],

    // quotes
    ['bottom-posted reply', l('> Budget?', '> Thanks', '', 'Yes, approved.'), 'Yes, approved.'],
    ['bottom-posted under a From/Date attribution', l('From: Joe <joe@x.test>', 'Date: Sun, 14 Nov 2010 19:04:26 -0800', '', '> Signed-off-by: Joe <joe@x.test>', '', 'Applied.'), 'Applied.'],
    ['bottom-posted under an attribution', l('On Mon, 3 Jun 2024 at 10:00, Jane <jane@corp.com> wrote:', '> Budget?', '', 'Yes, approved.', '', '-- ', 'Bob'), 'Yes, approved.'],
    ['bottom-posted under a short attribution', l('Jane wrote:', '> Lunch?', '', 'Yes.'), 'Yes.'],
    [
      'quoted Outlook history inside an interleaved reply',
      l('> Q1?', 'A1.', '', '> Q2?', 'A2.', '', '> -----Original Message-----', '> From: Jane', '> Sent: Monday', '> older text'),
      l('A1.', '', 'A2.'),
    ],
    ['one answered quote over more history', l('> Q1?', 'A1.', '', '> rest of the mail'), 'A1.'],
    ['interleaved reply keeps only the answers, a paragraph apart', l('> Q1?', 'A1.', '> Q2?', 'A2.'), l('A1.', '', 'A2.')],
    ['trailing quote dropped', l('Yes.', '', '> Budget?', '>', '> Thanks'), 'Yes.'],
    ['trailing quote with blank lines inside', l('Yes.', '> a', '', '> b', ''), 'Yes.'],
    ['trailing quote with short attribution', l('Yes.', '', 'Jane Doe wrote:', '> Budget?'), 'Yes.'],
    ['interleaved then trailing quote', l('> Q1?', 'A1.', '', '> Q2?', '> more'), 'A1.'],
    ['only quoted text', l('> a', '> b'), ''],

    // signatures and footers
    ['RFC 3676 signature', l('Thanks.', '', '-- ', 'Jane Doe', 'ACME'), 'Thanks.'],
    ['bare -- signature', l('Thanks.', '--', 'Jane'), 'Thanks.'],
    ['--- is not a signature', l('Thanks.', '---', 'P.S. more'), l('Thanks.', '---', 'P.S. more')],
    ['-- inside a line is kept', l('a -- b'), 'a -- b'],
    ['signature before the quote', l('Thanks.', '-- ', 'Jane', '', '> quoted'), 'Thanks.'],
    ['only a signature', l('-- ', 'Jane'), ''],
    ['Sent from my iPhone', l('OK', '', 'Sent from my iPhone'), 'OK'],
    ['Sent from my Android', l('OK', 'Sent from my Android device'), 'OK'],
    ['Get Outlook for iOS', l('OK', '', 'Get Outlook for iOS'), 'OK'],
    ['Von meinem iPhone gesendet', l('OK', '', 'Von meinem iPhone gesendet'), 'OK'],
    ['Envoyé de mon iPhone', l('OK', '', 'Envoyé de mon iPhone'), 'OK'],
    ['Enviado desde mi iPhone', l('OK', '', 'Enviado desde mi iPhone'), 'OK'],
    ['footer mid-text is kept', l('Sent from my iPhone', 'is how I write'), l('Sent from my iPhone', 'is how I write')],
    [
      'top-post with footer and quote',
      l('Approved.', '', 'Sent from my iPhone', '', 'On 3 Jun 2024, at 10:00, Jane <jane@corp.com> wrote:', '', '> Budget?'),
      'Approved.',
    ],
    ['footer above a trailing quote', l('Approved.', 'Sent from my iPhone', '', '> Budget?'), 'Approved.'],

    // more attribution languages and clients
    ['Swedish Gmail', l('Ja.', '', 'Den tis 24 nov. 2026 kl 09:00 skrev Anna <anna@x.se>:', '> x'), 'Ja.'],
    ['Swedish Thunderbird', l('Ja.', 'Den 2026-11-24 kl. 09:00, skrev Anna:', '> x'), 'Ja.'],
    ['Polish Gmail', l('Tak.', 'wt., 24 lis 2026 o 09:00 Jan <jan@x.pl> napisał(a):', '> x'), 'Tak.'],
    ['Polish Thunderbird', l('Tak.', 'W dniu 24.11.2026 o 09:00, Jan Kowalski pisze:', '> x'), 'Tak.'],
    ['German Yahoo', l('Ja.', 'Am Dienstag, 24. November 2026, 09:00:00 MEZ hat Max <max@x.de> Folgendes geschrieben:', 'x'), 'Ja.'],
    ['German K-9', l('Ja.', 'Max <max@x.de> schrieb am 24. November 2026 09:00:00 MEZ:', '> x'), 'Ja.'],
    ['Notes wrote on', l('OK.', '"Jane Doe" <jane@x.com> wrote on 24/11/2026 09:00:00:', 'quoted'), 'OK.'],
    ['Notes dashed header', l('OK.', '-----Jane Doe/ACME wrote: -----', 'To: Bob', 'quoted'), 'OK.'],
    ['Notes forwarded by', l('FYI', '----- Forwarded by Jane Doe/ACME on 24.11.2026 09:00 -----', 'x'), 'FYI'],
    ['Japanese Thunderbird', l('了解です。', '', '山田さんは書きました:', '> x'), '了解です。'],
    ['Japanese Gmail (no verb)', l('了解です。', '2026年11月24日(火) 9:00 山田 <t@x.jp>:', '> x'), '了解です。'],
    ['Japanese Apple', l('了解です。', '2026/11/24 9:00、山田 <t@x.jp>のメール:', '', '> x'), '了解です。'],
    ['Japanese message', l('了解です。', '2026/11/24 9:00 山田太郎のメッセージ：', 'x'), '了解です。'],
    ['Chinese simplified', l('收到。', '张三 <z@x.cn> 于2026年11月24日周二 09:00写道：', '> x'), '收到。'],
    ['Chinese traditional', l('好的。', '於 2026年11月24日 週二 上午9:00，張三 <z@x.tw> 寫道：', '> x'), '好的。'],
    ['Russian Thunderbird', l('Да.', '24.11.2026 09:00, Иван пишет:', '> x'), 'Да.'],
    ['Yahoo English', l('Sure.', 'On Tuesday, November 24, 2026, 09:00:00 AM GMT+1, Jane <jane@x.com> wrote:', '', 'x'), 'Sure.'],
    ['"wrote:" in prose without date or address is kept', l('As Jane wrote:', 'it is fine.'), l('As Jane wrote:', 'it is fine.')],

    // localised Outlook header blocks and separators
    ['French Outlook', l('OK.', '', 'De\u00A0: Jean <jean@x.fr>', 'Envoyé\u00A0: lundi 23 novembre 2026 17:45', 'À\u00A0: Bob', 'Objet\u00A0: x'), 'OK.'],
    ['Spanish Outlook', l('Vale.', 'De: Ana <ana@x.es>', 'Enviado: lunes', 'Para: Bob', 'Asunto: x'), 'Vale.'],
    ['Italian Outlook', l('Va bene.', 'Da: Luca <l@x.it>', 'Inviato: lunedì', 'A: Bob', 'Oggetto: x'), 'Va bene.'],
    ['Dutch Outlook', l('Prima.', 'Van: Jan <j@x.nl>', 'Verzonden: maandag', 'Aan: Bob', 'Onderwerp: x'), 'Prima.'],
    ['Swedish Outlook', l('Bra.', 'Från: Anna <a@x.se>', 'Skickat: måndag', 'Till: Bob', 'Ämne: x'), 'Bra.'],
    ['Polish Outlook', l('Dobrze.', 'Od: Jan <j@x.pl>', 'Wysłano: poniedziałek', 'Do: Bob', 'Temat: x'), 'Dobrze.'],
    ['Japanese Outlook', l('了解。', '差出人: 山田 <t@x.jp>', '送信日時: 2026年11月24日 9:00', '宛先: Bob', '件名: x'), '了解。'],
    ['Chinese Outlook', l('好。', '发件人: 张三 <z@x.cn>', '发送时间: 2026年11月24日 9:00', '收件人: Bob', '主题: x'), '好。'],
    ['Taiwanese Outlook', l('好。', '寄件者: 張三 <z@x.tw>', '寄件日期: 2026年11月24日 上午 09:00', '收件者: Bob', '主旨: x'), '好。'],
    ['Notes English header with To before Date', l('OK.', '', 'From:\tJane Doe/ACME@ACME', 'To:\tBob/ACME@ACME', 'Cc:\tCarol', 'Date:\t24.11.2026 09:00'), 'OK.'],
    ['Samsung Original message', l('OK', '', '-------- Original message --------', 'From: Jane <jane@x.com>', 'Date: 24/11/2026 09:00'), 'OK'],
    ['Spanish original', l('Vale.', '-------- Mensaje original --------', 'De: Ana'), 'Vale.'],
    ['Foxmail Chinese', l('收到。', '------------------\u00A0原始邮件\u00A0------------------', '发件人: x'), '收到。'],
    ['Yahoo forwarded', l('FYI', '----- Forwarded Message -----', 'From: x'), 'FYI'],
    ['Thunderbird German forward', l('Zur Info', '-------- Weitergeleitete Nachricht --------', 'Betreff: x'), 'Zur Info'],
    ['Apple German forward', l('Zur Info', 'Anfang der weitergeleiteten Nachricht:', 'Von: x'), 'Zur Info'],

    // inline (interleaved) replies
    [
      'inline reply below an attribution',
      l('On Tue, 24 Nov 2026 at 09:00, Jane <jane@x.com> wrote:', '> Q1?', '', 'A1.', '', '> Q2?', 'A2.', '', '> rest', '> of the mail'),
      l('A1.', '', 'A2.'),
    ],
    [
      'inline reply with signature and quoted signature',
      l('Jane wrote on 24/11/2026 09:00:', '> Q1?', 'A1.', '> -- ', '> Jane', '', '-- ', 'Bob'),
      'A1.',
    ],
    ['attribution then quote then footer is not inline', l('Yes.', 'On Mon, Jane <j@x.com> wrote:', '> Q', '', 'Sent from my iPhone'), 'Yes.'],
    ['attribution then unquoted history is cut', l('Yes.', 'On Mon, Jane <j@x.com> wrote:', 'Old text', '> older', 'more old'), 'Yes.'],

    // sign-offs: the sign-off is the author's, the name/title/phone block under it is not
    ['Best regards block', l('Done.', '', 'Best regards,', 'Jane Doe', 'Head of Sales', '+49 30 1234 5678'), l('Done.', '', 'Best regards,')],
    ['Thanks with name', l('Done.', '', 'Thanks,', 'Jane'), l('Done.', '', 'Thanks,')],
    [
      'long Outlook signature under the sign-off',
      l(
        'Approved.', '', 'Mit freundlichen Grüßen', '', 'Max Mustermann', 'Leiter Einkauf', '', 'Brandt Maschinenbau GmbH & Co. KG',
        'Industriestraße 12 | 50667 Köln', 'Tel. +49 221 98765-12', 'Fax +49 221 98765-99', 'max.mustermann@brandt.example',
        'www.brandt.example', '[cid:image001.png@01D2A6B4.5E3F2A10]',
      ),
      l('Approved.', '', 'Mit freundlichen Grüßen'),
    ],
    ['Thanks, Name on one line is the sign-off', l('Done.', 'Thanks, Jane'), l('Done.', 'Thanks, Jane')],
    ['German sign-off', l('Erledigt.', '', 'Mit freundlichen Grüßen', '', 'Max Mustermann', 'Leiter Einkauf', 'Tel. +49 89 123456'), l('Erledigt.', '', 'Mit freundlichen Grüßen')],
    ['French sign-off', l('Fait.', 'Cordialement,', 'Jean Dupont'), l('Fait.', 'Cordialement,')],
    ['Spanish sign-off', l('Hecho.', 'Un saludo,', 'Ana'), l('Hecho.', 'Un saludo,')],
    ['Dutch sign-off', l('Klaar.', 'Met vriendelijke groet,', 'Jan de Vries'), l('Klaar.', 'Met vriendelijke groet,')],
    ['Swedish sign-off', l('Klart.', 'Med vänliga hälsningar', 'Anna'), l('Klart.', 'Med vänliga hälsningar')],
    ['Polish sign-off', l('Gotowe.', 'Pozdrawiam,', 'Jan'), l('Gotowe.', 'Pozdrawiam,')],
    ['Japanese sign-off', l('了解しました。', 'よろしくお願いします。', '山田'), l('了解しました。', 'よろしくお願いします。')],
    ['two-line Chinese sign-off', l('收到。', '', '此致', '敬礼', '王芳', '采购部经理'), l('收到。', '', '此致', '敬礼')],
    ['sign-off words only', l('Done.', '', 'Thanks,', 'Best,'), l('Done.', '', 'Thanks,', 'Best,')],
    ['unanswered quote between the answers and the sign-off', l('> Q?', '', 'A.', '', '> Thanks,', '> Megan', '', 'Thanks,', 'Jane'), l('A.', '', 'Thanks,')],
    ['bottom-posted sign-off under a quote', l('On Mon, 3 Jun 2024 at 10:00, Jane <jane@corp.com> wrote:', '> Lunch at 12?', '', 'Yes!', '', 'Cheers,', 'Tom'), l('Yes!', '', 'Cheers,')],
    ['reply that is only a sign-off keeps it', l('Thanks!', 'Jane'), 'Thanks!'],
    ['Thanks followed by a sentence is kept', l('Done.', 'Thanks,', 'Let me know if anything is unclear.'), l('Done.', 'Thanks,', 'Let me know if anything is unclear.')],
    ['Thanks followed by a question is kept', l('Done.', 'Thanks', 'Can you check?'), l('Done.', 'Thanks', 'Can you check?')],
    ['sign-off without a name is kept', l('Done.', 'Best regards,'), l('Done.', 'Best regards,')],
    ['Thanks for the update is not a sign-off', l('Thanks for the update', 'Jane'), l('Thanks for the update', 'Jane')],
    ['contact block without sign-off', l('Done.', '', 'Jane Doe', 'T +49 30 1234 5678', 'www.acme.example'), 'Done.'],
    ['name, title and company without sign-off', l('Done.', '', 'Jane Doe', 'Head of Sales', 'Northwind Logistics Inc.'), 'Done.'],
    ['Finnish labels', l('Selvä.', '', 'Matti Virtanen', 'puh. 040 123 4567', 'Yritys Oy'), 'Selvä.'],
    ['dashed name over a company block', l('Attached.', '', '--Geoff Miller', 'Systems Administrator', 'Northwind Logistics Inc.', 'T +1 617 555 0142'), 'Attached.'],
    ['a dashed list at the end stays', l('Open points:', '', '-Budget', '- Timeline', '- Staffing'), l('Open points:', '', '-Budget', '- Timeline', '- Staffing')],
    ['messenger handles', l('Done.', '', 'Jane Doe | CS team', 'Skype: jane.doe.acme'), 'Done.'],
    ['national number alone', l('Done.', '', 'Jane Doe', '(617) 555-0142'), 'Done.'],
    ['Russian label', l('Готово.', '', 'Иван Петров', 'Тел.: 8 495 123-45-67'), 'Готово.'],
    ['a date under a name is not a phone', l('Done.', '', 'Jane Doe', '24.11.2026'), l('Done.', '', 'Jane Doe', '24.11.2026')],
    ['Japanese company block', l('承知しました。', '', '山田 太郎', '株式会社サンプル商事'), '承知しました。'],
    ['a company in the last sentence stays', l('Done.', '', 'Jane Doe will call ACME GmbH.'), l('Done.', '', 'Jane Doe will call ACME GmbH.')],
    ['single address line is not a contact block', l('Done.', '', 'Write to jane@x.com'), l('Done.', '', 'Write to jane@x.com')],

    // footers and disclaimers
    ['Gesendet von meinem iPhone', l('OK', 'Gesendet von meinem iPhone'), 'OK'],
    ['iPhoneから送信', l('了解', '', 'iPhoneから送信'), '了解'],
    ['Yahoo mobile footer', l('OK', 'Sent from Yahoo Mail on Android'), 'OK'],
    [
      'English disclaimer',
      l('Done.', '', 'This e-mail and any attachments are confidential and may be privileged. If you are not the intended recipient, please delete it.'),
      'Done.',
    ],
    [
      'two-language disclaimer after a signature',
      l(
        'Erledigt.', '', 'Viele Grüße', 'Max', '',
        'Diese E-Mail enthält vertrauliche Informationen.', 'Wenn Sie nicht der richtige Adressat sind, löschen Sie sie.', '',
        'This message is confidential and intended solely for the addressee.', '',
        'Please consider the environment before printing this e-mail.',
      ),
      l('Erledigt.', '', 'Viele Grüße'),
    ],
    ['German imprint', l('OK.', '', 'ACME GmbH | Sitz der Gesellschaft: Berlin | Amtsgericht Charlottenburg HRB 12345'), 'OK.'],
    ['confidential in prose is kept', l('Is this message confidential?', 'Yes.'), l('Is this message confidential?', 'Yes.')],
    ['a disclaimer-like first paragraph is kept', 'This e-mail is confidential: please do not forward it.', 'This e-mail is confidential: please do not forward it.'],
  ])('%s', (_name, input, expected) => {
    expect(extractVisibleText(input).text).toBe(expected);
  });

  it.each([
    ['Hello', 0],
    ['Hello\n\n', 2],
    [l('Yes.', '', '> a'), 5],
    ['Hello\r\nworld', 1],
  ])('trimmedChars for %j is %i', (input, trimmed) => {
    const out = extractVisibleText(input);
    expect(out.trimmedChars).toBe(trimmed);
    expect(out.trimmedChars).toBe(input.length - out.text.length);
  });

  it.each<[string, string, RegExp[], string]>([
    ['operator pattern cuts its paragraph and the rest', l('Done.', '', 'ACME Corp. Registered in Ruritania No. 42.', 'Other legal text.'), [/Registered in Ruritania/], 'Done.'],
    ['operator pattern with the g flag works every time', l('Done.', '', 'ACME footer'), [/ACME footer/g], 'Done.'],
    ['non-matching operator pattern changes nothing', l('Done.', '', 'ACME footer'), [/Initech/], l('Done.', '', 'ACME footer')],
  ])('%s', (_name, input, patterns, expected) => {
    expect(extractVisibleText(input, { disclaimerPatterns: patterns }).text).toBe(expected);
    expect(extractVisibleText(input, { disclaimerPatterns: patterns }).text).toBe(expected);
  });

  it.each<[string, string, { inline: boolean; confidence: 'high' | 'low' }]>([
    ['plain', 'Hello', { inline: false, confidence: 'high' }],
    ['interleaved', l('> Q1?', 'A1.', '> Q2?', 'A2.'), { inline: true, confidence: 'high' }],
    ['bottom-posted', l('> Q?', 'A.'), { inline: false, confidence: 'high' }],
    ['unknown separator', l('Ano.', '', '-------- Původní zpráva --------', 'Od: Jan'), { inline: false, confidence: 'low' }],
    ['unknown attribution language', l('Ναι.', 'Στις 24/11/2026 9:00 π.μ., ο Γιάννης <g@x.gr> έγραψε:', 'quoted'), { inline: false, confidence: 'low' }],
  ])('%s: inline and confidence', (_name, input, expected) => {
    expect(extractVisibleText(input)).toMatchObject(expected);
  });

  // A guard against catastrophic backtracking, not a speed test (speed is `pnpm bench conversion`'s):
  // a quadratic or worse pattern on these inputs runs for minutes and hits the timeout.
  it('finishes on hostile input', { timeout: 30_000 }, () => {
    extractVisibleText(`${'On a wrote b '.repeat(20_000)}\n${'> x\n'.repeat(50_000)}${'x'.repeat(100_000)}`);
    extractVisibleText('On 1 Jan, a <a@b.c> wrote:\n> q\nanswer\n'.repeat(30_000));
    extractVisibleText(`${'Thanks,\nJane\n'.repeat(30_000)}${'Sent from my iPhone\n'.repeat(30_000)}`);
    const out = extractVisibleText(`${'confidential '.repeat(50_000)}\n`.repeat(3), { disclaimerPatterns: [/never/] });
    expect(out.text.length).toBeGreaterThan(0);
  });
});

describe('extractVisibleText: the typed name under the text', () => {
  it.each<[string, string, readonly string[], string]>([
    ['dash name', l('Works now, thanks.', '', '-Martin'), [], 'Works now, thanks.'],
    ['tilde name right under the text', l('Sounds good!', '~Danielle'), [], 'Sounds good!'],
    ["the sender's first name", l('Applied, thanks.', '', 'Mikey'), ['michael', 'neuling', 'mikey'], 'Applied, thanks.'],
    ['name under a sign-off', l('Done.', '', 'Freundliche Gruesse', '', 'Martin'), ['martin'], l('Done.', '', 'Freundliche Gruesse')],
    // The sender's name alone is signature, not new text.
    ['the sender\'s name alone is no new text', 'Martin', ['martin'], ''],
    ['a sentence of the sender\'s name is kept', 'Test.', ['test', 'user'], 'Test.'],
    ["someone else's name is kept", l('Please ask', '', 'Peter'), ['martin'], l('Please ask', '', 'Peter')],
    ['name, title and company, no sign-off', l('The invoice is paid.', '', 'Martin Edenhofer', 'Head of Support', 'Znuny GmbH'), ['martin', 'edenhofer'], 'The invoice is paid.'],
    ['name block right under the text', l('The invoice is paid.', 'Jane Doe', 'Finance', 'T +49 30 1234 5678'), ['jane', 'doe'], 'The invoice is paid.'],
    ['a list of names is kept', l('Who is coming?', '', 'Jane Doe', 'Peter Pan will ask his team first and then tell us.'), ['jane', 'doe'], l('Who is coming?', '', 'Jane Doe', 'Peter Pan will ask his team first and then tell us.')],
  ])('%s', (_name, input, authorWords, expected) => {
    expect(extractVisibleText(input, { authorWords }).text).toBe(expected);
  });
});

describe('extractVisibleText: attributions, header blocks and footers in more languages and shapes', () => {
  it.each<[string, string, string]>([
    ['Gmail date-first', l('OK.', '', '2016-10-24 15:36 GMT+02:00 Jan Kowalski <jan@firma.pl>:', '', '> Pytanie?'), 'OK.'],
    ['mailto-mangled address', l('OK.', '', 'On 24 Oct 2016, at 15:36, Jane <jane@x.test<mailto:jane@x.test>>:', '> Q?'), 'OK.'],
    ['Dutch Apple Mail', l('Dank.', '', 'Op 24 okt. 2016 om 15:36 heeft Jan de Vries <jan@x.nl> het volgende geschreven:', '', '> Vraag?'), 'Dank.'],
    ['Finnish', l('Kiitos.', '', 'ma 24. lokak. 2016 klo 15.36 Matti Virtanen <matti@yritys.fi> kirjoitti:', '> Kysymys?'), 'Kiitos.'],
    ['Norwegian', l('Takk.', '', 'man. 24. okt. 2016 kl. 15:36 skrev Ola Nordmann <ola@firma.no>:', '> Spørsmål?'), 'Takk.'],
    ['Vietnamese', l('Cảm ơn.', '', 'Vào 15:36 Th 2, 24 thg 10, 2016 Nguyễn Văn An <an@congty.vn> đã viết:', '> Câu hỏi?'), 'Cảm ơn.'],
    ['Ukrainian', l('Дякую.', '', 'пн, 24 жовт. 2016 о 15:36 Олена <olena@firma.ua> пише:', '> Питання?'), 'Дякую.'],
    ['Czech', l('Ano.', 'Dne 24. 11. 2026 v 9:00 Jan <jan@x.cz> napsal(a):', 'quoted'), 'Ano.'],
    ['Polish Outlook header block', l('Dziękuję.', '', 'Od: Jan Kowalski <jan@firma.pl>', 'Wysłane: poniedziałek, 24 października 2016 15:36', 'Do: Anna <anna@firma.pl>', 'DW: Piotr <piotr@firma.pl>', 'Temat: Faktura', '', 'Treść'), 'Dziękuję.'],
    ['Vietnamese Outlook header block', l('Cảm ơn.', '', 'Từ: An <an@congty.vn>', 'Đã gửi: 24 tháng 10 2016 15:36', 'Đến: Bình <binh@congty.vn>', 'Chủ đề: Hóa đơn'), 'Cảm ơn.'],
    ['Ukrainian Outlook header block', l('Дякую.', '', 'Від: Олена <olena@firma.ua>', 'Надіслано: 24 жовтня 2016 р. 15:36', 'Кому: Іван <ivan@firma.ua>', 'Тема: Рахунок'), 'Дякую.'],
    ['unknown-language header block', l('Díky.', '', 'Od: Jan Novák <jan@firma.cz>', 'Odesláno: pondělí 24. října 2016 15:36', 'Komu: Eva <eva@firma.cz>', 'Předmět: Faktura'), 'Díky.'],
    ['TypeApp footer', l('OK', '', 'Sent from TypeApp'), 'OK'],
    ['Get TypeApp footer', l('OK', '', 'Get TypeApp for Android'), 'OK'],
    ['Wiko footer', l('OK', '', 'Envoyé depuis mon mobile Wiko'), 'OK'],
    ['Outlook für Android', l('OK', '', 'Gesendet von Outlook für Android'), 'OK'],
    ['Danish/Norwegian iPad', l('OK', '', 'Sendt fra min iPad'), 'OK'],
    ['Proton Mail', l('OK', '', 'Sent from Proton Mail for Android.'), 'OK'],
    ['Finnish iPhone', l('OK', '', 'Lähetetty iPhonesta'), 'OK'],
    ['Dutch', l('OK', '', 'Verstuurd vanaf mijn iPhone'), 'OK'],
    ['Vietnamese', l('OK', '', 'Gửi từ iPhone của tôi'), 'OK'],
    ['Ukrainian', l('OK', '', 'Надіслано з iPhone'), 'OK'],
    ['"Sent from" inside the text stays', l('The parcel was sent from Leeds.', 'It arrives Monday.'), l('The parcel was sent from Leeds.', 'It arrives Monday.')],
  ])('%s', (_name, input, expected) => {
    expect(extractVisibleText(input).text).toBe(expected);
  });
});

describe('extractVisibleText: repaired quote lines', () => {
  it.each<[string, string, string]>([
    ['text on the attribution line', l('Sure, Thursday works. On Mon, 24 Oct 2016 at 15:36, Jane <jane@x.test> wrote:', '> Thursday?'), 'Sure, Thursday works.'],
    ['text on the separator line', l('Approved.-----Original Message-----', 'From: Jane', 'Sent: Monday', 'Budget?'), 'Approved.'],
    ['C> quote under the reply', l('Agreed.', '', 'C> Shall we move the call?', 'C> It clashes with the audit.'), 'Agreed.'],
    [
      'a wrapped quote line without its > under the attribution',
      l('Wednesday is fine.', '', 'On Mon, 24 Oct 2016 at 15:36, Jane <jane@x.test> wrote:', '> The carrier moved the delivery of the spare parts from Monday to the', 'next Wednesday afternoon', '> so we wait.'),
      'Wednesday is fine.',
    ],
  ])('%s', (_name, input, expected) => {
    expect(extractVisibleText(input).text).toBe(expected);
  });
});

describe('extractVisibleText: ticket markers and dividers', () => {
  it.each<[string, string, string]>([
    ['reply above this line', l('Works now.', '', '##- Please type your reply above this line -##', '', 'Your request 4711 was updated.'), 'Works now.'],
    ['Jira', l('Done.', '', '-- Reply above this line to add a comment --', 'Ticket text'), 'Done.'],
    [
      'GLPI above and under markers',
      l('Text above.', '', '=-=-=-= To answer by email, write above this line =-=-=-=', '', 'NOTIFICATION', '', '=_=_=_= To answer by email, write under this line =_=_=_=', '', 'Text under.'),
      l('Text above.', '', 'Text under.'),
    ],
    ['image placeholder at the end', l('Done.', '', '[cid:image001.png@01D2A6B4.5E3F2A10]'), 'Done.'],
    ['Gmail image placeholder', l('Done.', '', '[image: ACME logo]'), 'Done.'],
    ['Danish disclaimer', l('OK.', '', 'Denne e-mail kan indeholde fortrolige oplysninger og er kun beregnet for modtageren.'), 'OK.'],
    ['Finnish disclaimer', l('OK.', '', 'Tämä sähköpostiviesti on luottamuksellinen ja tarkoitettu vain vastaanottajalle.'), 'OK.'],
    ['Russian disclaimer', l('Да.', '', 'Это сообщение является конфиденциальным и предназначено только для адресата.'), 'Да.'],
    ['wrapped date-first attribution', l('OK.', '', '2016-10-24 15:36 GMT+02:00 Jane Doe <', 'jane@x.test>:', '> Q?'), 'OK.'],
    ['trailing divider', l('Done.', '', '-------------------------------------------'), 'Done.'],
    ['a message that is only a divider', '----------', ''],
    ['German caption with a space', l('', '----- Original Nachricht ----', 'Von: Jan'), ''],
    ['a divider inside the text stays', l('Part one.', '----------', 'Part two.'), l('Part one.', '----------', 'Part two.')],
  ])('%s', (_name, input, expected) => {
    expect(extractVisibleText(input).text).toBe(expected);
  });
});

describe("extractVisibleText: interleaved and bottom-posted replies keep only the author's lines", () => {
  it.each<[string, string, string, boolean]>([
    [
      'interleaved reply: greeting and answers in order, quotes dropped',
      l('Hi Jane,', '', '> Can the pallets go out on Friday?', '', 'Yes, the truck is booked.', '', '> Who signs the delivery note?', '> Tom is away.', '', 'Lena signs it.'),
      l('Hi Jane,', '', 'Yes, the truck is booked.', '', 'Lena signs it.'),
      true,
    ],
    [
      'answers right under the quote, no blank lines: a paragraph break each',
      l('> Room booked?', 'Yes, room 4.', '> Projector?', 'Brought my own.'),
      l('Yes, room 4.', '', 'Brought my own.'),
      true,
    ],
    [
      'bottom-posted reply under a Mutt attribution',
      l('On Wed, Jul 30, 2026 at 02:39:24PM -0700, Jane Roe wrote:', '> The next meeting is on Thursday.', '> The agenda is in the wiki.', '', 'I will be there.'),
      'I will be there.',
      false,
    ],
    [
      'supercite prefixes and a lead-in of any wording with a date stamp',
      l('Once upon 14:00:54 17.11.2026 UTC-05 when jane@x.test did write:', '', ' JR> The import failed with', ' JR>   Too many open files', '', 'The patch is on the list.'),
      'The patch is on the list.',
      false,
    ],
    [
      "sup's attribution above an interleaved quote",
      l("Excerpts from Jane Roe's message of Thu Nov 26 09:17:15 +0100 2026:", '> This fixes the build.', '', 'Looks right to me.', '', '> Signed-off-by: Jane', '', 'Reviewed-by: Tom'),
      l('Looks right to me.', '', 'Reviewed-by: Tom'),
      true,
    ],
    [
      'C> prefixes between the answers',
      l('C> Is the invoice paid?', 'Yes, on Monday.', 'C> And the reminder fee?', 'Waived.'),
      l('Yes, on Monday.', '', 'Waived.'),
      true,
    ],
    [
      'a quote line wrapped by the client that lost its >',
      l('> The carrier moved the delivery of the spare parts from Monday to the', 'next Wednesday afternoon', '> so the line stays down.', '', 'Then we rent a pump.'),
      'Then we rent a pump.',
      false,
    ],
    [
      'wrapped code in a quote ("*ptr)") is the quote\'s',
      l('> @@ -160,7 +160,7 @@ static void pump_free(struct pump_info_holder_with_long', '*info)', '>  static void pump_tasklet(unsigned long opaque)', 'Acked-by: Tom'),
      'Acked-by: Tom',
      false,
    ],
    [
      'an elision mark inside the quote goes with it',
      l('> First part of the patch.', '>', '[...]', '> Last part of the patch.', '', 'I reworked this last year.'),
      'I reworked this last year.',
      false,
    ],
    [
      "quoted Outlook header block under the author's text: history from there",
      l('This happened after the change.', '', '> -----Original Message-----', '> From: Jane Roe [mailto:jane@x.test]', '> Sent: Tuesday, August 03, 2026 2:07 AM', '> Cc: Tom; lists@x.test;', 'ops@x.test;', '> Subject: Re: pump', '', 'broken here'),
      'This happened after the change.',
      false,
    ],
    [
      'quoted From/Sent block without a separator',
      l('Agreed.', '', '> From: Jane Roe <jane@x.test>', '> Sent: Monday, June 3, 2026 10:00 AM', '> Subject: Budget', '>', '> Budget?'),
      'Agreed.',
      false,
    ],
    [
      'a dated line ending in a colon over the author\'s own list stays',
      l('Plan for 3 June 2026 at 10:30:', '- unload', '- count'),
      l('Plan for 3 June 2026 at 10:30:', '- unload', '- count'),
      false,
    ],
    ['"..." in the author\'s text stays', l('Well...', '', 'maybe.'), l('Well...', '', 'maybe.'), false],
  ])('%s', (_name, input, expected, inline) => {
    const out = extractVisibleText(input);
    expect(out.text).toBe(expected);
    expect(out.inline).toBe(inline);
    expect(out.text).not.toMatch(/^\s*\S{0,4}>/m);
  });
});
