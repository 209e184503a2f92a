import { describe, expect, it } from 'vitest';
import { nextDigestAt, quietHoursEnd, type DigestPrefs } from './digest-schedule';

const prefs = (frequency: DigestPrefs['frequency'], time: string, timezone: string, weekday = 1): DigestPrefs => ({
  frequency,
  time,
  timezone,
  weekday,
});

describe('nextDigestAt', () => {
  it.each<[string, DigestPrefs, string, string | null]>([
    ['off', prefs('off', '08:00', 'Europe/Berlin'), '2026-01-01T00:00:00Z', null],

    // daily, plain winter and summer offsets
    ['Berlin winter', prefs('daily', '08:00', 'Europe/Berlin'), '2026-01-01T00:00:00Z', '2026-01-01T07:00:00.000Z'],
    ['Berlin summer', prefs('daily', '08:00', 'Europe/Berlin'), '2026-07-01T00:00:00Z', '2026-07-01T06:00:00.000Z'],
    ['strictly after: at the due instant -> next day', prefs('daily', '08:00', 'Europe/Berlin'), '2026-01-01T07:00:00Z', '2026-01-02T07:00:00.000Z'],
    ['one second before', prefs('daily', '08:00', 'Europe/Berlin'), '2026-01-01T06:59:59Z', '2026-01-01T07:00:00.000Z'],
    ['across spring forward', prefs('daily', '08:00', 'Europe/Berlin'), '2026-03-28T08:00:00Z', '2026-03-29T06:00:00.000Z'],

    // Europe/Berlin spring forward: 2026-03-29 02:00 CET -> 03:00 CEST, 02:30 does not exist
    ['Berlin gap -> end of gap (03:00 CEST)', prefs('daily', '02:30', 'Europe/Berlin'), '2026-03-28T12:00:00Z', '2026-03-29T01:00:00.000Z'],
    ['Berlin day before the gap', prefs('daily', '02:30', 'Europe/Berlin'), '2026-03-28T00:00:00Z', '2026-03-28T01:30:00.000Z'],
    ['Berlin day after the gap', prefs('daily', '02:30', 'Europe/Berlin'), '2026-03-29T01:00:00Z', '2026-03-30T00:30:00.000Z'],

    // Europe/Berlin fall back: 2026-10-25 03:00 CEST -> 02:00 CET, 02:30 happens twice
    ['Berlin ambiguous -> first occurrence (CEST)', prefs('daily', '02:30', 'Europe/Berlin'), '2026-10-24T12:00:00Z', '2026-10-25T00:30:00.000Z'],
    ['Berlin ambiguous runs once: not at the second 02:30', prefs('daily', '02:30', 'Europe/Berlin'), '2026-10-25T00:30:00Z', '2026-10-26T01:30:00.000Z'],
    ['Berlin between the two 02:30s', prefs('daily', '02:30', 'Europe/Berlin'), '2026-10-25T01:00:00Z', '2026-10-26T01:30:00.000Z'],

    // America/New_York: DST 2026-03-08 02:00 EST -> 03:00 EDT, ends 2026-11-01 02:00 EDT -> 01:00 EST
    ['New York EST', prefs('daily', '09:00', 'America/New_York'), '2026-03-07T12:00:00Z', '2026-03-07T14:00:00.000Z'],
    ['New York EDT', prefs('daily', '09:00', 'America/New_York'), '2026-03-07T15:00:00Z', '2026-03-08T13:00:00.000Z'],
    ['New York gap', prefs('daily', '02:30', 'America/New_York'), '2026-03-07T12:00:00Z', '2026-03-08T07:00:00.000Z'],
    ['New York ambiguous', prefs('daily', '01:30', 'America/New_York'), '2026-10-31T12:00:00Z', '2026-11-01T05:30:00.000Z'],
    ['New York local date behind UTC', prefs('daily', '23:00', 'America/New_York'), '2026-01-02T02:00:00Z', '2026-01-02T04:00:00.000Z'],

    // Asia/Kolkata: +05:30, no DST
    ['Kolkata', prefs('daily', '09:00', 'Asia/Kolkata'), '2026-01-01T00:00:00Z', '2026-01-01T03:30:00.000Z'],
    ['Kolkata after today', prefs('daily', '09:00', 'Asia/Kolkata'), '2026-01-01T03:30:00Z', '2026-01-02T03:30:00.000Z'],

    // hourly: only the minutes of `time` count, in local time
    ['hourly Berlin', prefs('hourly', '07:05', 'Europe/Berlin'), '2026-01-01T10:05:00Z', '2026-01-01T11:05:00.000Z'],
    ['hourly Berlin same hour', prefs('hourly', '07:05', 'Europe/Berlin'), '2026-01-01T10:04:59Z', '2026-01-01T10:05:00.000Z'],
    ['hourly Kolkata :15 local is :45 UTC', prefs('hourly', '00:15', 'Asia/Kolkata'), '2026-01-01T10:00:00Z', '2026-01-01T10:45:00.000Z'],
    ['hourly Kolkata next', prefs('hourly', '00:15', 'Asia/Kolkata'), '2026-01-01T10:45:00Z', '2026-01-01T11:45:00.000Z'],
    ['hourly into Berlin gap', prefs('hourly', '00:30', 'Europe/Berlin'), '2026-03-29T00:40:00Z', '2026-03-29T01:00:00.000Z'],
    ['hourly after Berlin gap', prefs('hourly', '00:30', 'Europe/Berlin'), '2026-03-29T01:00:00Z', '2026-03-29T01:30:00.000Z'],
    ['hourly Berlin repeated hour runs once', prefs('hourly', '00:30', 'Europe/Berlin'), '2026-10-25T00:30:00Z', '2026-10-25T02:30:00.000Z'],
    ['hourly across midnight', prefs('hourly', '00:00', 'UTC'), '2026-12-31T23:30:00Z', '2027-01-01T00:00:00.000Z'],

    // weekly (2026-01-05 is a Monday)
    ['weekly Monday from Sunday', prefs('weekly', '08:00', 'Europe/Berlin', 1), '2026-01-04T12:00:00Z', '2026-01-05T07:00:00.000Z'],
    ['weekly at the due instant -> next week', prefs('weekly', '08:00', 'Europe/Berlin', 1), '2026-01-05T07:00:00Z', '2026-01-12T07:00:00.000Z'],
    ['weekly later the same day -> next week', prefs('weekly', '08:00', 'Europe/Berlin', 1), '2026-01-05T09:00:00Z', '2026-01-12T07:00:00.000Z'],
    ['weekly Sunday wraps', prefs('weekly', '18:00', 'Europe/Berlin', 7), '2026-01-05T09:00:00Z', '2026-01-11T17:00:00.000Z'],
    ['weekly local Monday is UTC Sunday', prefs('weekly', '00:15', 'Asia/Kolkata', 1), '2026-01-04T12:00:00Z', '2026-01-04T18:45:00.000Z'],
    ['weekly across spring forward', prefs('weekly', '08:00', 'Europe/Berlin', 1), '2026-03-24T12:00:00Z', '2026-03-30T06:00:00.000Z'],
    ['weekly year wrap', prefs('weekly', '08:00', 'UTC', 5), '2026-12-31T12:00:00Z', '2027-01-01T08:00:00.000Z'],

    // an unknown zone is UTC
    ['bad timezone', prefs('daily', '08:00', 'Mars/Olympus_Mons'), '2026-01-01T09:00:00Z', '2026-01-02T08:00:00.000Z'],
    ['empty timezone', prefs('daily', '08:00', ''), '2026-01-01T07:00:00Z', '2026-01-01T08:00:00.000Z'],
  ])('%s', (_name, p, after, expected) => {
    expect(nextDigestAt(p, new Date(after))?.toISOString() ?? null).toBe(expected);
  });

  it.each([
    ['8:00'],
    ['24:00'],
    ['08:60'],
    ['noon'],
  ])('rejects time %s', (time) => {
    expect(() => nextDigestAt(prefs('daily', time, 'UTC'), new Date())).toThrow(RangeError);
  });

  it('rejects a weekday outside 1-7', () => {
    expect(() => nextDigestAt(prefs('weekly', '08:00', 'UTC', 0), new Date())).toThrow(RangeError);
  });
});

