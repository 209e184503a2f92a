import { parseArgs } from 'node:util';
import {
  findPersonByEmail,
  linkChatIdentity,
  listChatIdentities,
  listChatInbound,
  unlinkChatIdentity,
  type ChatTool,
  type DbHandle,
  type Person,
} from '@blend/db';
import { canonicalAddress } from '@blend/mail';
import { UsageError } from './cli-commands';

/**
 * Linking chat accounts to people (`blend people link`, `unlink`, `links`) and IT's view of the
 * chat replies that arrived (`blend chat list`). Linking is for IT only: whoever holds a link
 * comments as that person (docs/SECURITY.md B36).
 */

const TOOL_OPTIONS = { slack: { type: 'string' }, mattermost: { type: 'string' }, rocketchat: { type: 'string' }, json: { type: 'boolean', default: false } } as const;
const TOOLS: readonly ChatTool[] = ['slack', 'mattermost', 'rocketchat'];

/** Slack user ids (`U…`/`W…`), Mattermost ids (26 lower-case letters and digits), Rocket.Chat ids (17 characters). */
function accountProblem(tool: ChatTool, id: string): string | null {
  switch (tool) {
    case 'slack':
      return /^[UW][A-Z0-9]{2,20}$/.test(id) ? null : 'a Slack user id looks like U012AB3CD (profile → ⋮ → Copy member ID)';
    case 'mattermost':
      return /^[a-z0-9]{26}$/.test(id) ? null : 'a Mattermost user id is 26 lower-case letters and digits (System Console → Users); a username is not accepted, since its owner can change it';
    case 'rocketchat':
      return /^[A-Za-z0-9]{10,32}$/.test(id) ? null : 'a Rocket.Chat user id is its _id (Administration → Users); a username is not accepted, since its owner can change it';
  }
}

async function personOf(dbh: DbHandle, given: string | undefined, command: string): Promise<Person> {
  const email = canonicalAddress(given ?? '');
  if (!email) throw new UsageError(`${command} takes one EMAIL`);
  const person = await findPersonByEmail(dbh.db, email);
  if (!person) throw new UsageError(`no person with address ${email} (add them with \`blend people add\`)`);
  return person;
}

const who = () => `cli:${process.env.USER ?? 'unknown'}`;

/** `blend people link EMAIL --slack U123 | --mattermost ID | --rocketchat ID`. */
export async function peopleLink(dbh: DbHandle, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: TOOL_OPTIONS });
  if (positionals.length !== 1) throw new UsageError('people link takes exactly one EMAIL');
  const given = TOOLS.filter((t) => values[t] !== undefined);
  if (given.length !== 1) throw new UsageError('people link takes one of --slack ID, --mattermost ID or --rocketchat ID');
  const tool = given[0]!;
  const id = values[tool]!.trim();
  const problem = accountProblem(tool, id);
  if (problem) throw new UsageError(`--${tool} ${id}: ${problem}`);
  const person = await personOf(dbh, positionals[0], 'people link');
  const changed = await linkChatIdentity(dbh.db, { personId: person.id, tool, externalId: id, linkedBy: who() });
  if (values.json) console.log(JSON.stringify({ email: person.email, tool, id, changed }));
  else console.log(changed ? `linked ${tool} ${id} to ${person.email}` : `${tool} ${id} was already linked to ${person.email}`);
  if (person.optIn !== 'opted_in' && !values.json) console.log(`note: ${person.email} has not opted in, so their replies are withheld until they do`);
  return 0;
}

/** `blend people unlink EMAIL --slack [ID] …`: one account, or all of that tool when no ID is given. */
export async function peopleUnlink(dbh: DbHandle, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { slack: { type: 'boolean' }, mattermost: { type: 'boolean' }, rocketchat: { type: 'boolean' }, json: { type: 'boolean', default: false } },
  });
  // `--slack U123` arrives as the flag and a second positional.
  const [email, id, ...rest] = positionals;
  const tools = TOOLS.filter((t) => values[t]);
  if (tools.length !== 1 || rest.length > 0) throw new UsageError('people unlink takes EMAIL and one of --slack, --mattermost or --rocketchat, optionally with the account id');
  const person = await personOf(dbh, email, 'people unlink');
  const removed = await unlinkChatIdentity(dbh.db, person.id, tools[0]!, id, who());
  if (values.json) console.log(JSON.stringify({ email: person.email, tool: tools[0], removed }));
  else console.log(removed ? `unlinked ${removed} ${tools[0]} account${removed === 1 ? '' : 's'} of ${person.email}` : `${person.email} had no such ${tools[0]} link`);
  return 0;
}

/** `blend people links [EMAIL] [--json]`. */
export async function peopleLinks(dbh: DbHandle, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
  if (positionals.length > 1) throw new UsageError('people links takes at most one EMAIL');
  const person = positionals.length ? await personOf(dbh, positionals[0], 'people links') : undefined;
  const links = await listChatIdentities(dbh.db, person?.id);
  if (values.json) {
    console.log(JSON.stringify(links.map((l) => ({ email: l.email, tool: l.tool, id: l.externalId, linked_by: l.linkedBy, linked_at: l.createdAt.toISOString() }))));
  } else if (links.length === 0) {
    console.log('no chat accounts are linked');
  } else {
    for (const l of links) console.log(`${l.email}\t${l.tool}\t${l.externalId}\t${l.createdAt.toISOString()}\t${l.linkedBy}`);
  }
  return 0;
}

/** `blend chat list [--limit N] [--json]`: the chat replies that arrived and what became of them. */
export async function chatList(dbh: DbHandle, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { limit: { type: 'string', default: '50' }, json: { type: 'boolean', default: false } } });
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be a whole number from 1 to 1000');
  const rows = await listChatInbound(dbh.db, limit);
  if (values.json) {
    console.log(
      JSON.stringify(
        rows.map((r) => ({ id: r.id, tool: r.tool, event: r.eventKey, author: r.authorRef, person_id: r.personId, post_id: r.postId, comment_id: r.commentId, state: r.state, reason: r.reason, received_at: r.receivedAt.toISOString() })),
      ),
    );
  } else {
    for (const r of rows) console.log(`${r.receivedAt.toISOString()}\t${r.tool}\t${r.authorRef}\t${r.state}${r.reason ? `: ${r.reason}` : ''}\t${r.postId ?? '-'}`);
  }
  return 0;
}
