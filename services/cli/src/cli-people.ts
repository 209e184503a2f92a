import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { erasePerson, findPersonByEmail, setOptIn, upsertPerson, type DbHandle } from '@blend/db';
import { canonicalAddress } from '@blend/mail';
import { UsageError } from './cli-commands';

/**
 * `blend people import FILE.csv`: bulk add people with their opt-in state. Columns (header
 * row required): `email` (required), `name`, `opt_in` (`yes`/`no`/`out`, default `no`),
 * `admin` (`yes`/`no`). Every row is checked before anything is written.
 */
export async function peopleImport(dbh: DbHandle, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
  if (positionals.length !== 1) throw new UsageError('people import takes one CSV file');
  const records = parse(readFileSync(positionals[0]!, 'utf8'), { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), skip_empty_lines: true, trim: true, bom: true }) as Record<string, string>[];
  const problems: string[] = [];
  const rows = records.map((r, i) => {
    const email = canonicalAddress(r.email ?? '');
    const optIn = (r.opt_in ?? 'no').toLowerCase();
    if (!email) problems.push(`line ${i + 2}: not an email address: ${JSON.stringify(r.email ?? '')}`);
    if (!['yes', 'no', 'out', 'true', 'false', ''].includes(optIn)) problems.push(`line ${i + 2}: opt_in must be yes, no or out`);
    return { email: email ?? '', name: r.name, optIn, admin: ['yes', 'true'].includes((r.admin ?? '').toLowerCase()) };
  });
  if (problems.length > 0) throw new UsageError(`nothing imported:\n  ${problems.join('\n  ')}`);
  let created = 0;
  await dbh.db.transaction(async (tx) => {
    for (const r of rows) {
      const result = await upsertPerson(tx, {
        email: r.email,
        ...(r.name ? { name: r.name } : {}),
        optIn: r.optIn === 'yes' || r.optIn === 'true',
        ...(r.admin ? { isAdmin: true } : {}),
        via: 'import',
      });
      if (result.created) created++;
      if (r.optIn === 'out' && result.person.optIn !== 'opted_out') await setOptIn(tx, result.person.id, 'opted_out', 'import');
    }
  });
  const summary = { rows: rows.length, created, updated: rows.length - created };
  console.log(values.json ? JSON.stringify(summary) : `imported ${summary.rows} people (${created} new, ${summary.updated} updated)`);
  return 0;
}

/** `blend people erase EMAIL --yes`: erase a person's mirrored content and raw mail (audited). */
export async function peopleErase(dbh: DbHandle, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { yes: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } } });
  const email = canonicalAddress(positionals[0] ?? '');
  if (positionals.length !== 1 || !email) throw new UsageError('people erase takes one EMAIL');
  if (!values.yes) throw new UsageError(`this erases everything ${email} wrote through Blend; add --yes to confirm`);
  const person = await findPersonByEmail(dbh.db, email);
  if (!person) throw new UsageError(`no person with address ${email}`);
  const counts = await dbh.db.transaction((tx) => erasePerson(tx, person.id, `cli:${process.env.USER ?? 'unknown'}`));
  console.log(values.json ? JSON.stringify({ id: person.id, ...counts }) : `erased ${email}: ${counts.posts} posts, ${counts.comments} comments, ${counts.inbound} inbound mails, ${counts.outbound} outbound mails (audited)`);
  return 0;
}
