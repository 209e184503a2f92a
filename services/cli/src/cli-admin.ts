import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { CONVERSION_KEYS, conversionOptions, loadConfig, loadConfigSubset, maskConfig } from '@blend/config';
import { isUuid, renderMailContent } from '@blend/core';
import { addAuditEntry, getCommentRow, getInbound, getPostRow, purgeExpired, replayInbound, rewritePublishedText, type DbHandle } from '@blend/db';
import { parseMail } from '@blend/mail';
import { createProducerRedis, createQueues, requeueIngest } from '@blend/queue';
import { UsageError } from './cli-commands';

async function audit(dbh: DbHandle, action: string, subject: string, detail: Record<string, unknown>) {
  await addAuditEntry(dbh.db, { action, actor: `cli:${process.env.USER ?? 'unknown'}`, subject, detail });
}

/** `blend inbound replay ID...`: put failed, withheld, held or rejected mail back in the pipeline. */
export async function inboundReplay(dbh: DbHandle, args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true });
  if (positionals.length === 0 || !positionals.every(isUuid)) throw new UsageError('inbound replay takes one or more inbound ids');
  const cfg = loadConfigSubset(['REDIS_URL', 'BLEND_QUEUE_PREFIX']);
  const redis = createProducerRedis(cfg.REDIS_URL);
  const queues = createQueues(redis, cfg.BLEND_QUEUE_PREFIX);
  let failures = 0;
  try {
    for (const id of positionals) {
      const was = await dbh.db.transaction((tx) => replayInbound(tx, id, `cli:${process.env.USER ?? 'unknown'}`));
      if (!was) {
        console.error(`${id}: not replayable (unknown, still pending, already published, a duplicate, or its raw mail was purged)`);
        failures++;
        continue;
      }
      await requeueIngest(queues.ingest, id);
      console.log(`${id}: ${was} -> received, queued`);
    }
  } finally {
    await queues.close();
    redis.disconnect();
  }
  return failures ? 1 : 0;
}

/**
 * `blend inbound reprocess ID [--dry-run]`: convert stored mail again with today's rules.
 * With --dry-run, show the difference to what was published and change nothing.
 */
export async function inboundReprocess(dbh: DbHandle, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { 'dry-run': { type: 'boolean', default: false }, json: { type: 'boolean', default: false } } });
  const id = positionals[0];
  if (positionals.length !== 1 || !id || !isUuid(id)) throw new UsageError('inbound reprocess takes one inbound id');
  const row = await getInbound(dbh.db, id);
  if (!row) throw new UsageError(`no inbound mail ${id}`);
  if (!row.raw) throw new UsageError(`${id}: its raw mail was purged by retention`);
  const now = renderMailContent((await parseMail(row.raw)).mail, conversionOptions(loadConfigSubset([...CONVERSION_KEYS])));
  const target = row.commentId
    ? await getCommentRow(dbh.db, row.commentId)
    : row.postId
      ? await getPostRow(dbh.db, row.postId)
      : undefined;
  if (!target) throw new UsageError(`${id} was not published (state ${row.state}); use \`blend inbound replay\``);
  const stored = { title: 'title' in target ? target.title : null, body_text: target.bodyText };
  const fresh = { title: 'title' in target ? now.title : null, body_text: now.bodyText };
  const changed = stored.title !== fresh.title || stored.body_text !== fresh.body_text;
  if (values.json) console.log(JSON.stringify({ id, changed, stored, reprocessed: fresh, applied: changed && !values['dry-run'] }));
  else {
    console.log(changed ? diffLines(stored, fresh) : `${id}: no difference`);
  }
  if (!changed || values['dry-run']) return 0;
  await dbh.db.transaction((tx) => rewritePublishedText(tx, row, now));
  await audit(dbh, 'reprocess_inbound', id, { before: stored, after: fresh });
  if (!values.json) console.log(`${id}: updated`);
  return 0;
}

/** A small line diff of title and body for the terminal. */
function diffLines(a: { title: string | null; body_text: string }, b: { title: string | null; body_text: string }): string {
  const out: string[] = [];
  if (a.title !== b.title) out.push(`- title: ${a.title}`, `+ title: ${b.title}`);
  const al = a.body_text.split('\n');
  const bl = b.body_text.split('\n');
  const bs = new Set(bl);
  const as = new Set(al);
  for (const l of al) if (!bs.has(l)) out.push(`- ${l}`);
  for (const l of bl) if (!as.has(l)) out.push(`+ ${l}`);
  return out.join('\n');
}

/** `blend config show`: the effective configuration with secrets masked. */
export async function configShow(): Promise<number> {
  console.log(JSON.stringify(maskConfig(loadConfig()), null, 2));
  return 0;
}

/**
 * `blend keys rotate`: print a new BLEND_SECRET. Reply tokens are stored as keyed hashes and
 * links are signed with the key, so the old key stays valid as BLEND_SECRET_PREVIOUS until
 * the last token it signed has expired. Mailbox passwords sealed with the old key open with
 * BLEND_SECRET_PREVIOUS until `blend mailbox rekey` re-encrypts them.
 */
export async function keysRotate(): Promise<number> {
  const fresh = randomBytes(32).toString('hex');
  console.log(
    `New key: ${fresh}\n\nTo rotate:\n  1. set BLEND_SECRET_PREVIOUS to the current BLEND_SECRET\n  2. set BLEND_SECRET to the new key\n  3. restart api, worker and poller\n` +
      '  4. run `blend mailbox rekey` (with both keys set) to re-encrypt the passwords of mailboxes added with `blend mailbox add` and the webhooks\' signing secrets\n' +
      '  5. after BLEND_REPLY_TOKEN_TTL_DAYS (30) days, remove BLEND_SECRET_PREVIOUS',
  );
  return 0;
}

/** `blend retention run`: purge what the retention settings say has expired. */
export async function retentionRun(dbh: DbHandle): Promise<number> {
  const cfg = loadConfigSubset(['BLEND_RAW_RETENTION_DAYS', 'BLEND_WITHHELD_RETENTION_DAYS', 'BLEND_OUTBOUND_RETENTION_DAYS', 'BLEND_EVENT_RETENTION_DAYS']);
  const counts = await dbh.db.transaction((tx) =>
    purgeExpired(tx, {
      rawDays: cfg.BLEND_RAW_RETENTION_DAYS,
      withheldDays: cfg.BLEND_WITHHELD_RETENTION_DAYS,
      outboundDays: cfg.BLEND_OUTBOUND_RETENTION_DAYS,
      eventDays: cfg.BLEND_EVENT_RETENTION_DAYS,
    }),
  );
  console.log(`purged raw mail of ${counts.raw} processed and ${counts.withheld} withheld messages, deleted ${counts.outbound} outbound rows and ${counts.events} events`);
  return 0;
}
