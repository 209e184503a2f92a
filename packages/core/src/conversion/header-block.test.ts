import { describe, expect, it } from 'vitest';
import { startsHeaderBlock } from './header-block';

const l = (...lines: string[]) => lines;

describe('startsHeaderBlock', () => {
  it.each<[string, string[], boolean]>([
    ['Czech Outlook', l('Od: Jan Novák <jan@firma.cz>', 'Odesláno: pondělí 24. října 2016 15:36', 'Komu: Eva <eva@firma.cz>', 'Předmět: Faktura'), true],
    ['Hungarian Outlook', l('Feladó: Kiss Péter <peter@ceg.hu>', 'Elküldve: 2016. október 24. 15:36', 'Címzett: Anna <anna@ceg.hu>', 'Tárgy: Számla'), true],
    ['Turkish, bold labels', l('*Kimden:* Ali Yılmaz [mailto:ali@firma.com.tr]', '*Gönderildi:* 24 Ekim 2016 Pazartesi 15:36', '*Kime:* Ayşe'), true],
    ['a blank line between the fields', l('Från: Sven <sven@x.se>', '', 'Datum: 24 okt 2016 15:36', 'Till: Eva <eva@x.se>'), true],
    // the author's own text
    ['contact details', l('Contact: jane@corp.test', 'Phone: +1 555 0100', 'Hours: 9 to 5'), false],
    ['no address on the first line', l('Agenda: budget', 'Time: 10:00', 'Room: 4.12'), false],
    ['one label line only', l('Mail: jane@corp.test', 'See you at 10:00.'), false],
    ['prose with a colon', l('Please write to jane@corp.test: she knows.', 'Date: 2026-11-24', 'Room: 4.12'), false],
  ])('%s -> %s', (_name, lines, expected) => {
    expect(startsHeaderBlock(lines, 0)).toBe(expected);
  });
});
