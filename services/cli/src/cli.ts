import { parseArgs } from 'node:util';
import { ConfigError } from '@blend/config';
import { assertNever, groupSlugProblem } from '@blend/core';
import { ensureGroup, issueApiToken, setGroupVisibility, upsertPerson, type DbHandle } from '@blend/db';
import { canonicalAddress } from '@blend/mail';
import { listInbound } from './cli-inbound';
import { groupsMember, groupsMembers, groupsSet } from './cli-groups';
import { chatList, peopleLink, peopleLinks, peopleUnlink } from './cli-chat';
import { peopleErase, peopleImport } from './cli-people';
import { preview } from './cli-preview';
import { digestNow } from './cli-digest';
import { configShow, inboundReplay, inboundReprocess, keysRotate, retentionRun } from './cli-admin';
import { mailboxBackfill } from './cli-backfill';
import { mailboxAdd, mailboxList, mailboxRekey, mailboxRemove, mailboxSet } from './cli-mailbox';
import { commandHelp, readCommandLine, usage, UsageError } from './cli-commands';
import { webhooksList, webhooksReplay } from './cli-webhooks';
import { checkSchema, dbMigrate, dbStatus, dkimRecord, withDatabase } from './cli-setup';
import pkg from '../package.json' with { type: 'json' };

const USAGE = usage();
/** The usage printed after a mistake: the command's own once it is known. */
let usageOnError = USAGE;

/** What the programme prints for `--version`: the package's version. */
const VERSION = pkg.version;

async function main(argv: string[]): Promise<number> {
  const request = readCommandLine(argv);
  switch (request.kind) {
    case 'help':
      console.log(request.text);
      return 0;
    case 'version':
      console.log(`blend ${VERSION}`);
      return 0;
    case 'usage_error':
      console.error(`blend: ${request.message}\n\n${request.text}`);
      return 2;
    case 'run':
      break;
    default:
      return assertNever(request);
  }
  const { command, args } = request;
  usageOnError = commandHelp(command.name.split(' ')) ?? USAGE;
  // These need no database, or open it themselves.
  switch (command.name) {
    case 'config show':
      return configShow();
    case 'preview':
      return preview(args);
    case 'keys rotate':
      return keysRotate();
    case 'dkim record':
      return dkimRecord();
    case 'db migrate':
      return dbMigrate();
    case 'db status':
      return dbStatus();
  }
  return withDatabase(async (dbh) => {
    await checkSchema(dbh);
    switch (command.name) {
      case 'digest':
        return digestNow(dbh, args);
      case 'people add':
        return peopleAdd(dbh, args);
      case 'people import':
        return peopleImport(dbh, args);
      case 'people erase':
        return peopleErase(dbh, args);
      case 'people link':
        return peopleLink(dbh, args);
      case 'people unlink':
        return peopleUnlink(dbh, args);
      case 'people links':
        return peopleLinks(dbh, args);
      case 'chat list':
        return chatList(dbh, args);
      case 'groups add':
        return groupsAdd(dbh, args);
      case 'groups members':
        return groupsMembers(dbh, args);
      case 'groups add-member':
        return groupsMember(dbh, args, true);
      case 'groups remove-member':
        return groupsMember(dbh, args, false);
      case 'groups set':
        return groupsSet(dbh, args);
      case 'inbound list':
        return listInbound(dbh, args);
      case 'inbound replay':
        return inboundReplay(dbh, args);
      case 'inbound reprocess':
        return inboundReprocess(dbh, args);
      case 'mailbox add':
        return mailboxAdd(dbh, args);
      case 'mailbox list':
        return mailboxList(dbh, args);
      case 'mailbox set':
        return mailboxSet(dbh, args);
      case 'mailbox remove':
        return mailboxRemove(dbh, args);
      case 'mailbox rekey':
        return mailboxRekey(dbh, args);
      case 'mailbox backfill':
        return mailboxBackfill(dbh, args);
      case 'retention run':
        return retentionRun(dbh);
      case 'webhooks list':
        return webhooksList(dbh, args);
      case 'webhooks replay':
        return webhooksReplay(dbh, args);
      default:
        throw new Error(`blend: ${command.name} is listed but not wired`);
    }
  });
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
    options: { name: { type: 'string' }, private: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
  });
  const slug = positionals[0]?.toLowerCase();
  if (positionals.length !== 1 || !slug) throw new UsageError('groups add takes one SLUG of letters, digits, ".", "_" or "-"');
  const problem = groupSlugProblem(slug);
  if (problem) throw new UsageError(`groups add: SLUG ${problem}`);
  let group = await ensureGroup(dbh.db, slug, values.name);
  // A private group takes mail from, and shows its posts to, its members only (docs/SECURITY.md B37).
  if (values.private && group.visibility !== 'private') group = (await setGroupVisibility(dbh.db, group.id, 'private')) ?? group;
  if (values.json) console.log(JSON.stringify({ id: group.id, slug: group.slug, name: group.name, visibility: group.visibility }));
  else console.log(`group ${group.slug} (${group.name}, ${group.visibility}) id ${group.id}`);
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
    if (err instanceof UsageError) console.error(`\n${usageOnError}`);
    process.exitCode = 2;
  } else {
    console.error(`blend: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
