import { DateTime, IANAZone } from 'luxon';
// 'off' | 'hourly' | 'daily' | 'weekly', shared with the mailed `digest` command.
import type { DigestFrequency } from './command';

/** A person's digest preferences, as stored. */
export interface DigestPrefs {
  frequency: DigestFrequency;
  /** Local wall-clock time, `HH:MM` (24 h). For hourly digests only the minutes count. */
  time: string;
  /** IANA zone name, e.g. `Europe/Berlin`. An unknown name is treated as UTC. */
  timezone: string;
  /** 1 = Monday .. 7 = Sunday (ISO 8601, as luxon numbers them); used for weekly digests. */
  weekday: number;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/**
 * A zone we can compute with. Zone names come from user preferences and tzdata drops or
 * renames zones over the years, so an unknown name must not stop the digest job.
 */
function zoneOf(name: string): IANAZone {
  // create() caches zones and their validity; isValidZone() builds a DateTimeFormat per call.
  const zone = IANAZone.create(name);
  return zone.isValid ? zone : IANAZone.create('UTC');
}

/** Parses `HH:MM` (00:00-23:59) into minutes since midnight. */
function parseClock(s: string, what: string): { hour: number; minute: number } {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(s.trim());
  if (!m) throw new RangeError(`${what}: expected 'HH:MM', got '${s}'`);
  return { hour: Number(m[1]), minute: Number(m[2]) };
}

/**
 * The wall clock of `at` in `zone`, carried in a UTC DateTime so that calendar arithmetic
 * on it (plus one day, one hour) ignores DST and never lands in a gap.
 */
function wallClock(at: Date, zone: IANAZone): DateTime {
  const local = DateTime.fromJSDate(at, { zone });
  return DateTime.fromObject(
    { year: local.year, month: local.month, day: local.day, hour: local.hour, minute: local.minute },
    { zone: 'utc' },
  );
}

/**
 * The instant at which the wall clock in `zone` shows `wall` (a UTC-carried wall time).
 *
 * We do not rely on luxon here: for an ambiguous local time its choice of offset depends on
 * the current date, and for a non-existent one it shifts forward by the gap length (02:30
 * becomes 03:30), while we want the first occurrence and the end of the gap respectively.
 * Assumes at most one offset change within a day either side, which holds for all tzdata.
 */
function resolveWall(wall: DateTime, zone: IANAZone): Date {
  const local = wall.toMillis();
  const offsets = new Set([zone.offset(local - DAY), zone.offset(local), zone.offset(local + DAY)]);
  let best: number | null = null;
  for (const o of offsets) {
    const utc = local - o * MINUTE;
    // Valid when the zone really has offset `o` at that instant.
    if (zone.offset(utc) === o && (best === null || utc < best)) best = utc;
  }
  if (best !== null) return new Date(best);

  // Spring-forward gap: the wall time is skipped. Run at the transition instant, the first
  // valid instant after the gap. Before the gap the offset is `before`, after it `after`;
  // the transition lies in (local - after, local - before]. Transitions fall on whole minutes.
  const before = zone.offset(local - DAY);
  const after = zone.offset(local + DAY);
  let lo = local - after * MINUTE; // still the old offset
  let hi = local - before * MINUTE; // already the new offset
  while (hi - lo > MINUTE) {
    const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
    if (zone.offset(mid) === after) hi = mid;
    else lo = mid;
  }
  return new Date(hi);
}

/**
 * The first instant strictly after `after` at which the digest is due, or null when digests
 * are off.
 *
 * - hourly: the next local `hh:MM`, MM being the minutes of `prefs.time`;
 * - daily: the next local `HH:MM`;
 * - weekly: the next local `HH:MM` on `prefs.weekday`.
 *
 * DST: a local time that does not exist (spring forward) runs at the first valid instant
 * after the gap; an ambiguous one (fall back) runs once, at its first occurrence.
 *
 * @throws RangeError when `prefs.time` is not `HH:MM` or `prefs.weekday` is not 1-7 for a
 * weekly digest (the API validates both; a bad row is a bug, not user input).
 */
export function nextDigestAt(prefs: DigestPrefs, after: Date): Date | null {
  if (prefs.frequency === 'off') return null;
  const zone = zoneOf(prefs.timezone);
  const { hour, minute } = parseClock(prefs.time, 'nextDigestAt');
  const now = wallClock(after, zone);
  const due = (wall: DateTime): Date | null => {
    const at = resolveWall(wall, zone);
    return at.getTime() > after.getTime() ? at : null;
  };

  switch (prefs.frequency) {
    case 'hourly': {
      // Up to 3 extra hours: a skipped or repeated hour can eat one candidate.
      let wall = now.set({ minute, second: 0, millisecond: 0 });
      for (let i = 0; i < 4; i++, wall = wall.plus({ hours: 1 })) {
        const at = due(wall);
        if (at) return at;
      }
      break;
    }
    case 'daily': {
      let wall = now.set({ hour, minute, second: 0, millisecond: 0 });
      for (let i = 0; i < 3; i++, wall = wall.plus({ days: 1 })) {
        const at = due(wall);
        if (at) return at;
      }
      break;
    }
    case 'weekly': {
      if (!Number.isInteger(prefs.weekday) || prefs.weekday < 1 || prefs.weekday > 7) {
        throw new RangeError(`nextDigestAt: weekday must be 1-7, got ${prefs.weekday}`);
      }
      const ahead = (prefs.weekday - now.weekday + 7) % 7;
      let wall = now.set({ hour, minute, second: 0, millisecond: 0 }).plus({ days: ahead });
      for (let i = 0; i < 2; i++, wall = wall.plus({ days: 7 })) {
        const at = due(wall);
        if (at) return at;
      }
      break;
    }
  }
  // Unreachable for real zones; kept so a broken tzdata cannot loop or return a past time.
  throw new Error(`nextDigestAt: no due time found for ${JSON.stringify(prefs)} after ${after.toISOString()}`);
}

/**
 * If `at` falls inside the quiet hours `q` (local `HH:MM` start/end in `q.timezone`,
 * start inclusive, end exclusive, may wrap midnight such as 22:00-07:00), the instant they
 * end: the next local `end` after `at`. Otherwise null. `start === end` means no quiet
 * hours. An unknown zone is treated as UTC; an `end` inside a DST gap ends at the gap's end.
 *
 * @throws RangeError when `start` or `end` is not `HH:MM`.
 */
export function quietHoursEnd(at: Date, q: { start: string; end: string; timezone: string }): Date | null {
  const start = parseClock(q.start, 'quietHoursEnd');
  const end = parseClock(q.end, 'quietHoursEnd');
  const s = start.hour * 60 + start.minute;
  const e = end.hour * 60 + end.minute;
  if (s === e) return null;

  const zone = zoneOf(q.timezone);
  const now = wallClock(at, zone);
  const m = now.hour * 60 + now.minute;
  const inside = s < e ? m >= s && m < e : m >= s || m < e;
  if (!inside) return null;

  let wall = now.set({ hour: end.hour, minute: end.minute, second: 0, millisecond: 0 });
  for (let i = 0; i < 3; i++, wall = wall.plus({ days: 1 })) {
    const t = resolveWall(wall, zone);
    if (t.getTime() > at.getTime()) return t;
  }
  throw new Error(`quietHoursEnd: no end found for ${JSON.stringify(q)} at ${at.toISOString()}`);
}
