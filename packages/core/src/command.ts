import { commandPattern, foldCommandText, type CommandWord } from './command-words';
import { normaliseSubject } from './subject';

/** How often a person gets digests, as a mail command can set it. */
export type DigestFrequency = 'hourly' | 'daily' | 'weekly' | 'off';

/** A command mailed to the bridge (docs/ARCHITECTURE.md "Addresses"). */
export type Command =
  | { kind: 'opt_in' }
  | { kind: 'opt_out' }
  | { kind: 'digest'; frequency: DigestFrequency }
  | { kind: 'help' }
  | { kind: 'unsubscribe' };

/**
 * Longest subject or line looked at. Commands are a few words; the slack is for
 * surrounding punctuation, and the cap keeps the work on a long line trivial.
 */
const MAX_COMMAND_LINE = 160;

/**
 * Punctuation, symbols and spaces around a command are ignored: "Opt out.", "*help*",
 * "«opt in»", "digest: weekly!". Unicode classes, so full-width and typographic marks
 * count too.
 */
const EDGE = /^[\s\p{P}\p{S}]+|[\s\p{P}\p{S}]+$/gu;

const whole = (word: CommandWord) => new RegExp(`^(?:${commandPattern(word)})$`);

/** `opt in`, `opt-in`, `optin`, `anmelden`, `s'inscrire`, `オプトイン`, … (and the same for out). */
const OPT_IN = whole('optIn');
const OPT_OUT = whole('optOut');

/**
 * `digest daily`, `digest: weekly`, `digest = off`, `digest-hourly`, `Zusammenfassung
 * wöchentlich`, `résumé : hebdomadaire`, `resumen semanal`, `ダイジェスト 毎週`: the noun
 * first, so a title such as "the daily digest" stays a post.
 */
const DIGEST = new RegExp(
  `^(?:${commandPattern('digest')}) ?[:=_-]? ?(?:(?<hourly>${commandPattern('digest.hourly')})|(?<daily>${commandPattern('digest.daily')})|(?<weekly>${commandPattern('digest.weekly')})|(?<off>${commandPattern('digest.off')}))$`,
);

const HELP = whole('help');

/**
 * `stop` and `unsub` are the keywords people type when they want mail to end (the SMS
 * convention; `baja` in Spanish, `配信停止` in Japanese). They are only classified here: a
 * keyword reply must be confirmed before anything changes (docs/SECURITY.md B23), which is
 * the caller's job.
 */
const UNSUBSCRIBE = whole('unsubscribe');

/**
 * Finds a command in a mail to the bridge. The command must be the **whole** subject
 * (after reply/forward markers and list tags are removed, as by
 * {@link normaliseSubject}) or the **whole** first non-empty line of the body,
 * optionally wrapped in punctuation. So `Re: Opt-Out!` is a command, and a post
 * titled "Why we opt out of the survey" or a first line "Opt in please" is not.
 *
 * Matching ignores case, accents, character width, spacing and surrounding punctuation.
 * Commands are understood in every language Blend speaks, whatever the sender's own
 * setting (the words are the `command` catalogues, `i18n/locales/command/<lang>.ts`). The
 * subject is tried first, because it is the deliberate place for a command and a body's
 * first line may be a greeting.
 *
 * - `opt in` / `opt-in` / `optin` (`anmelden`, `s'inscrire`, `suscribirse`, `オプトイン`) → `opt_in`;
 *   the same for `opt out`
 * - `digest hourly|daily|weekly|off` (also `none`/`never` for off, `digest: weekly`,
 *   `Zusammenfassung wöchentlich`, `résumé hebdomadaire`, `resumen semanal`, `ダイジェスト 毎週`)
 * - `help`, `commands` (`hilfe`, `aide`, `ayuda`, `ヘルプ`) → `help`
 * - `unsubscribe`, `unsub`, `stop` (`abbestellen`, `se désabonner`, `baja`, `配信停止`) → `unsubscribe`
 *
 * Call this only for mail to the bridge's own addresses (status/command), not for a
 * `reply+TOKEN@` comment or a group post: a thread that happens to be titled "Stop"
 * is a conversation, not a command.
 *
 * @param firstLine - the first non-empty line of the new visible text; if several
 *   lines are given, only the first non-empty one is used.
 * @returns the command, or `null` when neither place holds exactly one.
 */
export function parseCommand(subject: string, firstLine: string): Command | null {
  const fromSubject = matchCommand(normaliseSubject(subject));
  if (fromSubject !== null) return fromSubject;
  const line = firstLine.split('\n').find((l) => l.trim() !== '') ?? '';
  return matchCommand(line);
}

function matchCommand(raw: string): Command | null {
  if (raw.length > MAX_COMMAND_LINE) return null;
  const s = foldCommandText(raw).replace(EDGE, '');

  if (OPT_IN.test(s)) return { kind: 'opt_in' };
  if (OPT_OUT.test(s)) return { kind: 'opt_out' };
  const digest = DIGEST.exec(s)?.groups;
  if (digest) return { kind: 'digest', frequency: digestFrequency(digest) };
  if (HELP.test(s)) return { kind: 'help' };
  if (UNSUBSCRIBE.test(s)) return { kind: 'unsubscribe' };
  return null;
}

function digestFrequency(groups: Record<string, string | undefined>): DigestFrequency {
  if (groups.hourly !== undefined) return 'hourly';
  if (groups.daily !== undefined) return 'daily';
  if (groups.weekly !== undefined) return 'weekly';
  return 'off';
}
