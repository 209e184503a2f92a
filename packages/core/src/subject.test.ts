import { describe, expect, it } from 'vitest';
import { hasReplyMarker, normaliseSubject, replySubject, SUBJECT_MAX, subjectLine, threadSubjectKey } from './subject';

describe('normaliseSubject', () => {
  it.each([
    // plain and empty
    ['Budget 2025', 'Budget 2025'],
    ['', ''],
    ['   ', ''],
    ['Re:', ''],
    ['Re: ', ''],
    // English forms, case and spacing variants
    ['Re: Budget', 'Budget'],
    ['RE: Budget', 'Budget'],
    ['re: Budget', 'Budget'],
    ['Re:Budget', 'Budget'],
    ['RE:RE: Budget', 'Budget'],
    ['Re: Re: Re: Budget', 'Budget'],
    ['Fwd: Budget', 'Budget'],
    ['FW: Budget', 'Budget'],
    ['Fw: Re: Fwd: Budget', 'Budget'],
    ['Re : Budget', 'Budget'],
    // counters
    ['Re[2]: Budget', 'Budget'],
    ['Re [3]: Budget', 'Budget'],
    ['RE(2): Budget', 'Budget'],
    ['AW[12]: WG(3): Budget', 'Budget'],
    // German, Dutch, Nordic
    ['AW: Budget', 'Budget'],
    ['WG: AW: Budget', 'Budget'],
    ['Antwort: Budget', 'Budget'],
    ['Antw: Budget', 'Budget'],
    ['Doorst: Budget', 'Budget'],
    ['SV: Budget', 'Budget'],
    ['VS: Budget', 'Budget'],
    ['VB: SV: Budget', 'Budget'],
    // Romance languages
    ['R: Budget', 'Budget'],
    ['RIF: Budget', 'Budget'],
    ['I: Budget', 'Budget'],
    ['TR : Budget', 'Budget'],
    ['RV: Budget', 'Budget'],
    ['RES: Budget', 'Budget'],
    ['ENC: Budget', 'Budget'],
    ['Enc: RES: Budget', 'Budget'],
    // Central/Eastern Europe, Turkish, Greek
    ['Odp: Budget', 'Budget'],
    ['PD: Budget', 'Budget'],
    ['PŘ: Budget', 'Budget'],
    ['YNT: Budget', 'Budget'],
    ['İLT: Budget', 'Budget'],
    ['Vá: Budget', 'Budget'],
    ['VÁ: Budget', 'Budget'],
    ['Va\u0301: Budget', 'Budget'],
    ['Ответ: Бюджет', 'Бюджет'],
    ['ОТВЕТ: Бюджет', 'Бюджет'],
    ['Отв: Пересл: Бюджет', 'Бюджет'],
    ['ΑΠ: Προϋπολογισμός', 'Προϋπολογισμός'],
    ['Σχετ: Budget', 'Budget'],
    // CJK, with ASCII and full-width colons
    ['回复: 预算', '预算'],
    ['回复：预算', '预算'],
    ['回覆：預算', '預算'],
    ['答复：转发：预算', '预算'],
    ['轉寄: 預算', '預算'],
    ['返信: 予算', '予算'],
    ['転送：予算', '予算'],
    ['Re：予算', '予算'],
    ['회신: 예산', '예산'],
    // list tags, leading and interleaved
    ['[team] Budget', 'Budget'],
    ['[EXT] Re: Budget', 'Budget'],
    ['[External] Budget', 'Budget'],
    ['Re: [list] Re: Budget', 'Budget'],
    ['Re: [list] [EXT] AW: Budget', 'Budget'],
    ['[a][b]Budget', 'Budget'],
    ['[EXT]', '[EXT]'],
    ['Re: [EXT]', '[EXT]'],
    // RFC 5256 trailer and wrapper
    ['Budget (fwd)', 'Budget'],
    ['Budget (FWD) (fwd)', 'Budget'],
    ['[Fwd: Budget]', 'Budget'],
    ['Re: [Fwd: Re: Budget]', 'Budget'],
    // whitespace, folding, control and bidi characters
    ['Re:   Budget \t 2025  ', 'Budget 2025'],
    ['Re: Budget\r\n 2025', 'Budget 2025'],
    ['Bud\u0000get\u0007', 'Budget'],
    ['Re: \u202EBudget', 'Budget'],
    ['Re:\u00A0Budget', 'Budget'],
    // things that look like prefixes but are not
    ['Rex: Budget', 'Rex: Budget'],
    ['AWS: outage', 'AWS: outage'],
    ['Invoice: 42', 'Invoice: 42'],
    ['Question: Re budget', 'Question: Re budget'],
    ['Budget Re: 2025', 'Budget Re: 2025'],
    ['Re Budget', 'Re Budget'],
    ['[this bracketed text is much too long to be a mailing list tag at all, really] x', '[this bracketed text is much too long to be a mailing list tag at all, really] x'],
  ])('%j -> %j', (input, expected) => {
    expect(normaliseSubject(input)).toBe(expected);
  });

  it.each([
    ['a'.repeat(300), 'a'.repeat(SUBJECT_MAX)],
    [`Re: ${'b'.repeat(300)}`, 'b'.repeat(SUBJECT_MAX)],
    ['😀'.repeat(300), '😀'.repeat(SUBJECT_MAX)],
    [`${'x'.repeat(254)} y`, 'x'.repeat(254)],
  ])('caps at %#', (input, expected) => {
    expect(normaliseSubject(input)).toBe(expected);
  });

  it('strips a hostile number of prefixes in linear time', () => {
    const started = Date.now();
    expect(normaliseSubject(`${'Re: [x] '.repeat(50_000)}Budget`)).toBe('Budget');
    expect(normaliseSubject(`x${' (fwd)'.repeat(50_000)}`)).toBe('x');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('threadSubjectKey', () => {
  it.each([
    ['Re: Budget 2025', 'budget 2025'],
    ['AW: WG: BUDGET 2025', 'budget 2025'],
    ['[team] budget 2025', 'budget 2025'],
    ['Re:', ''],
  ])('%j -> %j', (input, expected) => {
    expect(threadSubjectKey(input)).toBe(expected);
  });
});

describe('hasReplyMarker', () => {
  it.each<[string, boolean]>([
    ['Re: Budget', true],
    ['RE:Budget', true],
    ['AW: [team] Budget', true],
    ['[team] Re: Budget', true],
    ['Re[2]: Budget', true],
    ['SV: Budget', true],
    ['回复：预算', true],
    ['Odp: Budżet', true],
    ['Fwd: Budget', false],
    ['WG: Budget', false],
    ['Budget', false],
    ['Regarding the budget', false],
    ['Re budget without colon', false],
    ['', false],
  ])('%j -> %s', (subject, expected) => {
    expect(hasReplyMarker(subject)).toBe(expected);
  });
});

describe('subjectLine', () => {
  it.each<[string, string, string]>([
    ['plain', 'Quarterly plan', 'Quarterly plan'],
    ['header injection flattened', 'Plan\r\nBcc: evil@x.test', 'Plan Bcc: evil@x.test'],
    ['tabs, line separators and runs of spaces', ' a\tb\u2028c   d ', 'a b c d'],
    ['capped at 200 code points', 'x'.repeat(250), 'x'.repeat(200)],
  ])('%s', (_name, input, expected) => {
    expect(subjectLine(input)).toBe(expected);
  });
});

describe('replySubject', () => {
  it.each<[string, string, string | undefined, string]>([
    ['adds Re:', 'Quarterly plan', undefined, 'Re: Quarterly plan'],
    ['keeps a Re: the title has', 'Re: Quarterly plan', undefined, 'Re: Quarterly plan'],
    ['keeps RE : in any case and spacing', 'RE : plan', undefined, 'RE : plan'],
    ['a line break in the title', 'Plan\nBcc: x@y.test', undefined, 'Re: Plan Bcc: x@y.test'],
    ['empty title', '  ', undefined, 'Re: (no subject)'],
    ['empty title, placeholder given', '', '(kein Betreff)', 'Re: (kein Betreff)'],
    ['stays within the cap with its Re:', 'y'.repeat(200), undefined, `Re: ${'y'.repeat(196)}`],
  ])('%s', (_name, title, untitled, expected) => {
    expect(replySubject(title, untitled)).toBe(expected);
  });
});
