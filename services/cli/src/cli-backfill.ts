import { parseArgs } from 'node:util';
import { explainImapFailure, type ImapFailure } from '@blend/core';
import { loadConfigSubset, OAUTH_KEYS, oauthSettings, parseAfterAction, type AfterAction } from '@blend/config';
import { addAuditEntry, getCheckpoint, getWatchedMailbox, listWatchedMailboxes, rewindCheckpoint, type DbHandle } from '@blend/db';
import { ImapSession, imapTargetOf, parseImapUrl, sealedLoginTarget, type ImapTarget } from '@blend/mail';
import { UsageError } from './cli-commands';

/**
 * The mailbox to backfill: KEY, or BLEND_IMAP_URL when no other mailbox is enabled, so a
 * single-mailbox setup needs no KEY (`blend mailbox backfill --since …`).
 */
async function backfillTarget(dbh: DbHandle, key: string | undefined): Promise<{ target: ImapTarget; after: AfterAction }> {
  const defaultAfter = () => parseAfterAction(loadConfigSubset(['BLEND_IMAP_AFTER']).BLEND_IMAP_AFTER);
  const fromEnv = () => ({ target: envImapTarget(), after: defaultAfter() });
  if (key === undefined) {
    const others = (await listWatchedMailboxes(dbh.db)).filter((r) => r.enabled);
    if (others.length > 0) {
      throw new UsageError(`several mailboxes are watched; name one: BLEND_IMAP_URL's key or ${others.map((r) => r.key).join(', ')}`);
    }
    return fromEnv();
  }
  const k = /^imaps?:\/\//i.test(key) ? parseImapUrl(key).key : key;
  const row = await getWatchedMailbox(dbh.db, k);
  if (!row) {
    const primary = fromEnv();
    if (primary.target.key !== k) throw new UsageError(`no watched mailbox ${k} (see \`blend mailbox list\`)`);
    return primary;
  }
  const cfg = loadConfigSubset(['BLEND_SECRET', 'BLEND_SECRET_PREVIOUS']);
  return { target: sealedLoginTarget(row, [cfg.BLEND_SECRET, cfg.BLEND_SECRET_PREVIOUS]), after: row.after ? parseAfterAction(row.after) : defaultAfter() };
}

/** BLEND_IMAP_URL with its login (BLEND_IMAP_AUTH and, for OAuth, the BLEND_OAUTH_* settings). */
export function envImapTarget(): ImapTarget {
  const cfg = loadConfigSubset(['BLEND_IMAP_URL', 'BLEND_IMAP_AUTH', ...OAUTH_KEYS]);
  return imapTargetOf(cfg.BLEND_IMAP_URL, cfg.BLEND_IMAP_AUTH, oauthSettings(cfg));
}

/**
 * `blend mailbox backfill [KEY] --since YYYY-MM-DD`: re-read a mailbox from a date. Moves
 * the checkpoint back to just before the first message since then; the poller fetches them
 * on its next sync, and the (mailbox, UIDVALIDITY, UID) key and Message-ID dedupe skip
 * what it already has.
 *
 * Mail that was processed and moved out (`--after move:FOLDER`) is moved back from FOLDER
 * first (UID MOVE keeps its INTERNALDATE and flags), so the poller sees it again; it ends
 * as `duplicate` unless Postgres lost it, and is moved out again. Mail processed with
 * `delete` is gone from the server: only Postgres has it.
 */
export async function mailboxBackfill(dbh: DbHandle, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { since: { type: 'string' } } });
  const since = values.since && /^\d{4}-\d{2}-\d{2}$/.test(values.since) ? new Date(`${values.since}T00:00:00Z`) : null;
  if (!since || Number.isNaN(since.getTime())) throw new UsageError('mailbox backfill needs --since YYYY-MM-DD');
  if (positionals.length > 1) throw new UsageError('mailbox backfill takes at most one mailbox KEY');
  const { target, after } = await backfillTarget(dbh, positionals[0]);
  const session = await ImapSession.create(target);
  session.onError(() => undefined); // a failure surfaces as the rejected command
  await session.connect().catch((err: Error & ImapFailure) => {
    throw new Error(`cannot log in to ${target.key}: ${explainImapFailure(err, target.oauth ? 'oauth2' : 'password')}`);
  });
  try {
    let movedBack = 0;
    if (after.kind === 'move' && (await session.hasFolder(after.folder))) {
      await session.openFolder(after.folder);
      const processed = await session.searchSince(since);
      if (processed.length > 0) {
        if (!(await session.move(processed, target.folder))) throw new Error(`could not move mail from ${after.folder} back to ${target.folder}`);
        movedBack = processed.length;
      }
    }
    const box = await session.openFolder(target.folder, { readOnly: true });
    const uids = await session.searchSince(since);
    const first = uids.length ? Math.min(...uids) : null;
    if (first === null) {
      console.log(`no messages since ${values.since}${after.kind === 'delete' ? ` (processed mail is deleted from ${target.folder}; Postgres has it)` : ''}`);
      return 0;
    }
    const cp = await getCheckpoint(dbh.db, target.key);
    await rewindCheckpoint(dbh.db, target.key, box.uidValidity, first - 1);
    await addAuditEntry(dbh.db, {
      action: 'backfill_mailbox',
      actor: `cli:${process.env.USER ?? 'unknown'}`,
      subject: target.key,
      detail: { since: values.since, fromUid: first, previousLastUid: cp?.lastUid ?? null, movedBack },
    });
    if (movedBack > 0) console.log(`moved ${movedBack} processed message(s) from ${after.kind === 'move' ? after.folder : ''} back to ${target.folder}`);
    console.log(`checkpoint moved to UID ${first - 1}; the poller re-reads ${uids.length} message(s) since ${values.since}`);
  } finally {
    await session.logout();
  }
  return 0;
}
