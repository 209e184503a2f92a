import { describe, expect, it } from 'vitest';
import { extractVisibleText } from '../visible-text';
import { classifySignatureLine, isContactDetail, isPhoneValue, type SignatureLine } from './signature-block';
import { authorNameWords } from './typed-name';

const l = (...lines: string[]) => lines.join('\n');
const john = authorNameWords('', 'john.smith@example.com');

describe('classifySignatureLine', () => {
  it.each<[string, SignatureLine]>([
    ['Tel.: +49 001 7601 462', 'contact'],
    ['T +49 30 1234 5678', 'contact'],
    ['Tel. 07161 60692 50 * Fax 07161 60692 79', 'contact'],
    ['华东地区专线：021-5109,9475', 'contact'],
    ['QQ互动：1925139040', 'contact'],
    ['Skype: live:.cid.something', 'contact'],
    ['john.smith@example.com', 'contact'],
    ['www.example.com (http://www.example.com)', 'contact'],
    ['Chatwoot | CS team | C (https://cdn.example/logo.svg)', 'contact'],
    ['((otrs)) :: OTRS GmbH :: Europaring 4 :: D - 94315 Straubing', 'contact'],
    ['Example Service AG & Co.', 'company'],
    ['Northwind Logistics Inc.', 'company'],
    ['励源企业顾问有限公司', 'company'],
    ['AG: Someware - HRB 1234', 'register'],
    ['USt-IdNr. DE 1010101010', 'register'],
    ['John Smith', 'author'],
    ['John Smith        Tel.: ++49 (0) 30 / 1 234 567', 'author'],
    ['Service und Support', 'plain'],
    ['Someware-Str. 4', 'plain'],
    // a form's field, a sentence with an address, a bounce's answer: not contact details
    ['Société: KG', 'plain'],
    ['Please write to jane@example.com before Friday to confirm the booking.', 'text'],
    ['<nobody@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1', 'plain'],
    ['Can you call me on +49 30 1234567?', 'text'],
  ])('%s -> %s', (line, expected) => {
    expect(classifySignatureLine(line, john)).toBe(expected);
  });

  it.each<[string, boolean]>([
    ['+49 (0)9421 56818 0', true],
    ['030 1234 5678', true],
    ['021-5109,9475', true],
    ['24.11.2026', false],
    ['1.234.567', false],
    ['12345', false],
    ['120000', false],
    ['617-555-0142', true],
    ['(617) 555-0142', true],
  ])('isPhoneValue(%s) -> %s', (value, expected) => {
    expect(isPhoneValue(value)).toBe(expected);
  });

  it('reads a sentence that mentions a mail address as text, not a contact', () => {
    expect(isContactDetail('I forwarded it to jane@example.com and tom@example.com yesterday')).toBe(false);
    expect(isContactDetail('E-Mail: jane@example.com')).toBe(true);
  });
});

