import { describe, expect, it } from 'vitest';
import { commandPattern, commandPhrases, foldCommandText, type CommandWord } from './command-words';
import { parseCommand, type Command } from './command';
import { LANGUAGES } from './i18n/languages';

const optIn: Command = { kind: 'opt_in' };
const optOut: Command = { kind: 'opt_out' };
const help: Command = { kind: 'help' };
const unsubscribe: Command = { kind: 'unsubscribe' };
const digest = (frequency: 'hourly' | 'daily' | 'weekly' | 'off'): Command => ({ kind: 'digest', frequency });

describe('parseCommand: subject', () => {
  it.each<[string, Command | null]>([
    // opt in / out, spellings and case
    ['opt in', optIn],
    ['Opt In', optIn],
    ['OPT IN', optIn],
    ['opt-in', optIn],
    ['Opt-In', optIn],
    ['optin', optIn],
    ['opt_in', optIn],
    ['  opt   in  ', optIn],
    ['opt out', optOut],
    ['Opt-Out', optOut],
    ['OPTOUT', optOut],
    // surrounding punctuation and markers
    ['Opt out.', optOut],
    ['opt out!!!', optOut],
    ['"opt in"', optIn],
    ['«opt in»', optIn],
    ['*opt out*', optOut],
    ['opt in 👍', optIn],
    ['Re: opt out', optOut],
    ['RE: Fwd: Opt-Out!', optOut],
    ['AW: opt in', optIn],
    ['[EXT] opt out', optOut],
    ['Re: [EXT] opt in', optIn],
    // full-width letters from a CJK input method
    ['ｏｐｔ ｉｎ', optIn],
    // digest
    ['digest daily', digest('daily')],
    ['Digest Hourly', digest('hourly')],
    ['digest weekly', digest('weekly')],
    ['digest off', digest('off')],
    ['digest none', digest('off')],
    ['digest never', digest('off')],
    ['digest: weekly', digest('weekly')],
    ['digest = daily', digest('daily')],
    ['digest-daily', digest('daily')],
    ['Digests daily.', digest('daily')],
    ['Re: digest weekly', digest('weekly')],
    // help and unsubscribe
    ['help', help],
    ['HELP!', help],
    ['?help?', help],
    ['commands', help],
    ['unsubscribe', unsubscribe],
    ['Unsubscribe.', unsubscribe],
    ['unsub', unsubscribe],
    ['STOP', unsubscribe],
    ['stop.', unsubscribe],

    // German
    ['anmelden', optIn],
    ['Abonnieren!', optIn],
    ['Einwilligen', optIn],
    ['Abmelden', optOut],
    ['AW: austragen', optOut],
    ['Abbestellen', unsubscribe],
    ['STOPP', unsubscribe],
    ['Hilfe', help],
    ['Befehle?', help],
    ['Zusammenfassung wöchentlich', digest('weekly')],
    ['Zusammenfassung: täglich', digest('daily')],
    ['zusammenfassung stündlich', digest('hourly')],
    ['Zusammenfassung aus', digest('off')],
    ['Zusammenfassung nie', digest('off')],
    ['ZUSAMMENFASSUNG WÖCHENTLICH', digest('weekly')],
    ['Zusammenfassung wochentlich', digest('weekly')],
    ['Zusammenfassung woechentlich', digest('weekly')],
    ['Digest wöchentlich', digest('weekly')],
    // French
    ["s'inscrire", optIn],
    ['S’inscrire', optIn],
    ["Je m'inscris", optIn],
    ['se désinscrire', optOut],
    ['Se desinscrire', optOut],
    ['Désinscription', optOut],
    ['TR: se désabonner', unsubscribe],
    ['Désabonnement', unsubscribe],
    ['Aide', help],
    ['commandes', help],
    ['résumé hebdomadaire', digest('weekly')],
    ['Résumé : quotidien', digest('daily')],
    ['resume toutes les heures', digest('hourly')],
    ['Résumé désactivé', digest('off')],
    ['RÉSUMÉ JAMAIS', digest('off')],
    // Spanish
    ['suscribirse', optIn],
    ['Darme de alta', optIn],
    ['darse de baja', optOut],
    ['RV: Darme de baja', optOut],
    ['BAJA', unsubscribe],
    ['Cancelar suscripción', unsubscribe],
    ['cancelar suscripcion', unsubscribe],
    ['¿Ayuda?', help],
    ['comandos', help],
    ['resumen semanal', digest('weekly')],
    ['Resumen: diario', digest('daily')],
    ['resumen cada hora', digest('hourly')],
    ['Resumen desactivado', digest('off')],
    ['resumen nunca', digest('off')],
    // Japanese, with full-width and half-width forms from input methods
    ['オプトイン', optIn],
    ['登録する', optIn],
    ['参加する。', optIn],
    ['オプトアウト', optOut],
    ['退会', optOut],
    ['ｵﾌﾟﾄｱｳﾄ', optOut],
    ['配信停止', unsubscribe],
    ['ストップ！', unsubscribe],
    ['ヘルプ', help],
    ['使い方？', help],
    ['ダイジェスト 毎週', digest('weekly')],
    ['ダイジェスト毎日', digest('daily')],
    ['ダイジェスト：毎時', digest('hourly')],
    ['ダイジェスト　オフ', digest('off')],
    ['まとめ 週次', digest('weekly')],
    ['ダイジェスト 停止', digest('off')],
    ['Re: ダイジェスト 毎週', digest('weekly')],

    // not commands: the command must be the whole subject
    ['Why we opt out of the survey', null],
    ['opt out of the survey', null],
    ['Opt In please', null],
    ['please opt in', null],
    ['opt in / opt out', null],
    ['Opting out', null],
    ['opt', null],
    ['opt inn', null],
    ['opt  - in', null],
    ['op tin', null],
    ['digest', null],
    ['digest monthly', null],
    ['digest immediately', null],
    ['the daily digest', null],
    ['daily digest', null],
    ['digest daily weekly', null],
    ['Help wanted: on-call rota', null],
    ['help me', null],
    ['Stop the presses', null],
    ['Non-stop delivery', null],
    ['unsubscribe me from everything', null],
    ['Quarterly numbers', null],
    // not commands: ordinary subjects in the other languages
    ['Bitte melden Sie sich bis Freitag an', null],
    ['Anmeldung zum Sommerfest', null],
    ['Ich möchte mich abmelden', null],
    ['Wöchentliche Zusammenfassung', null],
    ['Zusammenfassung der Sitzung', null],
    ['Zusammenfassung monatlich', null],
    ['Hilfe beim Umzug gesucht', null],
    ['Inscription au séminaire', null],
    ['Comment se désinscrire ?', null],
    ['Résumé de la réunion', null],
    ['Résumé hebdomadaire des ventes de la semaine', null],
    ['Le résumé hebdomadaire', null],
    ["J'ai besoin d'aide", null],
    ['Alta disponibilidad del servidor', null],
    ['Baja por maternidad de Ana', null],
    ['Resumen de la reunión semanal', null],
    ['Resumen mensual', null],
    ['Necesito ayuda con el informe', null],
    ['登録', null],
    ['停止', null],
    ['参加', null],
    ['イベントに参加する方へ', null],
    ['週次ダイジェスト', null],
    ['今週のまとめ', null],
    ['会議のまとめ', null],
    ['サーバー停止のお知らせ', null],
    ['ヘルプデスクの営業時間', null],
    ['', null],
    ['Re:', null],
    ['!!!', null],
    [`opt in${' '.repeat(10_000)}x`, null],
    [`opt out${'!'.repeat(150)}`, optOut],
    [`opt out${'!'.repeat(160)}`, null],
    ['x'.repeat(10_000), null],
  ])('%j -> %o', (subject, expected) => {
    expect(parseCommand(subject, '')).toEqual(expected);
  });
});

