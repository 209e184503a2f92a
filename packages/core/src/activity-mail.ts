import { quietHoursEnd } from './digest-schedule';

/**
 * Who hears about a new post or comment by mail, and when (issue "Back to email").
 * Pure: the caller loads the people involved, this decides, the caller stores the plan as
 * `notifications` rows in the transaction of the event itself.
 */

/** What a person's mail settings say, as far as activity mail is concerned. */
export interface Recipient {
  id: string;
  optIn: 'pending' | 'opted_in' | 'opted_out';
  /** Mail paused after repeated hard bounces. */
  paused: boolean;
  notifyMentions: boolean;
  notifyReplies: boolean;
  timezone: string;
  quietStart: string;
  quietEnd: string;
}

export interface ActivityFacts {
  event: { kind: 'post' | 'comment'; authorId: string; source: 'email' | 'esn'; at: Date };
  /** The thread the event belongs to. */
  post: { authorId: string; source: 'email' | 'esn' };
  /** Known people of the thread's mail conversation (authors, To and Cc). */
  emailParticipants: Recipient[];
  /** People mentioned in the new text. */
  mentioned: Recipient[];
  /** The thread's author, for "replies to my posts". */
  postAuthor: Recipient | null;
  /** People who asked for no more mail about this thread. */
  muted: ReadonlySet<string>;
  /** People who already got the event as mail (on From/To/Cc of the mail that made it). */
  alreadyHave: ReadonlySet<string>;
  /** Notifications for the same thread within this window become one mail. @defaultValue 2 minutes */
  coalesceMs: number;
}

/** Default of BLEND_NOTIFY_COALESCE_MS: notifications about one thread within 2 minutes become one mail. */
export const DEFAULT_NOTIFY_COALESCE_MS = 120_000;

/** Default of BLEND_CORRECTION_WINDOW_MS: edits of a mirrored comment within 5 minutes cause one correction. */
export const DEFAULT_CORRECTION_WINDOW_MS = 300_000;

export type ActivityMailKind = 'mirror' | 'mention' | 'reply';

export interface PlannedMail {
  personId: string;
  kind: ActivityMailKind;
  dueAt: Date;
}

/**
 * The mails an event causes:
 * - `mirror`: a comment on a thread that started in email goes to the conversation's
 *   opted-in participants at once, as a reply in that conversation: every ESN comment, and
 *   an emailed one (say, a reply to a mirror's reply address) for those not on its From/To/Cc.
 *   Never to its author.
 * - `mention` / `reply`: immediate notifications for people who want them, after the
 *   coalescing window and outside their quiet hours. A person gets at most one mail per
 *   event; whoever got the mirror or the mail itself gets no notification of it.
 * Nobody opted out, paused after bounces or muted on the thread is mailed.
 */
export function planActivityMail(f: ActivityFacts): PlannedMail[] {
  const out: PlannedMail[] = [];
  const planned = new Set<string>([f.event.authorId]);
  const reachable = (r: Recipient) => !planned.has(r.id) && r.optIn !== 'opted_out' && !r.paused && !f.muted.has(r.id);

  if (f.event.kind === 'comment' && f.post.source === 'email') {
    for (const r of f.emailParticipants) {
      if (!reachable(r) || r.optIn !== 'opted_in' || f.alreadyHave.has(r.id)) continue;
      planned.add(r.id);
      out.push({ personId: r.id, kind: 'mirror', dueAt: f.event.at });
    }
  }
  const notify = (r: Recipient, kind: 'mention' | 'reply') => {
    if (!reachable(r) || f.alreadyHave.has(r.id)) return;
    planned.add(r.id);
    out.push({ personId: r.id, kind, dueAt: notificationDue(f.event.at, f.coalesceMs, r) });
  };
  for (const r of f.mentioned) if (r.notifyMentions) notify(r, 'mention');
  if (f.event.kind === 'comment' && f.postAuthor?.notifyReplies) notify(f.postAuthor, 'reply');
  return out;
}

/** When a notification about something at `at` goes out: after the window, not in quiet hours. */
export function notificationDue(at: Date, coalesceMs: number, r: Pick<Recipient, 'timezone' | 'quietStart' | 'quietEnd'>): Date {
  const due = new Date(at.getTime() + coalesceMs);
  return quietHoursEnd(due, { start: r.quietStart, end: r.quietEnd, timezone: r.timezone }) ?? due;
}
