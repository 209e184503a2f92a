import { parseArgs } from 'node:util';
import { ConfigError, loadConfigSubset } from '@blend/config';
import { groupSlugProblem } from '@blend/core';
import { createDb, ensureGroup, ensureSchema, issueApiToken, upsertPerson, type DbHandle } from '@blend/db';
import { canonicalAddress } from '@blend/mail';
import { listInbound } from './cli-inbound';
import { peopleErase, peopleImport, UsageError } from './cli-people';
import { preview } from './cli-preview';
import { digestNow } from './cli-digest';
import { configShow, inboundReplay, inboundReprocess, keysRotate, retentionRun } from './cli-admin';
import { mailboxBackfill } from './cli-backfill';
import { mailboxAdd, mailboxList, mailboxRekey, mailboxRemove, mailboxSet } from './cli-mailbox';

const USAGE = `usage: blend <command>

  people add EMAIL [--name NAME] [--opt-in] [--admin] [--json]
      create (or update) a person and print their id and a new API bearer token
  people import FILE.csv [--json]
      add or update people from a CSV with columns email,name,opt_in(yes|no|out),admin
  people erase EMAIL --yes [--json]
      erase a person's mirrored content, raw mail and tokens (recorded in the audit log)
  groups add SLUG [--name NAME] [--json]
      create a group; mail to SLUG@BLEND_MAIL_DOMAIN (with BLEND_ADDRESSING=plus, to
      MAILBOX+SLUG@DOMAIN of BLEND_MAIL_ADDRESS) posts into it
  inbound list [--state STATE] [--limit N] [--json]
      list inbound mail, newest first, with state and reason
  inbound replay ID...
      put failed, withheld, held or rejected mail back in the pipeline (audited)
  inbound reprocess ID [--dry-run] [--json]
      convert stored mail again with today's rules; --dry-run shows the difference only
  mailbox add URL (--password-file FILE | --password-env VAR | --oauth2) [--after ACTION] [--no-check] [--json]
      watch another mailbox, e.g. imap://bridge%40example.com@imap.example.com:993/INBOX
      (no password in the URL); pollers pick it up without a restart. It logs in and opens
      the folder first and saves nothing if that fails (--no-check: save without trying).
      --oauth2 logs in with an OAuth 2.0 token: the BLEND_OAUTH_* settings of this
      environment are stored with the mailbox, encrypted like a password
  mailbox list [--json]
      every watched mailbox: settings, lease holder, connection state, checkpoint
  mailbox set KEY [--password-file FILE | --password-env VAR | --oauth2] [--after ACTION|default]
              [--enable | --disable] [--no-check] [--json]
      change a mailbox added with \`mailbox add\` (audited); a new login is tried first
  mailbox remove KEY [--json]
      stop watching a mailbox; its inbound mail and checkpoint are kept (audited)
  mailbox rekey [--json]
      re-encrypt mailbox passwords and OAuth settings with BLEND_SECRET after \`keys rotate\`
  mailbox backfill [KEY] --since YYYY-MM-DD
      re-read a mailbox from a date (duplicates are skipped); KEY is needed when several
      are watched. With move:FOLDER, processed mail since then is moved back first
  digest --now [--person EMAIL] [--json]
      build and queue the digests due now, or one person's digest whatever the schedule
  retention run
      purge raw mail and outbound rows past their retention periods now
  preview FILE.eml... [--json]
      what Blend would publish for each message; needs no database or servers
  config show
      the effective configuration, secrets masked
  keys rotate
      print a new BLEND_SECRET and how to roll it out

ACTION is what happens to a mail in IMAP once it is processed: flag (keep it, flagged),
move:FOLDER (flag it and move it there) or delete (flag it and expunge it); by default
BLEND_IMAP_AFTER. KEY is the mailbox URL without its password, as \`mailbox list\` shows it.

Settings: DATABASE_URL (required), BLEND_MIGRATE_ON_START; the mailbox commands also read
BLEND_SECRET (and BLEND_SECRET_PREVIOUS), BLEND_IMAP_URL, BLEND_IMAP_AUTH, BLEND_IMAP_AFTER
and, with --oauth2 or BLEND_IMAP_AUTH=oauth2, the BLEND_OAUTH_* settings.`;


