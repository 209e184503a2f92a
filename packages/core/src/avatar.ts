/**
 * Initials avatars: one or two letters from a person's name (or address) on a colour chosen
 * from their address, so the same person looks the same on every page and in every list. The
 * colours are dark enough for white text at WCAG AA (4.5:1).
 */

/** Background colours, each with a contrast of at least 4.5:1 against white. */
export const AVATAR_COLOURS = ['#1f5fbf', '#8a3ab9', '#b3261e', '#0b7a4b', '#8a5a00', '#00687a', '#5b4bc4', '#a3235e'] as const;

/** Up to two initials: first and last word of the name, else the start of the address. */
export function initials(name: string, email: string): string {
  const words = name
    .replace(/[(<[].*$/, '')
    .split(/[\s.,_-]+/u)
    .filter((w) => /\p{L}|\p{N}/u.test(w));
  const letter = (w: string) => [...w.replace(/^[^\p{L}\p{N}]+/u, '')][0] ?? '';
  if (words.length >= 2) return (letter(words[0]!) + letter(words.at(-1)!)).toUpperCase();
  if (words.length === 1) return [...words[0]!.replace(/^[^\p{L}\p{N}]+/u, '')].slice(0, 2).join('').toUpperCase();
  const local = email.split('@')[0] ?? '';
  return (letter(local) || '?').toUpperCase();
}

/** The colour index for an address: a stable FNV-1a hash, so it never changes between pages or releases. */
export function avatarColourIndex(email: string): number {
  let h = 0x811c9dc5;
  for (const ch of email.trim().toLowerCase()) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % AVATAR_COLOURS.length;
}