describe('extractVisibleText: signature blocks by layout and content', () => {
  it.each<[string, string, readonly string[], string]>([
    [
      'name, company, address, contacts and register lines under an unknown sign-off',
      l(
        'Sag mir Bescheid, wenn noch was fehlt.',
        '',
        'Mit freundlichem Gruß',
        '',
        'John Smith',
        'Service und Support',
        '',
        'Example Service AG & Co.',
        'Someware-Str. 4',
        '12345 Someware',
        '',
        'Tel.: +49 001 7601 462',
        'Fax: +49 001 7601 472',
        'www.example.com',
        '',
        'Sitz der Gesellschaft: Someware',
        'AG: Someware - HRB 1234',
      ),
      john,
      l('Sag mir Bescheid, wenn noch was fehlt.', '', 'Mit freundlichem Gruß'),
    ],
    [
      'contact columns and a messenger handle in two paragraphs',
      l('Hi,', '', 'We can offer you the plan from next week.', '', 'Acme | CS team', '', 'Skype: live:.cid.acme'),
      [],
      l('Hi,', '', 'We can offer you the plan from next week.'),
    ],
    [
      'a Chinese company block under a divider, the lead-in stays',
      l('欢迎报名。', '', '您可信赖的合作伙伴：', '------------------------', '励源企业顾问有限公司', '', '华东地区专线：021-5109,9475', 'QQ互动：1925139040'),
      [],
      l('欢迎报名。', '', '您可信赖的合作伙伴：'),
    ],
    [
      'company footer and newsletter P.S. under the sign-off',
      l(
        'Thank you!',
        '',
        'Best regards,',
        '',
        'Your Example Team',
        '',
        'P.S.: You receive this e-mail because you ordered a licence. Please click here (https://x.test/u) to unsubscribe.',
        '',
        '-----------------------------',
        'www.example.com',
        '',
        'Example GmbH * Hauptstr. 30 * 73037 Göppingen * Germany',
        'Tel. 07161 60692 50 * Fax 07161 60692 79',
      ),
      [],
      l('Thank you!', '', 'Best regards,'),
    ],
    ["the sender's name in columns under the sign-off", l('Hello,', '', 'it crashes.', '', 'Mit freundlichen Grüßen', 'Gregor Stever      ^^ see above'), authorNameWords('Stever, Gregor', 'gst@x.test'), l('Hello,', '', 'it crashes.', '', 'Mit freundlichen Grüßen')],
    ['a lone first name under finished text', l('Just a little bit of HTML.', '', 'Christoph'), [], 'Just a little bit of HTML.'],
    ['a name over a -- signature that names it', l('UTF-8 Test äöü', '', '  Darthvader', '', '--', 'System Tester II - <darthvader@otrs.org>'), [], 'UTF-8 Test äöü'],
    ['a dashed name between the text and its footnote', l('See also [1].', '', '- Jiang', '', '[1] https://example.com/getline'), [], l('See also [1].', '', '[1] https://example.com/getline')],
    [
      "the sender's name over a wrapped footnote",
      l('It was difficult[*] to do.', '', '-Carl', '', '[*] The problem here is that the index stores serialized data structures', 'of one particular version of the language, so being compatible means', 'being able to recreate them.'),
      authorNameWords('Carl Worth', 'cworth@x.test'),
      l('It was difficult[*] to do.', '', '[*] The problem here is that the index stores serialized data structures', 'of one particular version of the language, so being compatible means', 'being able to recreate them.'),
    ],
    ['an initial under a comma sign-off in any wording', l('Send me some feedback!', '', 'Mahalo,', '', 'Á'), [], l('Send me some feedback!', '', 'Mahalo,')],
    ['a rule between the sign-off and the name block', l('Liebes Team,', '', 'Mit freundlichen Grüßen', '______________________', '', 'Office Management'), [], l('Liebes Team,', '', 'Mit freundlichen Grüßen')],
    [
      "the sender's display name written out, and its web address",
      l('Fyrirlesturinn er haldinn.', ' Öll velkomin! ', ' Rannsóknastofa í kvenna- og kynjafræðum', 'www.rikk.hi.is (http://www.rikk.hi.is/)'),
      authorNameWords('Rannsóknastofa í kvenna- og kynjafræðum', 'rikk@hi.is'),
      l('Fyrirlesturinn er haldinn.', ' Öll velkomin!'),
    ],
    ['a picture placeholder under the sign-off', l('Merci de me rappeler.', '', 'Cordialement,', '', '[Logo Cabinet]'), [], l('Merci de me rappeler.', '', 'Cordialement,')],
    // false positives kept low
    ['a bracketed note at the end without a sign-off stays', l('The fix is in the next build.', '', '[internal]'), [], l('The fix is in the next build.', '', '[internal]')],
    ['a greeting with a comma over a name stays', l('Hi all,', '', 'Jane'), [], l('Hi all,', '', 'Jane')],
    ['a word that goes on a sentence stays', l('Please ask', '', 'Peter'), [], l('Please ask', '', 'Peter')],
    ['a short answer at the end stays', l('I read the draft.', '', 'Approved'), [], l('I read the draft.', '', 'Approved')],
    ['a short last line is content', l('The room is booked.', '', 'See you at 3.'), [], l('The room is booked.', '', 'See you at 3.')],
    [
      'an address the author gives stays',
      l('Hi team,', '', 'New office address:', 'ACME GmbH', 'Hauptstr. 5', '10115 Berlin'),
      [],
      l('Hi team,', '', 'New office address:', 'ACME GmbH', 'Hauptstr. 5', '10115 Berlin'),
    ],
    [
      'a web form the mail carries stays',
      l('Nouveau message :', '=============================', 'Nom: Dupont', 'Prénom: Rémi', 'Email: remi@example.com', 'Société: KG', 'CP: 11111'),
      [],
      l('Nouveau message :', '=============================', 'Nom: Dupont', 'Prénom: Rémi', 'Email: remi@example.com', 'Société: KG', 'CP: 11111'),
    ],
    [
      "a bounce's answer under its name stays",
      l('Sorry, it could not be delivered.', '', '                   The mail system', '', '<x@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1', '    <x@example.com>: Recipient address rejected (in', '    reply to RCPT TO command)'),
      authorNameWords('Mail Delivery System', 'mailer-daemon@example.com'),
      l('Sorry, it could not be delivered.', '', '                   The mail system', '', '<x@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1', '    <x@example.com>: Recipient address rejected (in', '    reply to RCPT TO command)'),
    ],
    ['figures after labels stay', l('Here are the numbers:', '', 'Q1: 120000', 'Q2: 135000', 'Q3: 128000'), [], l('Here are the numbers:', '', 'Q1: 120000', 'Q2: 135000', 'Q3: 128000')],
    ['a status word at the end stays', l('The build is green.', '', 'Deployed'), [], l('The build is green.', '', 'Deployed')],
    ['one phone number the author gives stays', l('Call me when you land.', '', '+49 170 1234567'), [], l('Call me when you land.', '', '+49 170 1234567')],
  ])('%s', (_name, input, authorWords, expected) => {
    expect(extractVisibleText(input, { authorWords }).text).toBe(expected);
  });
});
