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

/** `opt in`, `opt-in`, `opt_in`, `optin` (and the same for out). */
const OPT = /^opt[ _-]?(in|out)$/;

/** `digest daily`, `digest: weekly`, `digest = off`, `digest-hourly`. */
const DIGEST = /^digests? ?[:=_-]? ?(hourly|daily|weekly|off|none|never)$/;

const HELP = new Set(['help', 'commands']);

/**
 * `stop` and `unsub` are the keywords people type when they want mail to end (the SMS
 * convention). They are only classified here: a keyword reply must be confirmed before
 * anything changes (docs/SECURITY.md B23), which is the caller's job.
 */
const UNSUBSCRIBE = new Set(['unsubscribe', 'unsub', 'stop']);

/**
 * Finds a command in a mail to the bridge. The command must be the **whole** subject
 * (after reply/forward markers and list tags are removed, as by
 * {@link normaliseSubject}) or the **whole** first non-empty line of the body,
 * optionally wrapped in punctuation. So `Re: Opt-Out!` is a command, and a post
 * titled "Why we opt out of the survey" or a first line "Opt in please" is not.
 *
 * Matching ignores case, spacing and surrounding punctuation; commands are English
 * only. The subject is tried first, because it is the deliberate place for a command
 * and a body's first line may be a greeting.
 *
 * - `opt in` / `opt-in` / `optin` → `opt_in`; the same for `opt out`
 * - `digest hourly|daily|weekly|off` (also `none`/`never` for off, `digest: weekly`)
 * - `help`, `commands` → `help`
 * - `unsubscribe`, `unsub`, `stop` → `unsubscribe`
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
  // NFKC folds full-width letters (CJK input methods) and ligatures to ASCII.
  const s = raw.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').replace(EDGE, '');

  const opt = OPT.exec(s);
  if (opt) return { kind: opt[1] === 'in' ? 'opt_in' : 'opt_out' };
  const digest = DIGEST.exec(s);
  if (digest) return { kind: 'digest', frequency: digestFrequency(digest[1] ?? '') };
  if (HELP.has(s)) return { kind: 'help' };
  if (UNSUBSCRIBE.has(s)) return { kind: 'unsubscribe' };
  return null;
}

function digestFrequency(word: string): DigestFrequency {
  switch (word) {
    case 'hourly':
    case 'daily':
    case 'weekly':
      return word;
    default:
      // DIGEST only lets off/none/never through besides the three above.
      return 'off';
  }
}
