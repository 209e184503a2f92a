import type { Cell } from './insights-cells';
import type { InsightsReport, Participation, Reach } from './insights';

/** The columns of the CSV export: one row per number, long format, ready for a spreadsheet's pivot table. */
export const INSIGHTS_CSV_HEADER = ['scope', 'week', 'week_start', 'group', 'metric', 'value', 'suppressed'] as const;

type Row = [scope: string, week: string, weekStart: string, group: string, metric: string, value: string, suppressed: string];

const num = (x: number | null) => (x === null ? '' : String(x));

function participationRows(p: Participation, head: [string, string, string, string]): Row[] {
  const cells: [string, Cell][] = [
    ['active_email_only', p.activePeople.emailOnly],
    ['active_web_only', p.activePeople.webOnly],
    ['active_both', p.activePeople.both],
    ['active_total', p.activePeople.total],
    ['posts_email', p.posts.email],
    ['posts_web', p.posts.web],
    ['posts_total', p.posts.total],
    ['comments_email', p.comments.email],
    ['comments_web', p.comments.web],
    ['comments_total', p.comments.total],
    ['new_voices', p.newVoices.total],
    ['new_voices_later_web', p.newVoices.laterWeb],
    ['new_voices_email_only_since', p.newVoices.emailOnlySince],
    ['contributors', p.concentration.contributors],
  ];
  const rows: Row[] = cells.map(([m, c]) => [...head, m, num(c.value), c.suppressed ? 'true' : 'false']);
  // A share is withheld when a number it is made of is, or (top 15 %) when either side has too few people.
  const derived: [string, number | null, boolean][] = [
    ['posts_email_share', p.posts.emailShare, p.posts.email.suppressed || p.posts.total.suppressed],
    ['comments_email_share', p.comments.emailShare, p.comments.email.suppressed || p.comments.total.suppressed],
    ['top15_share', p.concentration.top15Share, p.concentration.top15Share === null && p.concentration.contributors.value !== 0],
  ];
  for (const [m, v, hidden] of derived) rows.push([...head, m, num(v), String(hidden)]);
  for (const pt of p.concentration.lorenz ?? []) rows.push([...head, `lorenz_${pt.people}`, String(pt.content), 'false']);
  return rows;
}

function reachRows(r: Reach, head: [string, string, string, string]): Row[] {
  const cells: [string, Cell][] = [
    ['digest_sent', r.digest.sent],
    ['digest_replies', r.digest.replies],
    ['notification_sent', r.notification.sent],
    ['notification_replies', r.notification.replies],
  ];
  return cells.map(([m, c]) => [...head, m, num(c.value), c.suppressed ? 'true' : 'false']);
}

/** RFC 4180 field: quoted when it holds a comma, quote or line break; a leading = + - @ is defused for spreadsheets. */
function field(s: string): string {
  const safe = /^[=+\-@\t\r]/.test(s) && !/^-?\d/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The report as CSV (CRLF line ends, RFC 4180). */
export function insightsCsv(report: InsightsReport): string {
  const rows: Row[] = [];
  for (const w of report.weeks) rows.push(...participationRows(w, ['week', w.week, w.start, '']), ...reachRows(w.reach, ['week', w.week, w.start, '']));
  for (const g of report.groups) rows.push(...participationRows(g, ['group', '', '', g.slug]));
  rows.push(...participationRows(report.total, ['total', '', '', '']), ...reachRows(report.total.reach, ['total', '', '', '']));
  return [INSIGHTS_CSV_HEADER as readonly string[], ...rows].map((r) => r.map(field).join(',')).join('\r\n') + '\r\n';
}
