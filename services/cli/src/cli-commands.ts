/**
 * The `blend` commands: what each takes, what it does, and whether it opens the database.
 * Deciding what to run from the arguments needs no configuration and no connection, so
 * `--help`, `help COMMAND`, `--version` and a mistyped command work on a bare machine.
 */
/** A CLI mistake: printed with the usage, exit code 2. */
export class UsageError extends Error {}

export interface CommandSpec {
  /** One or two words: `preview`, `people add`. */
  name: string;
  /** The arguments after the name, as the usage shows them. */
  args: string;
  about: string;
  /** Opens the database (read DATABASE_URL, check the schema). */
  db: boolean;
}

export const COMMANDS: readonly CommandSpec[] = [
  { name: 'people add', args: 'EMAIL [--name NAME] [--opt-in] [--admin] [--json]', about: 'create (or update) a person and print their id and a new API bearer token', db: true },
  { name: 'people import', args: 'FILE.csv [--json]', about: 'add or update people from a CSV with columns email,name,opt_in(yes|no|out),admin', db: true },
  { name: 'people erase', args: 'EMAIL --yes [--json]', about: "erase a person's mirrored content, raw mail and tokens (recorded in the audit log)", db: true },
  {
    name: 'people link',
    args: 'EMAIL (--slack ID | --mattermost ID | --rocketchat ID) [--json]',
    about: "link a chat account to a person: their replies in that tool's threads become their\ncomments (Slack member id U…, Mattermost or Rocket.Chat user id, never a username)",
    db: true,
  },
  { name: 'people unlink', args: 'EMAIL (--slack | --mattermost | --rocketchat) [ID] [--json]', about: 'remove a chat account link (all of that tool without ID)', db: true },
  { name: 'people links', args: '[EMAIL] [--json]', about: 'list the chat accounts linked to people', db: true },
  {
    name: 'groups add',
    args: 'SLUG [--name NAME] [--private] [--json]',
    about: 'create a group; mail to SLUG@BLEND_MAIL_DOMAIN (with BLEND_ADDRESSING=plus, to\nMAILBOX+SLUG@DOMAIN of BLEND_MAIL_ADDRESS) posts into it; --private: its posts and\naddress are for its members only',
    db: true,
  },
  { name: 'groups members', args: 'SLUG [--json]', about: "a group's members, its visibility and whether it is archived", db: true },
  { name: 'groups add-member', args: 'SLUG EMAIL [--owner]', about: 'add a person to a group (the way into a private group); --owner lets them manage it', db: true },
  { name: 'groups remove-member', args: 'SLUG EMAIL', about: 'take a person out of a group', db: true },
  { name: 'groups set', args: 'SLUG [--name N] [--description D] [--archive | --unarchive]', about: 'rename, describe or archive a group (an archived group is read-only and refuses mail)', db: true },
  { name: 'inbound list', args: '[--state STATE] [--limit N] [--json]', about: 'list inbound mail, newest first, with state and reason', db: true },
  { name: 'inbound replay', args: 'ID...', about: 'put failed, withheld, held or rejected mail back in the pipeline (audited)', db: true },
  { name: 'inbound reprocess', args: "ID [--dry-run] [--json]", about: "convert stored mail again with today's rules; --dry-run shows the difference only", db: true },
  { name: 'chat list', args: '[--limit N] [--json]', about: 'chat replies that reached a Blend thread, newest first: commented, or withheld with a reason', db: true },
  {
    name: 'mailbox add',
    args: 'URL (--password-file FILE | --password-env VAR | --oauth2) [--after ACTION] [--no-check] [--json]',
    about:
      'watch another mailbox, e.g. imap://bridge%40example.com@imap.example.com:993/INBOX\n' +
      '(no password in the URL); pollers pick it up without a restart. It logs in and opens\n' +
      'the folder first and saves nothing if that fails (--no-check: save without trying).\n' +
      '--oauth2 logs in with an OAuth 2.0 token: the BLEND_OAUTH_* settings of this\n' +
      'environment are stored with the mailbox, encrypted like a password',
    db: true,
  },
  { name: 'mailbox list', args: '[--json]', about: 'every watched mailbox: settings, lease holder, connection state, checkpoint', db: true },
  {
    name: 'mailbox set',
    args: 'KEY [--password-file FILE | --password-env VAR | --oauth2] [--after ACTION|default]\n            [--enable | --disable] [--no-check] [--json]',
    about: 'change a mailbox added with `mailbox add` (audited); a new login is tried first',
    db: true,
  },
  { name: 'mailbox remove', args: 'KEY [--json]', about: 'stop watching a mailbox; its inbound mail and checkpoint are kept (audited)', db: true },
  { name: 'mailbox rekey', args: '[--json]', about: 're-encrypt mailbox passwords and OAuth settings with BLEND_SECRET after `keys rotate`', db: true },
  {
    name: 'mailbox backfill',
    args: '[KEY] --since YYYY-MM-DD',
    about: 're-read a mailbox from a date (duplicates are skipped); KEY is needed when several\nare watched. With move:FOLDER, processed mail since then is moved back first',
    db: true,
  },
  { name: 'webhooks list', args: '[--json]', about: 'every webhook: format, event types, filter and how its latest deliveries went', db: true },
  {
    name: 'webhooks replay',
    args: 'WEBHOOK --since TIME [--json]',
    about: 'deliver again, in order, every event the webhook takes since TIME (2026-12-01,\n2026-12-01T08:00:00Z, or back from now: 30m, 2h, 1d); receivers see the same event ids (audited)',
    db: true,
  },
  { name: 'digest', args: '--now [--person EMAIL] [--json]', about: "build and queue the digests due now, or one person's digest whatever the schedule", db: true },
  { name: 'retention run', args: '', about: 'purge raw mail, outbound rows and events past their retention periods now', db: true },
  { name: 'db migrate', args: '', about: 'apply pending database migrations (needs only DATABASE_URL); no other command migrates', db: false },
  { name: 'db status', args: '', about: 'list pending database migrations; exit code 1 when there are any', db: false },
  { name: 'preview', args: 'FILE.eml... [--json]', about: 'what Blend would publish for each message; needs no database or servers', db: false },
  { name: 'config show', args: '', about: 'the effective configuration, secrets masked', db: false },
  { name: 'keys rotate', args: '', about: 'print a new BLEND_SECRET and how to roll it out', db: false },
  { name: 'dkim record', args: '', about: 'the DNS TXT record that publishes the DKIM key of BLEND_DKIM_* (name and value)', db: false },
];

