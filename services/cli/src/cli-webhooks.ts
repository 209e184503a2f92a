import { parseArgs } from 'node:util';
import { isUuid } from '@blend/core';
import { addAuditEntry, listWebhooksWithDeliveries, replayEvents, type DbHandle } from '@blend/db';
import { UsageError } from './cli-commands';

/**
 * `blend webhooks replay WEBHOOK --since TIME`: deliver again, in order, every event the hook
 * takes since TIME (an ISO 8601 date or date-time, or a duration back from now such as `2h`,
 * `30m`, `1d`). The receiver sees the same event ids again and can drop what it had. Audited.
 */
export async function webhooksReplay(dbh: DbHandle, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { since: { type: 'string' }, json: { type: 'boolean', default: false } } });
  const id = positionals[0] ?? '';
  if (positionals.length !== 1 || !isUuid(id)) throw new UsageError('webhooks replay takes one WEBHOOK id (see `blend webhooks list`)');
  if (!values.since) throw new UsageError('webhooks replay needs --since TIME (e.g. 2026-12-01T08:00:00Z or 2h)');
  const since = parseSince(values.since, new Date());
  if (!since) throw new UsageError(`--since ${values.since}: not a date, a date-time or a duration such as 2h`);
  const n = await replayEvents(dbh.db, id, since);
  if (n === null) throw new UsageError(`no webhook ${id}`);
  await addAuditEntry(dbh.db, { action: 'webhook_replay', actor: `cli:${process.env.USER ?? 'unknown'}`, subject: id, detail: { since: since.toISOString(), deliveries: n } });
  console.log(values.json ? JSON.stringify({ webhook: id, since: since.toISOString(), deliveries: n }) : `queued ${n} deliveries to ${id} of the events since ${since.toISOString()}, in order`);
  return 0;
}

/** `blend webhooks list`: every hook with its format, filter and the state of its latest deliveries. */
export async function webhooksList(dbh: DbHandle, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
  const hooks = await listWebhooksWithDeliveries(dbh.db, { deliveriesPerHook: 20 });
  if (values.json) console.log(JSON.stringify(hooks.map(({ deliveries, ...h }) => ({ ...h, pending: deliveries.filter((d) => d.state === 'pending').length, failed: deliveries.filter((d) => d.state === 'failed').length }))));
  else {
    for (const h of hooks) {
      const pending = h.deliveries.filter((d) => d.state === 'pending').length;
      const failed = h.deliveries.filter((d) => d.state === 'failed').length;
      console.log(`${h.id}  ${h.format}  ${h.url}  ${h.events.join(',')}  ${JSON.stringify(h.filter)}  ${h.active ? 'active' : 'inactive'}  pending ${pending}, failed ${failed} (of the latest 20)`);
    }
    if (hooks.length === 0) console.log('no webhooks');
  }
  return 0;
}

/** A time from `--since`: an ISO date or date-time, or `N` + `m`/`h`/`d` back from `now`. */
export function parseSince(s: string, now: Date): Date | null {
  const rel = /^(\d{1,6})([mhd])$/.exec(s.trim());
  if (rel) return new Date(now.getTime() - Number(rel[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 'm' | 'h' | 'd']);
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(s.trim())) return null;
  const t = Date.parse(s.trim());
  return Number.isNaN(t) ? null : new Date(t);
}
