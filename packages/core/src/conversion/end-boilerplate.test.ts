import { describe, expect, it } from 'vitest';
import { extractVisibleText } from '../visible-text';
import {
  isDashSignoff,
  isDeviceFooter,
  isImageFileLine,
  isLegalNotice,
  isMarkupDebris,
  isNotesSectionTitle,
  isScanNotice,
  isSubscriptionNotice,
} from './end-boilerplate';
import { isFooter } from './quote-markers';

describe('isDeviceFooter: "sent from <device>" in any language', () => {
  // [language, footer, also matched by the phrase table in quote-markers (isFooter)]
  it.each<[string, string, boolean]>([
    ['English', 'Sent from my iPad', true],
    ['English, app', 'Sent with TypeApp', true],
    ['English, phone brand', 'Sent from my Wiko', true],
    ['English, Windows Mail', 'Sent from Mail for Windows 10', true],
    ['German, Outlook', 'Gesendet von Outlook für Android', true],
    ['German, verb last', 'Von meinem Samsung Galaxy Smartphone gesendet.', true],
    ['Danish / Norwegian', 'Sendt fra min iPad', true],
    ['French', 'Envoyé de mon iPhone', true],
    ['Spanish', 'Enviado desde mi teléfono Huawei', true],
    ['Portuguese', 'Enviado do meu iPhone', true],
    ['Italian', 'Inviato dal mio dispositivo Galaxy', true],
    ['Dutch', 'Verzonden vanaf mijn iPhone', true],
    ['Swedish', 'Skickat från min iPhone', true],
    ['Polish', "Wysłane z mojego iPhone'a", true],
    ['Russian', 'Отправлено с iPhone', true],
    ['Finnish', 'Lähetetty iPhonesta', true],
    ['Czech', 'Odesláno z mého telefonu Xiaomi', true],
    ['Japanese', 'iPhoneから送信', true],
    ['Chinese', '发自我的iPhone', false],
    ['Turkish', "iPhone'umdan gönderildi", false],
    ['Hungarian', 'Az iPhone-omról küldve', false],
    ['Romanian', 'Trimis de pe iPhone-ul meu', false],
    ['Greek', 'Στάλθηκε από το iPhone μου', false],
    ['Korean', 'iPhone에서 보냄', false],
    ['Indonesian', 'Dikirim dari iPhone saya', false],
    ['Hebrew', 'נשלח מה-iPhone שלי', false],
  ])('%s: %s', (_language, line, phraseTable) => {
    expect(isDeviceFooter(line)).toBe(true);
    // The phrase table knows only some of them: the shape finds the rest.
    expect(isFooter(line)).toBe(phraseTable);
  });

  it.each([
    'Works on iPhone',
    'I sent it from my phone yesterday, did it arrive?',
    'See you at 3.',
    'Sent the contract to the lawyers this morning and asked them to reply by Friday at the latest',
    'The Android build is green',
  ])('not a footer: %s', (line) => {
    expect(isDeviceFooter(line)).toBe(false);
  });
});

