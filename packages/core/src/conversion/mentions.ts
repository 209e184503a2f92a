/** People mentioned in a text: `@handle` names and `@address` e-mail addresses. */
export interface Mentions {
  /** Lower-cased handles without the `@` ("alice", "alice.smith"). */
  names: string[];
  /** Lower-cased addresses of `@alice@corp.test` mentions. */
  emails: string[];
}

/** Most mentions or tags taken from one message; the rest are ignored. */
export const MAX_MENTIONS = 20;
const MAX_TOKEN = 64;

/**
 * What may stand before `@` or `#`: the start, whitespace or (also CJK, which has no
 * spaces) punctuation.
 * A letter, digit, dot or `&` before it means an address (`bob@corp.test`), a URL
 * fragment (`page#top`) or an entity (`&#39;`), not a mention or tag.
 */
const BEFORE = String.raw`(?<=^|[\s(\[{"'“‘«,;:!?。、，！？：；「『（【])`;

const MENTION = new RegExp(
  `${BEFORE}[@＠]([\\p{L}\\p{N}_][\\p{L}\\p{N}_.+-]*)(?:@([\\p{L}\\p{N}-]+(?:\\.[\\p{L}\\p{N}-]+)+))?`,
  'gu',
);
const TAG = new RegExp(`${BEFORE}[#＃](\\p{L}[\\p{L}\\p{M}\\p{N}_-]*)`, 'gu');

/** URLs (their paths hold `@` and fragments hold `#`) and inline `code` spans. */
const URL_OR_CODE = /\b(?:https?|ftp|mailto):\S+|\bwww\.\S+|`[^`\n]*`/gi;

/** A CSS colour such as `#ff0000` is not a tag; an all-letter `#cafe` is kept. */
const HEX_COLOUR = /^(?=.*\d)(?:[0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i;

/**
 * Finds `@name`, `@first.last` and `@name@domain` mentions in the author's text.
 * Ignored: addresses without a leading `@` (`bob@corp.test`), anything inside a
 * URL or a backtick code span, and `>`-quoted lines (someone else's words).
 * Names and addresses are lower-cased, deduplicated and capped at
 * {@link MAX_MENTIONS} each. Resolving a name to a person is the caller's job.
 */
export function extractMentions(text: string): Mentions {
  // Most texts mention nobody: skip the pattern, whose look-behind is tried at every position.
  if (!/[@＠]/.test(text)) return { names: [], emails: [] };
  const names = new Set<string>();
  const emails = new Set<string>();
  for (const m of authorText(text).matchAll(MENTION)) {
    const local = (m[1] ?? '').replace(/[.+-]+$/, '');
    const domain = m[2]?.replace(/\.$/, '');
    if (domain) {
      if (emails.size < MAX_MENTIONS && local.length <= MAX_TOKEN && domain.length <= 253) emails.add(`${local}@${domain}`.toLowerCase());
    } else if (names.size < MAX_MENTIONS && local.length <= MAX_TOKEN && /\p{L}/u.test(local)) {
      names.add(local.toLowerCase());
    }
  }
  return { names: [...names], emails: [...emails] };
}

/**
 * Finds `#tags` (`#launch`, `#Q3-plan`, `#日本語`) in the author's text. A tag
 * starts with a letter, so `#1` issue numbers are not tags; URL fragments, HTML
 * entities, hex colours, code spans and `>`-quoted lines are ignored. Tags are
 * lower-cased, deduplicated and capped at {@link MAX_MENTIONS}.
 */
export function extractTags(text: string): string[] {
  if (!/[#＃]/.test(text)) return [];
  const tags = new Set<string>();
  for (const m of authorText(text).matchAll(TAG)) {
    const tag = (m[1] ?? '').replace(/[-_]+$/, '').toLowerCase();
    if (tag.length > MAX_TOKEN || HEX_COLOUR.test(tag)) continue;
    tags.add(tag);
    if (tags.size >= MAX_MENTIONS) break;
  }
  return [...tags];
}

/** The text without quoted lines, URLs and code spans (replaced by spaces). */
function authorText(text: string): string {
  return text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('>'))
    .join('\n')
    .replace(URL_OR_CODE, ' ');
}
