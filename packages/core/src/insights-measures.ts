/** Measures of the participation insights that need no table: weeks, concentration, the range asked for. */

const DAY_MS = 86_400_000;

/** An ISO 8601 week (Monday to Sunday, UTC). */
export interface IsoWeek {
  /** `2026-W49` */
  key: string;
  /** Its Monday, `YYYY-MM-DD`. */
  start: string;
}

/** The ISO week (UTC) an instant falls in. */
export function isoWeek(at: Date): IsoWeek {
  const day = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  const monday = day - ((new Date(day).getUTCDay() + 6) % 7) * DAY_MS;
  // The ISO year is the year of the week's Thursday; week 1 holds 4 January.
  const year = new Date(monday + 3 * DAY_MS).getUTCFullYear();
  const jan4 = Date.UTC(year, 0, 4);
  const week1 = jan4 - ((new Date(jan4).getUTCDay() + 6) % 7) * DAY_MS;
  const n = Math.round((monday - week1) / (7 * DAY_MS)) + 1;
  return { key: `${year}-W${String(n).padStart(2, '0')}`, start: new Date(monday).toISOString().slice(0, 10) };
}

/** Every ISO week touched by [from, to), in order. */
export function weeksBetween(from: Date, to: Date): IsoWeek[] {
  const out: IsoWeek[] = [];
  for (let t = Date.parse(`${isoWeek(from).start}T00:00:00Z`); t < to.getTime(); t += 7 * DAY_MS) out.push(isoWeek(new Date(t)));
  return out;
}

/** A point of a Lorenz curve: the least active `people` share of contributors wrote `content` share of the content. */
export interface LorenzPoint {
  people: number;
  content: number;
}

/** Concentration of content among contributors; null measures were withheld (too few people). */
export interface Concentration {
  /** Share of the content written by the most active 15 % of contributors (rounded up to whole people). */
  top15Share: number | null;
  /** Lorenz curve, each step covering at least `minPeople` people; null with fewer than two steps. */
  lorenz: LorenzPoint[] | null;
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/**
 * Concentration of contributions per person (the counts, in any order). The top group and the
 * rest must each hold at least `minPeople` people, and every Lorenz step too, so that no share
 * describes fewer people than a shown cell may (docs/SECURITY.md B35).
 */
export function concentration(counts: readonly number[], minPeople: number): Concentration {
  const n = counts.length;
  const total = counts.reduce((a, b) => a + b, 0);
  if (n === 0 || total === 0) return { top15Share: null, lorenz: null };
  const asc = [...counts].sort((a, b) => a - b);
  const top = Math.ceil(0.15 * n);
  const topSum = asc.slice(n - top).reduce((a, b) => a + b, 0);
  const top15Share = top >= minPeople && n - top >= minPeople ? round4(topSum / total) : null;
  const steps = Math.min(10, Math.floor(n / minPeople));
  let lorenz: LorenzPoint[] | null = null;
  if (steps >= 2) {
    lorenz = [];
    for (let i = 0; i <= steps; i++) {
      const m = Math.floor((i * n) / steps);
      lorenz.push({ people: round4(m / n), content: round4(asc.slice(0, m).reduce((a, b) => a + b, 0) / total) });
    }
  }
  return { top15Share, lorenz };
}

/** The longest range one report covers. */
export const MAX_RANGE_DAYS = 366;
/** The range when none is asked for: the last 12 weeks. */
export const DEFAULT_RANGE_DAYS = 84;

/** [from, to) in UTC days, or why the asked range is not one. */
export type InsightsRange = { ok: true; from: Date; to: Date } | { ok: false; message: string };

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function day(s: string): Date | null {
  if (!DATE.test(s)) return null;
  const d = new Date(`${s}T00:00:00Z`);
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== s ? null : d;
}

/**
 * The range of `from` and `to` (both `YYYY-MM-DD`, both days included), defaulting to the 12
 * weeks up to today. @returns [from, to) with `to` the day after the last day
 */
export function insightsRange(q: { from?: string | undefined; to?: string | undefined }, now: Date): InsightsRange {
  const today = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const last = q.to === undefined ? today : day(q.to);
  if (!last) return { ok: false, message: `to must be a date as YYYY-MM-DD, got "${q.to}"` };
  const to = new Date(last.getTime() + DAY_MS);
  const from = q.from === undefined ? new Date(to.getTime() - DEFAULT_RANGE_DAYS * DAY_MS) : day(q.from);
  if (!from) return { ok: false, message: `from must be a date as YYYY-MM-DD, got "${q.from}"` };
  if (from >= to) return { ok: false, message: 'from must be on or before to' };
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) return { ok: false, message: `the range may span at most ${MAX_RANGE_DAYS} days` };
  return { ok: true, from, to };
}
