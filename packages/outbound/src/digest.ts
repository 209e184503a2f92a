import { randomBytes, randomUUID } from 'node:crypto';
import { composeDigest, languageOf, newReplyAddress, nextDigestAt, postLink, preferencesLink, type ActivityItem, type OutboundMail, type ReplyTokenRecord } from '@blend/core';
import {
  dbNow,
  digestActivityBatch,
  lockDigestPerson,
  lockDueDigestPeople,
  saveReplyTokens,
  setDigestSchedules,
  writeOutboundMails,
  type Database,
  type DigestPerson,
  type Tx,
} from '@blend/db';
import { renderDigestMail, warmTemplates } from '@blend/mail';
import type { Logger, Metrics } from '@blend/runtime';
import { unsubscribeHeaders, unsubscribeUrl, type MailSite } from './thread-mail';

export interface DigestDeps {
  db: Database;
  log: Logger;
  site: MailSite;
  metrics?: Metrics;
  /** People handled per transaction. @defaultValue 50 */
  batchSize?: number;
  /** Transactions run side by side (each locks its own people). @defaultValue 2 */
  parallel?: number;
  /** Called with the outbox rows of each batch once it has committed (to queue their sends). */
  onCommitted?: (outboundIds: string[]) => Promise<void>;
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
        await digestBatch(tx, deps, due, now, false, res);
        return due.length === 0 ? null : res;
      });
      if (!r) return;
      // Sending starts while later batches are still being built.
      if (deps.onCommitted && r.outbound.length > 0) await deps.onCommitted(r.outbound);
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
    await digestBatch(tx, deps, [person], await dbNow(tx), true, res);
    return res;
  });
}

/**
 * Build the digests of locked people in the caller's transaction: their activity is read in
 * one statement, their schedules move on in another, and their reply tokens and outbox rows
 * are written a batch at a time.
 */
async function digestBatch(tx: Tx, deps: DigestDeps, people: DigestPerson[], now: Date, forced: boolean, res: DigestRunResult): Promise<void> {
  const schedules: { personId: string; lastDigestAt: Date; nextDigestAt: Date | null }[] = [];
  const due: { p: DigestPerson; frequency: 'hourly' | 'daily' | 'weekly'; since: Date }[] = [];
  for (const p of people) {
    const frequency = p.digestFrequency === 'off' ? 'daily' : p.digestFrequency;
    const prefs = { frequency: p.digestFrequency, time: p.digestTime, timezone: p.timezone, weekday: p.digestWeekday };
    const next = nextDigestAt(prefs, now);
    if (!p.nextDigestAt && !forced) {
      // New, or the schedule changed: the first digest covers activity from now on (or since
      // the last one, if there was one).
      schedules.push({ personId: p.id, lastDigestAt: p.lastDigestAt ?? now, nextDigestAt: next });
      res.scheduled++;
      continue;
    }
    schedules.push({ personId: p.id, lastDigestAt: now, nextDigestAt: forced ? (p.nextDigestAt ?? next) : next });
    due.push({ p, frequency, since: p.lastDigestAt ?? new Date(now.getTime() - PERIOD_MS[frequency]) });
  }
  const activity = await digestActivityBatch(tx, due.map(({ p, since }) => ({ personId: p.id, since })), now);
  await setDigestSchedules(tx, schedules);
  const built: DigestMail[] = [];
  for (const { p, frequency } of due) {
    const items = activity.get(p.id) ?? [];
    if (items.length === 0) res.empty++;
    else built.push(buildDigest(deps, p, frequency, items, now, forced));
  }
  // The batch's reply tokens, then its outbox rows: one statement each.
  await saveReplyTokens(tx, built.flatMap((d) => d.tokens));
  const inserted = new Set(await writeOutboundMails(tx, deps.site.addressing, built));
  for (const d of built) {
    // A row whose dedupe key was used before was not written: that digest went out already.
    if (!inserted.has(d.id)) continue;
    res.sent++;
    res.outbound.push(d.id);
    deps.metrics?.outboundQueued.inc({ kind: 'digest' });
  }
}

interface DigestMail {
  tokens: ReplyTokenRecord[];
  id: string;
  mail: OutboundMail & { threaded?: false };
}

/** One person's digest: composed, rendered, with a reply token per thread, ready to insert. */
function buildDigest(
  deps: DigestDeps,
  p: DigestPerson,
  frequency: 'hourly' | 'daily' | 'weekly',
  items: ActivityItem[],
  now: Date,
  forced: boolean,
): DigestMail {
  // Excerpts of 300 characters keep a full digest well under the size at which Gmail clips mail.
  const digest = composeDigest(items, { excerptChars: 300 });
  const outboundId = randomUUID();
  // One reply address per thread.
  const replies = digest.threads.map((t) =>
    newReplyAddress({ addressing: deps.site.addressing, secret: deps.site.secret, personId: p.id, postId: t.postId, outboundId, now, random: (n) => randomBytes(n) }),
  );
  const unsubscribe = unsubscribeUrl(deps.site, p.id, 'digest', now);
  const mail = renderDigestMail({
    recipientName: p.name || p.email,
    frequency,
    digest: { ...digest, threads: digest.threads.map((t, i) => ({ ...t, url: postLink(deps.site.publicUrl, t.postId), replyAddress: replies[i]!.address })) },
    preferencesUrl: preferencesLink(deps.site.publicUrl),
    unsubscribeUrl: unsubscribe,
    timezone: p.timezone,
    language: languageOf(p, deps.site.defaultLanguage),
  });
  return {
    tokens: replies.map((r) => r.record),
    id: outboundId,
    // A digest spans threads: its Message-ID is mapped to none of them (not `threaded`).
    mail: {
      kind: 'digest',
      to: p.email,
      personId: p.id,
      postId: digest.threads[0]!.postId,
      language: mail.language,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      headers: { Precedence: 'bulk', 'List-Id': `Blend digest <digest.${deps.site.addressing.domain}>`, ...unsubscribeHeaders(deps.site, unsubscribe, 'digest off') },
      // One digest per person and due window, whoever builds it.
      dedupeKey: `digest:${p.id}:${(forced ? now : (p.nextDigestAt ?? now)).toISOString()}`,
    },
  };
}