describe('quietHoursEnd', () => {
  const berlin = { start: '22:00', end: '07:00', timezone: 'Europe/Berlin' };
  it.each<[string, { start: string; end: string; timezone: string }, string, string | null]>([
    ['before start', berlin, '2026-01-01T20:59:00Z', null],
    ['at start', berlin, '2026-01-01T21:00:00Z', '2026-01-02T06:00:00.000Z'],
    ['before midnight', berlin, '2026-01-01T22:30:00Z', '2026-01-02T06:00:00.000Z'],
    ['after midnight', berlin, '2026-01-02T05:00:00Z', '2026-01-02T06:00:00.000Z'],
    ['one minute before end', berlin, '2026-01-02T05:59:00Z', '2026-01-02T06:00:00.000Z'],
    ['at end', berlin, '2026-01-02T06:00:00Z', null],
    ['midday', berlin, '2026-01-02T11:00:00Z', null],
    ['night of spring forward ends in CEST', berlin, '2026-03-28T22:00:00Z', '2026-03-29T05:00:00.000Z'],
    ['night of fall back ends in CET', berlin, '2026-10-24T21:00:00Z', '2026-10-25T06:00:00.000Z'],
    ['not wrapping, inside', { start: '12:00', end: '13:30', timezone: 'UTC' }, '2026-01-01T12:10:00Z', '2026-01-01T13:30:00.000Z'],
    ['not wrapping, outside', { start: '12:00', end: '13:30', timezone: 'UTC' }, '2026-01-01T13:31:00Z', null],
    ['Kolkata', { start: '22:00', end: '07:00', timezone: 'Asia/Kolkata' }, '2026-01-01T17:00:00Z', '2026-01-02T01:30:00.000Z'],
    ['start === end means none', { start: '22:00', end: '22:00', timezone: 'Europe/Berlin' }, '2026-01-01T21:30:00Z', null],
    ['bad timezone is UTC', { start: '22:00', end: '07:00', timezone: 'Nowhere/Land' }, '2026-01-01T23:00:00Z', '2026-01-02T07:00:00.000Z'],
  ])('%s', (_name, q, at, expected) => {
    expect(quietHoursEnd(new Date(at), q)?.toISOString() ?? null).toBe(expected);
  });
});
