import { stripBidiControls, stripControlChars, truncate } from './clean-text';

/** Longest title made from a body's first line, in code points, the ellipsis included. */
export const BODY_TITLE_MAX = 80;

/**
 * A title for a post that came without one (a mail without a subject, a status posted
 * through the ESN without a title): its first non-empty line, cut to `max` code points with
 * an ellipsis, cleaned like any stored title. Mail notifications use it as their subject.
 * @param max @defaultValue {@link BODY_TITLE_MAX}
 */
export function titleFromBody(body: string, max = BODY_TITLE_MAX): string {
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
