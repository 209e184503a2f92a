import type { Language } from './languages';

/**
 * The Intl locale each language formats dates in. English is British English: day before
 * month and a 24-hour clock, the shape Blend's English mail and pages have always used.
 */
const LOCALE: Readonly<Record<Language, string>> = { en: 'en-GB', de: 'de-DE', fr: 'fr-FR', es: 'es-ES', ja: 'ja-JP' };

/** `short`: "Mon 5 Jan, 14:30" (mail lists); `medium`: "5 Jan 2026, 14:30" (a full timestamp). */
export type DateTimeStyle = 'short' | 'medium';

const OPTIONS: Readonly<Record<DateTimeStyle, Intl.DateTimeFormatOptions>> = {
  short: { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
  medium: { dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' },
};

// Building a DateTimeFormat costs far more than using one, and a digest formats many times.
const dateFormats = new Map<string, (at: Date) => string>();

function dateFormat(lang: Language, timeZone: string, style: DateTimeStyle): (at: Date) => string {
  const key = `${lang} ${style} ${timeZone}`;
  const cached = dateFormats.get(key);
  if (cached) return cached;
  let dtf: Intl.DateTimeFormat;
  try {
    dtf = new Intl.DateTimeFormat(LOCALE[lang], { ...OPTIONS[style], timeZone });
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return dateFormat(lang, 'UTC', style); // an unknown zone: UTC, like the digest's "Times are in" line
  }
  let format = (at: Date) => dtf.format(at);
  if (lang === 'en' && style === 'short') {
    // "Mon 5 Jan, 14:30" whatever ICU's en-GB pattern of the day; assembled from parts only if it differs.
    const fromParts = (at: Date) => {
      const p: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
      for (const part of dtf.formatToParts(at)) p[part.type] = part.value;
      return `${p.weekday} ${p.day} ${p.month}, ${p.hour}:${p.minute}`;
    };
    const sample = new Date(Date.UTC(2026, 0, 5, 12, 0));
    if (format(sample) !== fromParts(sample)) format = fromParts;
  }
  dateFormats.set(key, format);
  return format;
}

/** A date and time in `lang` and `timeZone` (an unknown zone: UTC). */
export function formatDateTime(lang: Language, date: Date, timeZone: string, style: DateTimeStyle = 'short'): string {
  return dateFormat(lang, timeZone, style)(date);
}

const relativeFormats = new Map<Language, Intl.RelativeTimeFormat>();

const UNITS: readonly [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 86_400],
  ['month', 30 * 86_400],
  ['week', 7 * 86_400],
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
];

/**
 * "5 minutes ago", "vor 2 Stunden", "昨日": `date` relative to `now` in the largest whole unit
 * (under a minute: "now").
 */
export function formatRelativeTime(lang: Language, date: Date, now: Date): string {
  let rtf = relativeFormats.get(lang);
  if (!rtf) {
    rtf = new Intl.RelativeTimeFormat(LOCALE[lang], { numeric: 'auto' });
    relativeFormats.set(lang, rtf);
  }
  const seconds = (date.getTime() - now.getTime()) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return rtf.format(Math.trunc(seconds / size), unit);
  }
  return rtf.format(0, 'second');
}