describe('parseCommand: first line', () => {
  it.each<[string, string, Command | null]>([
    ['command in the first line', 'opt in', optIn],
    ['first line with punctuation', 'Opt out.', optOut],
    ['digest in the body', 'digest: weekly', digest('weekly')],
    ['first non-empty line of several', '\n  \nopt out\nThanks, Jane', optOut],
    ['command followed by a signature', 'help\n-- \nJane Doe', help],
    ['greeting first: not a command', 'Hi,\nopt out', null],
    ['sentence: not a command', 'I would like to opt out of this.', null],
    ['command later in the line', 'Please stop', null],
    ['quoted line is not special', '> opt out', optOut],
    ['German command in the body', 'Zusammenfassung wöchentlich\nDanke, Jana', digest('weekly')],
    ['French sentence: not a command', 'Je voudrais me désinscrire, merci.', null],
    ['Spanish sentence: not a command', 'Quiero darme de baja de la lista.', null],
    ['Japanese sentence: not a command', 'ダイジェストを毎週受け取りたいです。', null],
    ['Japanese command in the body', 'ヘルプ\n山田', help],
    ['empty', '', null],
    ['blank lines only', '\n \n\t\n', null],
  ])('%s', (_name, firstLine, expected) => {
    expect(parseCommand('', firstLine)).toEqual(expected);
  });
});