const NOTES = `ACTION is what happens to a mail in IMAP once it is processed: flag (keep it, flagged),
move:FOLDER (flag it and move it there) or delete (flag it and expunge it); by default
BLEND_IMAP_AFTER. KEY is the mailbox URL without its password, as \`mailbox list\` shows it.

Settings: the commands that use the database read DATABASE_URL (or DATABASE_URL_FILE) and
refuse to run while a migration is pending (run \`blend db migrate\`); the mailbox commands
also read BLEND_SECRET (and BLEND_SECRET_PREVIOUS), BLEND_IMAP_URL, BLEND_IMAP_AUTH,
BLEND_IMAP_AFTER and, with --oauth2 or BLEND_IMAP_AUTH=oauth2, the BLEND_OAUTH_* settings.`;

const line = (c: CommandSpec) => `  ${c.name}${c.args ? ` ${c.args}` : ''}\n${c.about.replace(/^/gm, '      ')}`;

/** The whole usage: every command, then the notes. */
export function usage(): string {
  return `usage: blend <command> [arguments]\n       blend help <command> | blend <command> --help | blend --version\n\n${COMMANDS.map(line).join('\n')}\n\n${NOTES}`;
}

/** The usage of the commands whose name starts with `words` (`people` shows the three people commands). */
export function commandHelp(words: string[]): string | null {
  const prefix = words.join(' ');
  const found = COMMANDS.filter((c) => c.name === prefix || c.name.startsWith(`${prefix} `));
  if (prefix === '' || found.length === 0) return null;
  return `usage:\n${found.map((c) => line(c).replace(/^  /, '  blend ')).join('\n')}`;
}

/** What the arguments ask for. Pure: the caller prints, configures and connects. */
export type CliRequest =
  | { kind: 'help'; text: string }
  | { kind: 'version' }
  | { kind: 'run'; command: CommandSpec; args: string[] }
  | { kind: 'usage_error'; message: string; text: string };

const HELP = new Set(['--help', '-h']);

export function readCommandLine(argv: readonly string[]): CliRequest {
  const [first, ...rest] = argv;
  if (first === undefined) return { kind: 'usage_error', message: 'no command given', text: usage() };
  if (HELP.has(first)) return { kind: 'help', text: usage() };
  if (first === '--version' || first === '-V' || first === 'version') return { kind: 'version' };
  if (first === 'help') {
    if (rest.length === 0) return { kind: 'help', text: usage() };
    const text = commandHelp(rest.filter((a) => !HELP.has(a)));
    return text ? { kind: 'help', text } : { kind: 'usage_error', message: `unknown command: ${rest.join(' ')}`, text: usage() };
  }
  // Two words (`people add`) before one (`preview`, `digest`).
  const two = argv.length >= 2 ? COMMANDS.find((c) => c.name === `${first} ${argv[1]}`) : undefined;
  const command = two ?? COMMANDS.find((c) => c.name === first);
  if (!command) {
    // `blend people --help`: the help of that group of commands.
    if (rest.some((a) => HELP.has(a))) {
      const text = commandHelp([first]);
      if (text) return { kind: 'help', text };
    }
    const group = commandHelp([first]);
    const second = argv[1] !== undefined && !argv[1].startsWith('-') ? argv[1] : undefined;
    if (group && !second) return { kind: 'usage_error', message: `${first} needs one of the commands below`, text: group };
    return { kind: 'usage_error', message: `unknown command: ${[first, second].filter(Boolean).join(' ')}`, text: group ?? usage() };
  }
  const args = argv.slice(command.name.split(' ').length);
  if (args.some((a) => HELP.has(a))) return { kind: 'help', text: commandHelp(command.name.split(' '))! };
  return { kind: 'run', command, args };
}