async function main(argv: string[]): Promise<number> {
  const [noun, verb, ...rest] = argv;
  if (!noun || noun === 'help' || noun === '--help') {
    console.log(USAGE);
    return noun ? 0 : 2;
  }
  // These need no database.
  if (noun === 'config' && verb === 'show') return configShow();
  if (noun === 'preview') return preview(argv.slice(1));
  if (noun === 'keys' && verb === 'rotate') return keysRotate();
  const cfg = loadConfigSubset(['DATABASE_URL', 'BLEND_MIGRATE_ON_START']);
  const dbh = createDb(cfg.DATABASE_URL, { max: 2 });
  try {
    await ensureSchema(dbh.db, dbh.pool, cfg.BLEND_MIGRATE_ON_START);
    // `digest` takes only options: `blend digest --now [--person EMAIL]`.
    if (noun === 'digest') return await digestNow(dbh, argv.slice(1));
    const key = `${noun} ${verb ?? ''}`.trim();
    switch (key) {
      case 'people add':
        return await peopleAdd(dbh, rest);
      case 'people import':
        return await peopleImport(dbh, rest);
      case 'people erase':
        return await peopleErase(dbh, rest);
      case 'groups add':
        return await groupsAdd(dbh, rest);
      case 'inbound list':
        return await listInbound(dbh, rest);
      case 'inbound replay':
        return await inboundReplay(dbh, rest);
      case 'inbound reprocess':
        return await inboundReprocess(dbh, rest);
      case 'mailbox add':
        return await mailboxAdd(dbh, rest);
      case 'mailbox list':
        return await mailboxList(dbh, rest);
      case 'mailbox set':
        return await mailboxSet(dbh, rest);
      case 'mailbox remove':
        return await mailboxRemove(dbh, rest);
      case 'mailbox rekey':
        return await mailboxRekey(dbh, rest);
      case 'mailbox backfill':
        return await mailboxBackfill(dbh, rest);
      case 'retention run':
        return await retentionRun(dbh);
      default:
        throw new UsageError(`unknown command: ${key}`);
    }
  } finally {
    await dbh.close();
  }
}

async function peopleAdd(dbh: DbHandle, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      'opt-in': { type: 'boolean', default: false },
      admin: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) throw new UsageError('people add takes exactly one EMAIL');
  const email = canonicalAddress(positionals[0]!);
  if (!email) throw new UsageError(`not an email address: ${positionals[0]}`);
  const { person, created } = await upsertPerson(dbh.db, {
    email,
    ...(values.name !== undefined ? { name: values.name } : {}),
    optIn: values['opt-in'],
    via: 'cli',
    ...(values.admin ? { isAdmin: true } : {}),
  });
  const token = await issueApiToken(dbh.db, person.id, 'cli');
  if (values.json) {
    console.log(
      JSON.stringify({ id: person.id, email: person.email, name: person.name, opt_in: person.optIn, admin: person.isAdmin, created, token }),
    );
  } else {
    console.log(`${created ? 'created' : 'updated'} ${person.email} (${person.optIn}${person.isAdmin ? ', admin' : ''})`);
    console.log(`id:    ${person.id}`);
    console.log(`token: ${token}`);
    console.log('The token is shown once; use it as "Authorization: Bearer <token>".');
  }
  return 0;
}

async function groupsAdd(dbh: DbHandle, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { name: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const slug = positionals[0]?.toLowerCase();
  if (positionals.length !== 1 || !slug) throw new UsageError('groups add takes one SLUG of letters, digits, ".", "_" or "-"');
  const problem = groupSlugProblem(slug);
  if (problem) throw new UsageError(`groups add: SLUG ${problem}`);
  const group = await ensureGroup(dbh.db, slug, values.name);
  if (values.json) console.log(JSON.stringify({ id: group.id, slug: group.slug, name: group.name }));
  else console.log(`group ${group.slug} (${group.name}) id ${group.id}`);
  return 0;
}

// `blend inbound list | head` closes the pipe early; that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  const code = (err as { code?: string }).code;
  if (err instanceof UsageError || err instanceof ConfigError || code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    console.error(`blend: ${(err as Error).message}`);
    if (err instanceof UsageError) console.error(`\n${USAGE}`);
    process.exitCode = 2;
  } else {
    console.error(`blend: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