describe('parseCommand: subject and first line together', () => {
  it.each<[string, string, string, Command | null]>([
    ['subject wins over the first line', 'opt in', 'opt out', optIn],
    ['first line used when the subject is a sentence', 'Digest settings', 'digest hourly', digest('hourly')],
    ['first line used when the subject is a reply to one', 'Re: Your Blend digest', 'digest off', digest('off')],
    ['a normal post', 'Why we opt out of the survey', 'Team, here is why.', null],
    ['a post whose body starts with a sentence about opting out', 'Survey', 'opt out of the survey?', null],
    ['a German post', 'Wöchentliche Zusammenfassung', 'Hallo zusammen, hier die Zahlen.', null],
    ['a German command under a sentence subject', 'Einstellungen', 'Zusammenfassung täglich', digest('daily')],
  ])('%s', (_name, subject, firstLine, expected) => {
    expect(parseCommand(subject, firstLine)).toEqual(expected);
  });
});

describe('command words', () => {
  const WHOLE: CommandWord[] = ['optIn', 'optOut', 'unsubscribe', 'help'];

  it('no phrase means two commands', () => {
    const seen = new Map<string, CommandWord>();
    for (const word of WHOLE)
      for (const lang of LANGUAGES)
        for (const p of commandPhrases(lang, word)) {
          const folded = foldCommandText(p);
          expect(seen.get(folded) ?? word, `${lang} "${p}"`).toBe(word);
          seen.set(folded, word);
        }
  });

  it.each(LANGUAGES)('%s: the suggested phrase of each command is understood', (lang) => {
    const first = (w: CommandWord) => commandPhrases(lang, w)[0]!;
    expect(parseCommand(first('optIn'), '')).toEqual(optIn);
    expect(parseCommand(first('optOut'), '')).toEqual(optOut);
    expect(parseCommand(first('unsubscribe'), '')).toEqual(unsubscribe);
    expect(parseCommand(first('help'), '')).toEqual(help);
    for (const f of ['hourly', 'daily', 'weekly', 'off'] as const) {
      expect(parseCommand(`${first('digest')} ${first(`digest.${f}`)}`, '')).toEqual(digest(f));
    }
  });

  it('folds width, case, accents and apostrophes', () => {
    expect(foldCommandText('ＲÉＳＵＭÉ  Hebdomadaire')).toBe('resume hebdomadaire');
    expect(foldCommandText('S’inscrire')).toBe("s'inscrire");
    expect(foldCommandText('ﾀﾞｲｼﾞｪｽﾄ')).toBe('ダイジェスト');
  });

  it('a space in a phrase also matches "-", "_" or nothing', () => {
    expect(new RegExp(`^(?:${commandPattern('optIn')})$`).test('opt_in')).toBe(true);
    expect(new RegExp(`^(?:${commandPattern('optOut')})$`).test('darsedebaja')).toBe(true);
  });
});