describe('paragraph and line boilerplate at the end', () => {
  it.each<[string, (s: string) => boolean, string, boolean]>([
    ['scan notice', isScanNotice, 'This email has been scanned for spam and viruses by Proofpoint Essentials. Visit the following link to report this email as spam:', true],
    ['German scan notice', isScanNotice, 'Diese E-Mail wurde von Avast Antivirus-Software auf Viren geprüft.', true],
    ['a sentence about scanning', isScanNotice, 'Could you scan this email for the address?', false],
    ['newsletter P.S.', isSubscriptionNotice, 'P.S.: You receive this e-mail because you are listed in our database. Please click here (https://x.test/u) to unsubscribe.', true],
    ['German newsletter', isSubscriptionNotice, 'Sie erhalten diese E-Mail, weil Sie sich angemeldet haben. Abmelden: https://x.test/a', true],
    ['a question about unsubscribing', isSubscriptionNotice, 'How do I unsubscribe from the list?', false],
    ['unsubscribe as a plain wish', isSubscriptionNotice, 'Please unsubscribe me from all lists.', false],
    ['broken Gmail HTML', isMarkupDebris, 'class="gmail_quote">', true],
    ['a stray tag', isMarkupDebris, '<div dir="ltr">', true],
    ['an arrow in text', isMarkupDebris, 'x => y', false],
    ["a bounce's bare recipient", isMarkupDebris, '<jesmund>', false],
    ['a comparison', isMarkupDebris, 'a="b" is wrong, use a>b', false],
    ['three-dash handle', isDashSignoff, '---/dev/il', true],
    ['three-dash initials', isDashSignoff, '--- jd', true],
    ['a command-line flag', isDashSignoff, '--force', false],
    ['an arrow', isDashSignoff, '---> next step', false],
    [
      'legal notice in a wording the phrase table lacks',
      isLegalNotice,
      'Diese Information ist ausschließlich für den Adressaten bestimmt und kann vertrauliche oder gesetzlich geschützte Informationen enthalten. Anderen als dem Adressaten ist es untersagt, sie zu lesen.',
      true,
    ],
    ['a short confidential remark', isLegalNotice, 'Keep this confidential, the recipient list is final.', false],
    [
      'a long paragraph about a recipient, nothing confidential',
      isLegalNotice,
      'The recipient of the award will be announced on Friday at the all-hands meeting, and the team that nominated them is invited to say a few words about the project.',
      false,
    ],
    ['logo file name', isImageFileLine, 'RIKK merki.jpg', true],
    ['a sentence ending in a file name', isImageFileLine, 'Please open the attached plan.png', true],
    ['a sentence about pictures', isImageFileLine, 'I attached the pictures.', false],
    ['Notes memo title', isNotesSectionTitle, 'Martin Edenhofer via Znuny Team --- Installation [Ticket#11392] ---', true],
    ['a sentence with dashes', isNotesSectionTitle, 'The plan --- if it works --- is fine.', false],
  ])('%s', (_name, predicate, input, expected) => {
    expect(predicate(input)).toBe(expected);
  });
});

describe('extractVisibleText: boilerplate that ends the text', () => {
  const l = (...lines: string[]) => lines.join('\n');
  it.each<[string, string, string]>([
    ['Turkish device footer', l('Tamam, yarın görüşürüz.', '', "iPhone'umdan gönderildi"), 'Tamam, yarın görüşürüz.'],
    ['Korean device footer', l('네, 알겠습니다.', '', 'iPhone에서 보냄'), '네, 알겠습니다.'],
    ['a last line about a device stays', l('Tested the new build.', '', 'Works on iPhone'), l('Tested the new build.', '', 'Works on iPhone')],
    [
      'scan footer under a divider',
      l('Done.', '', '----------', '', 'This email has been scanned for spam and viruses by Proofpoint Essentials.', 'https://scan.example/report?id=1'),
      'Done.',
    ],
    ['markup debris under the reply', l('Yes, I can reproduce it.', '', 'class="gmail_quote">'), 'Yes, I can reproduce it.'],
    ['three-dash sign-off', l('What about nobody?', '', '---/dev/il'), 'What about nobody?'],
    ['a flag at the end stays', l('Run it with', '', '--force'), l('Run it with', '', '--force')],
    ['a logo file name at the end', l('Öll velkomin!', '', 'RIKK merki.jpg'), 'Öll velkomin!'],
    ['a picture in the middle stays', l('Here is the plan:', '', 'plan.png', '', 'Comments welcome.'), l('Here is the plan:', '', 'plan.png', '', 'Comments welcome.')],
    [
      'legal notice as the last paragraph',
      l('Danke.', '', 'Diese Information ist ausschließlich für den Adressaten bestimmt und kann vertrauliche Informationen enthalten. Anderen als dem Adressaten ist es untersagt, diese E-Mail zu lesen oder weiterzuleiten.'),
      'Danke.',
    ],
    ['Notes memo title above cut history', l('Mfg eike', '', 'Martin Edenhofer via Znuny Team --- Installation [Ticket#11392] ---'), 'Mfg eike'],
  ])('%s', (_name, input, expected) => {
    expect(extractVisibleText(input).text).toBe(expected);
  });
});
