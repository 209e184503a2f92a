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
    ['bottom-posted reply', l('> Budget?', '> Thanks', '', 'Yes, approved.'), l('> Budget?', '> Thanks', '', 'Yes, approved.')],
    ['interleaved reply keeps quotes', l('> Q1?', 'A1.', '> Q2?', 'A2.'), l('> Q1?', 'A1.', '> Q2?', 'A2.')],
    ['trailing quote dropped', l('Yes.', '', '> Budget?', '>', '> Thanks'), 'Yes.'],
    ['trailing quote with blank lines inside', l('Yes.', '> a', '', '> b', ''), 'Yes.'],
    ['trailing quote with short attribution', l('Yes.', '', 'Jane Doe wrote:', '> Budget?'), 'Yes.'],
    ['interleaved then trailing quote', l('> Q1?', 'A1.', '', '> Q2?', '> more'), l('> Q1?', 'A1.')],
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

  it('stays fast on hostile input', () => {
    const started = Date.now();
    extractVisibleText(`${'On a wrote b '.repeat(20_000)}\n${'> x\n'.repeat(50_000)}${'x'.repeat(100_000)}`);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
