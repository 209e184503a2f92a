import { randomBytes, randomUUID } from 'node:crypto';
import {
  composeDigest,
  DEFAULT_REPLY_TOKEN_MAX_USES,
  DEFAULT_REPLY_TOKEN_TTL_DAYS,
  generateReplyToken,
  hashReplyToken,
  nextDigestAt,
} from '@blend/core';
import {
  dbNow,
  digestActivity,
  lockDigestPerson,
  lockDueDigestPeople,
  schema,
  setDigestSchedule,
  type Database,
  type DigestPerson,
  type Tx,
} from '@blend/db';
import { renderDigestMail, warmTemplates } from '@blend/mail';
import type { Logger, Metrics } from '@blend/config';
import { postUrl, preferencesUrl, unsubscribeHeaders, unsubscribeUrl, writeThreadMail, type MailSite } from '../thread-mail';

export interface DigestDeps {
  db: Database;
  log: Logger;
  site: MailSite;
  metrics?: Metrics;
  /** People handled per transaction. @defaultValue 50 */
  batchSize?: number;
  /** Transactions run side by side (each locks its own people). @defaultValue 2 */
  parallel?: number;
}

export interface DigestRunResult {
  /** Digests written to the outbox. */
  sent: number;
  /** People due with nothing new: nothing sent. */
  empty: number;
  /** People given a first schedule. */
  scheduled: number;
  /** Outbox rows to queue for sending. */
  outbound: string[];
}

const PERIOD_MS = { hourly: 3_600_000, daily: 86_400_000, weekly: 7 * 86_400_000 } as const;

/**
 * Build the digests that are due now. Each person is locked while their digest is built and
 * their schedule moves on in the same transaction as the outbox row, so a digest goes out
 * once per due window however many workers run this at once.
 */
export async function runDueDigests(deps: DigestDeps): Promise<DigestRunResult> {
  await warmTemplates();
  const stop = deps.metrics?.digestRun.startTimer();
  const total: DigestRunResult = { sent: 0, empty: 0, scheduled: 0, outbound: [] };
  const lane = async () => {
    for (;;) {
      const r = await deps.db.transaction(async (tx) => {
        const now = await dbNow(tx);
        const due = await lockDueDigestPeople(tx, now, deps.batchSize ?? 50);
        const res: DigestRunResult = { sent: 0, empty: 0, scheduled: 0, outbound: [] };
        for (const p of due) await digestFor(tx, deps, p, now, false, res);
        return due.length === 0 ? null : res;
      });
      if (!r) return;
      total.sent += r.sent;
      total.empty += r.empty;
      total.scheduled += r.scheduled;
      total.outbound.push(...r.outbound);
    }
  };
  await Promise.all(Array.from({ length: deps.parallel ?? 2 }, lane));
  stop?.();
  if (total.sent + total.empty > 0) deps.log.info({ sent: total.sent, empty: total.empty, scheduled: total.scheduled }, 'digest run');
  return total;
}

/**
 * One person's digest now, whatever the schedule (`blend digest --now --person`): the
 * activity since their last digest; nothing is sent when there is none.
 * @returns undefined when there is no such person.
 */
export async function runDigestFor(deps: DigestDeps, email: string): Promise<DigestRunResult | undefined> {
  await warmTemplates();
  return deps.db.transaction(async (tx) => {
    const person = await lockDigestPerson(tx, email);
    if (!person) return undefined;
    const res: DigestRunResult = { sent: 0, empty: 0, scheduled: 0, outbound: [] };
    await digestFor(tx, deps, person, await dbNow(tx), true, res);
    return res;
  });
}

async function digestFor(tx: Tx, deps: DigestDeps, p: DigestPerson, now: Date, forced: boolean, res: DigestRunResult): Promise<void> {
  const frequency = p.digestFrequency === 'off' ? 'daily' : p.digestFrequency;
  const prefs = { frequency: p.digestFrequency, time: p.digestTime, timezone: p.timezone, weekday: p.digestWeekday };
  const next = nextDigestAt(prefs, now);
  if (!p.nextDigestAt && !forced) {
    // New, or the schedule changed: the first digest covers activity from now on (or since
    // the last one, if there was one).
    await setDigestSchedule(tx, p.id, { lastDigestAt: p.lastDigestAt ?? now, nextDigestAt: next });
    res.scheduled++;
    return;
  }
  const since = p.lastDigestAt ?? new Date(now.getTime() - PERIOD_MS[frequency]);
  const items = await digestActivity(tx, p.id, since, now);
  await setDigestSchedule(tx, p.id, { lastDigestAt: now, nextDigestAt: forced ? (p.nextDigestAt ?? next) : next });
  if (items.length === 0) {
    res.empty++;
    return;
  }
  // Excerpts of 300 characters keep a full digest well under the size at which Gmail clips mail.
  const digest = composeDigest(items, { excerptChars: 300 });
  const outboundId = randomUUID();
  const expiresAt = new Date(now.getTime() + DEFAULT_REPLY_TOKEN_TTL_DAYS * 86_400_000);
  const tokens = digest.threads.map(() => generateReplyToken((n) => randomBytes(n)));
  // One reply address per thread, all stored in one statement.
  await tx.insert(schema.replyTokens).values(
    digest.threads.map((t, i) => ({ tokenHash: hashReplyToken(tokens[i]!, deps.site.secret), personId: p.id, postId: t.postId, outboundId, expiresAt, maxUses: DEFAULT_REPLY_TOKEN_MAX_USES })),
  );
  const unsubscribe = unsubscribeUrl(deps.site, p.id, 'digest', now);
  const mail = renderDigestMail({
    recipientName: p.name || p.email,
    frequency,
    digest: { ...digest, threads: digest.threads.map((t, i) => ({ ...t, url: postUrl(deps.site, t.postId), replyAddress: `reply+${tokens[i]}@${deps.site.domain}` })) },
    preferencesUrl: preferencesUrl(deps.site),
    unsubscribeUrl: unsubscribe,
    timezone: p.timezone,
  });
  const id = await writeThreadMail(
    tx,
    deps.site,
    {
      kind: 'digest',
      to: p.email,
      personId: p.id,
      postId: digest.threads[0]!.postId,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      headers: { Precedence: 'bulk', 'List-Id': `Blend digest <digest.${deps.site.domain}>`, ...unsubscribeHeaders(deps.site, unsubscribe, 'digest off') },
      // One digest per person and due window, whoever builds it.
      recordRef: false,
      dedupeKey: `digest:${p.id}:${(forced ? now : (p.nextDigestAt ?? now)).toISOString()}`,
    },
    outboundId,
  );
  if (id) {
    res.sent++;
    res.outbound.push(id);
    deps.metrics?.outboundQueued.inc({ kind: 'digest' });
  }
}
