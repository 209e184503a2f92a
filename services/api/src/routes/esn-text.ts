import { stripBidiControls, stripControlChars, truncate } from '@blend/core';

/**
 * Pure text helpers for what people write through the ESN. (Candidates for packages/core,
 * next to the mail-side mention and tag extraction, once that exists.)
 */

const TAG = /(?:^|[\s([{,;:!?])#(\p{L}[\p{L}\p{N}_-]{0,49})/gu;
const MENTION = /(?:^|[\s([{,;:])@([A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63})/g;

function unique(values: Iterable<string>, max: number): string[] {
  return [...new Set(values)].slice(0, max);
}

/** `#tags` in a text, lower-case, without `#`, first 20. A `#` inside a URL is no tag. */
export function extractTags(text: string): string[] {
  return unique([...text.matchAll(TAG)].map((m) => m[1]!.toLowerCase()), 20);
}

/** Addresses mentioned as `@alice@example.com`, lower-case, first 50. */
export function extractMentionEmails(text: string): string[] {
  return unique([...text.matchAll(MENTION)].map((m) => m[1]!.toLowerCase()), 50);
}

/**
 * A title for a status posted without one: its first non-empty line, cut to `max`
 * characters. Mail notifications use it as their subject.
 * @param max @defaultValue 80
 */
export function titleFromBody(body: string, max = 80): string {
  const line = body.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? '';
  return cleanTitle([...line].length > max ? `${truncate(line, max - 1).trimEnd()}…` : line);
}

/** A title as stored: one line, without control or bidi-override characters. */
export function cleanTitle(s: string): string {
  return stripBidiControls(stripControlChars(s)).replace(/\s+/g, ' ').trim();
}

/** A body as stored: LF line ends, no control characters, no blank lines around it. */
export function cleanBody(s: string): string {
  return stripControlChars(s).replace(/^\s*\n/, '').trimEnd();
}
