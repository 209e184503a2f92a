/**
 * Operator-defined redactions applied to a post's title and body before it is written
 * (the issue: "card numbers, IBANs, phone numbers"). Every pattern here must stay
 * near-linear on hostile input: a 1 MB run of digits must not stall the worker
 * (docs/SECURITY.md I5, F9).
 */

/** One kind of sensitive text and how to find it. */
export interface Redaction {
  /** Shown as `[redacted <name>]` and listed in `kinds`. */
  readonly name: string;
  /** Where candidates are. {@link redact} runs a global copy, so `lastIndex` is never shared. */
  readonly pattern: RegExp;
  /**
   * How many leading characters of a candidate to redact: its length for all of it,
   * fewer for a prefix (an IBAN followed by a short upper-case word), 0 to keep it.
   * A kept candidate is searched again from its second character, so candidates must
   * be short (bounded) for the search to stay linear. Omitted: every candidate is
   * redacted whole.
   */
  readonly accept?: (candidate: string) => number;
}

export interface RedactionResult {
  text: string;
  /** Number of replacements. */
  count: number;
  /** Names of the redactions that replaced something, in the order they ran. */
  kinds: string[];
}

export type BuiltinRedactionName = 'card' | 'iban' | 'phone';

/**
 * Payment card numbers: 13–19 digits, contiguous or in groups of 3–6 after a first
 * group of 4 (4-4-4-4, Amex 4-6-5, 4-4-4-4-3), separated by single spaces or dashes,
 * passing the Luhn check (ISO/IEC 7812-1) in {@link cardLength}. Not inside a word,
 * a decimal, an IBAN or after a phone's `+49 `.
 */
const CARD =
  /(?<![\w+])(?<!\d\.)(?<!\b[A-Z]{2}\d{2} )(?<!\+\d{1,3}[ -])(?:\d{13,19}|\d{4}(?:[ -]\d{3,6}){2,4})(?!\w)(?!\.\d)/g;

/**
 * IBANs (ISO 13616): two upper-case letters, two check digits, then 11–30 letters or
 * digits, contiguous (electronic format) or in groups of four separated by single
 * spaces (paper format). Checked with ISO 7064 mod 97-10 in {@link ibanLength}.
 */
const IBAN = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)(?![A-Za-z0-9])/g;

/**
 * International phone numbers only: a `+`, then digits with single spaces, dots,
 * dashes or parentheses (E.164 allows 15 digits; 8 is the shortest plausible). The
 * `+` keeps dates, times, versions, years and order ids out; national formats such as
 * `(030) 1234 5678` are not caught, add a `regex:` for them. The candidate is
 * generous and {@link phoneLength} trims it.
 */
const PHONE = /(?<![\w+])\+\d[\d ().-]{6,40}/g;

/** The built-in redactions, by the name used in the operator setting. */
export const BUILTIN_REDACTIONS: Readonly<Record<BuiltinRedactionName, Redaction>> = Object.freeze({
  card: { name: 'card', pattern: CARD, accept: cardLength },
  iban: { name: 'iban', pattern: IBAN, accept: ibanLength },
  phone: { name: 'phone', pattern: PHONE, accept: phoneLength },
});

/**
 * Replaces every match of each redaction, in order, with `[redacted <name>]`. Later
 * redactions see the text as earlier ones left it.
 */
export function redact(text: string, redactions: readonly Redaction[]): RedactionResult {
  let out = text;
  let count = 0;
  const kinds: string[] = [];
  for (const r of redactions) {
    const { text: next, hits } = redactOne(out, r);
    out = next;
    count += hits;
    if (hits > 0 && !kinds.includes(r.name)) kinds.push(r.name);
  }
  return { text: out, count, kinds };
}

function redactOne(text: string, r: Redaction): { text: string; hits: number } {
  // A private copy: no lastIndex shared with other callers of the same Redaction.
  const re = new RegExp(r.pattern.source, r.pattern.global ? r.pattern.flags : `${r.pattern.flags}g`);
  let out = '';
  let done = 0;
  let hits = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const n = m[0] === '' ? 0 : r.accept ? r.accept(m[0]) : m[0].length;
    if (n <= 0) {
      // Rejected: look again from the next character, not after the candidate, so a
      // card preceded by another digit group ("2024 4111 1111 1111 1111") is still
      // found. Candidates are short (at most ~40 characters), so this stays linear.
      re.lastIndex = m.index + 1;
      continue;
    }
    out += `${text.slice(done, m.index)}[redacted ${r.name}]`;
    done = m.index + n;
    re.lastIndex = done;
    hits += 1;
  }
  return { text: out + text.slice(done), hits };
}

/** Longest `regex:` pattern accepted, in characters. */
const MAX_PATTERN_CHARS = 200;
/** Flags an operator pattern may carry; `g` is added, `y` and `d` make no sense here. */
const ALLOWED_FLAGS = /^[imsu]*$/;
const LABEL = /^[a-z][a-z0-9_-]{0,31}$/;
/** A whole `regex:` entry; flags are letters only, so the last `/` closes the pattern. */
const REGEX_ENTRY = /^(?:([^\s=]+)\s*=\s*)?regex:\/(.*)\/([a-z]*)$/is;

/**
 * Parses the operator setting (BLEND_REDACT), a comma-separated list of built-in names
 * (`card`, `iban`, `phone`) and patterns written `regex:/…/flags` or
 * `label=regex:/…/flags`, e.g. `card,iban,project=regex:/\bPROJ-\d+\b/i`. Commas
 * inside a pattern are part of it. A pattern without a label is shown as
 * `[redacted custom]`. Empty entries are ignored; repeated entries run once.
 *
 * Patterns are refused when they are invalid, longer than 200 characters, match empty
 * text, or have a shape that makes a backtracking engine blow up ({@link patternProblem}).
 *
 * @throws Error naming the entry and what is wrong with it, so the worker fails at start.
 */
export function compileRedactions(spec: string): Redaction[] {
  const out: Redaction[] = [];
  const seen = new Set<string>();
  splitEntries(spec).forEach((raw, index) => {
    const entry = raw.trim();
    const fail = (why: string) => new Error(`redaction entry ${index + 1} (${JSON.stringify(entry)}): ${why}`);
    const name = entry.toLowerCase();
    const key = isBuiltin(name) ? name : entry;
    if (entry === '' || seen.has(key)) return;
    seen.add(key);
    if (isBuiltin(name)) {
      out.push(BUILTIN_REDACTIONS[name]);
      return;
    }
    const m = REGEX_ENTRY.exec(entry);
    if (!m) throw fail('expected card, iban, phone, regex:/…/flags or label=regex:/…/flags');
    const label = m[1]?.toLowerCase() ?? 'custom';
    if (!LABEL.test(label)) throw fail('a label is a lower-case letter and up to 31 of a-z, 0-9, "_" and "-"');
    out.push({ name: label, pattern: compilePattern(m[2] ?? '', m[3] ?? '', fail) });
  });
  return out;
}

function isBuiltin(name: string): name is BuiltinRedactionName {
  return Object.hasOwn(BUILTIN_REDACTIONS, name);
}

/** Splits at commas, except inside a `regex:/…/` body (including its `[...]` classes). */
function splitEntries(spec: string): string[] {
  const entries: string[] = [];
  let start = 0;
  let inRegex = false;
  let inClass = false;
  for (let i = 0; i < spec.length; i += 1) {
    const c = spec[i];
    if (inRegex) {
      if (c === '\\') i += 1;
      else if (c === '[') inClass = true;
      else if (c === ']') inClass = false;
      else if (c === '/' && !inClass) inRegex = false;
    } else if (c === '/' && /regex:$/i.test(spec.slice(Math.max(start, i - 6), i))) {
      inRegex = true;
    } else if (c === ',') {
      entries.push(spec.slice(start, i));
      start = i + 1;
    }
  }
  entries.push(spec.slice(start));
  return entries;
}

function compilePattern(source: string, flags: string, fail: (why: string) => Error): RegExp {
  if (source === '') throw fail('the pattern is empty');
  if (source.length > MAX_PATTERN_CHARS) throw fail(`the pattern is longer than ${MAX_PATTERN_CHARS} characters`);
  if (!ALLOWED_FLAGS.test(flags)) throw fail(`flags may only be i, m, s and u, not "${flags}"`);
  let re: RegExp;
  try {
    re = new RegExp(source, `${flags}g`);
  } catch (err) {
    throw fail(`invalid regular expression: ${(err as Error).message}`);
  }
  const problem = patternProblem(source, flags.includes('m'));
  if (problem) throw fail(problem);
  // An empty match would insert a placeholder between characters; redact() skips them,
  // so a pattern that finds one in plain probes would redact nothing useful.
  if (['', ' ', 'a', '0', 'a b-1.'].some((p) => [...p.matchAll(re)].some((m) => m[0] === ''))) {
    throw fail('the pattern matches empty text');
  }
  return re;
}

// ---- Pattern safety --------------------------------------------------------------

/**
 * Product of repeat ranges allowed before a pattern's first literal character. A
 * pattern that can begin anywhere is retried from every position, and each try costs
 * as many steps as its leading repeats allow: `\d+x` on 1 MB of digits is ~10^11
 * steps, `\d{1,64}x` about 64 × 10^6.
 */
const MAX_LEADING_SPREAD = 64;

const TOO_WIDE =
  'the pattern can start matching almost anywhere and repeat without bound; start it with literal text or use a bounded repeat such as {1,64}';

/** One path through the pattern: has a mandatory literal been seen, and the repeat choices before it. */
type Path = { anchored: boolean; spread: number };

/** A group being read: its alternatives' paths and what it contains. */
interface Frame {
  base: Path;
  cur: Path;
  ends: Path[];
  quantified: boolean;
  alternation: boolean;
  negative: boolean;
}

/**
 * Why a pattern is refused, or null. These rules refuse the shapes that make V8's
 * backtracking engine blow up on hostile text; they cannot prove a pattern linear
 * (e.g. `x\w+y` on "xxxx…" stays quadratic), so operator patterns are reviewed like
 * code. Refused:
 *
 * - backreferences (`\1`, `\k<n>`) and lookbehind, which need backtracking to work;
 * - a repeated group (`+`, `*`, `{n,m}` with m > 1) that contains a quantifier or an
 *   alternation: `(a+)+`, `(a|aa)*` are exponential ("catastrophic backtracking");
 * - a pattern whose leading repeats, before its first literal character, allow more
 *   than {@link MAX_LEADING_SPREAD} choices: `.*secret`, `\d+x`, `[a-z]+-key` are
 *   quadratic. Start with literal text (`PROJ-\d+`) or bound the repeat
 *   (`[\w.]{1,64}@corp\.example`).
 *
 * @param source - a pattern that already compiles.
 */
export function patternProblem(source: string, multiline: boolean): string | null {
  const open = (cur: Path, negative: boolean): Frame => ({ base: { ...cur }, cur: { ...cur }, ends: [], quantified: false, alternation: false, negative });
  const stack: Frame[] = [open({ anchored: false, spread: 1 }, false)];
  let wide: string | null = null;
  for (let i = 0; i < source.length; ) {
    const f = stack[stack.length - 1] as Frame;
    const c = source[i] as string;
    let literal = c !== '.';
    let group: Frame | undefined;
    let spread = f.cur.spread;
    if (c === '\\') {
      const e = source[i + 1] ?? '';
      if (/[1-9]/.test(e) || (e === 'k' && source[i + 2] === '<')) return 'backreferences (\\1, \\k<name>) are not allowed';
      const property = (e === 'p' || e === 'P') && source[i + 2] === '{';
      i = property ? source.indexOf('}', i) + 1 || source.length : i + 2;
      if (e === 'b' || e === 'B') continue; // zero-width
      literal = !property && !'dDwWsS'.includes(e);
    } else if (c === '[') {
      i = closingBracket(source, i);
      literal = false;
    } else if (c === '(') {
      if (source.startsWith('(?<=', i) || source.startsWith('(?<!', i)) return 'lookbehind is not allowed';
      const prefix = /^\(\?(?::|=|!|<[^>]*>)?/.exec(source.slice(i, i + 64))?.[0] ?? '(';
      stack.push(open(f.cur, prefix === '(?!'));
      i += prefix.length;
      continue;
    } else if (c === ')' && stack.length > 1) {
      stack.pop();
      f.ends.push(f.cur);
      const parent = stack[stack.length - 1] as Frame;
      parent.quantified ||= f.quantified;
      parent.alternation ||= f.alternation;
      literal = !f.negative && f.ends.every((p) => p.anchored);
      spread = f.negative ? parent.cur.spread : Math.max(...f.ends.map((p) => p.spread));
      group = f;
      i += 1;
    } else if (c === '|') {
      f.ends.push(f.cur);
      f.cur = { ...f.base };
      f.alternation = true;
      i += 1;
      continue;
    } else if (c === '^' || c === '$') {
      // Without the m flag, ^ can only match at the start: one try, not one per position.
      if (c === '^' && !multiline) f.cur.anchored = true;
      i += 1;
      continue;
    } else {
      i += 1;
    }
    const q = quantifier(source, i);
    if (q) i += q.length;
    const target = stack[stack.length - 1] as Frame;
    if (q) target.quantified = true;
    if (q && q.max > 1 && group?.quantified) return 'nested quantifier: a repeated group contains a repeat, e.g. (a+)+; write the repetitions out';
    if (q && q.max > 1 && group?.alternation) return 'repeated alternation, e.g. (a|aa)*: list the alternatives without repeating the group';
    if (target.cur.anchored) continue;
    const total = spread * (q ? q.max - q.min + 1 : 1);
    // Reported at the end, so a nested quantifier further on gets the clearer message.
    if (total > MAX_LEADING_SPREAD) wide = TOO_WIDE;
    if (total > MAX_LEADING_SPREAD || (literal && (!q || q.min >= 1))) target.cur.anchored = true;
    else target.cur.spread = total;
  }
  return wide;
}

/** The quantifier at `i`, if any; `length` includes a lazy `?` (same choices, other order). */
function quantifier(s: string, i: number): { min: number; max: number; length: number } | null {
  const m = /^(?:[*+?]|\{(\d+)(,(\d*))?\})\??/.exec(s.slice(i, i + 32));
  if (!m) return null;
  const c = m[0][0];
  const min = c === '{' ? Number(m[1]) : c === '+' ? 1 : 0;
  const max = c !== '{' ? (c === '?' ? 1 : Infinity) : m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
  return { min, max, length: m[0].length };
}

function closingBracket(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j += 1) {
    if (s[j] === '\\') j += 1;
    else if (s[j] === ']') return j + 1;
  }
  return s.length;
}

// ---- Checks of the built-in candidates -------------------------------------------

/**
 * The longest prefix, ending at a group break, of 13–19 digits that passes Luhn: a
 * card followed by its expiry or security code ("4111 1111 1111 1111 123") is still
 * found. One pass, no allocation: the worker may see 100k candidates in a hostile mail.
 * Runs of one repeated digit pass Luhn but are placeholders, not cards.
 */
function cardLength(candidate: string): number {
  // Luhn doubles every second digit counted from the right, so which digits are doubled
  // depends on the prefix length: keep the sum for both parities.
  let sumEven = 0; // doubling the digits at even positions from the left
  let sumOdd = 0;
  let n = 0;
  let same = true;
  let best = 0;
  for (let i = 0; i <= candidate.length; i += 1) {
    const c = candidate[i];
    if (c === undefined || c === ' ' || c === '-') {
      if (n >= 13 && n <= 19 && !same && (n % 2 === 0 ? sumEven : sumOdd) % 10 === 0) best = i;
      continue;
    }
    const d = c.charCodeAt(0) - 48;
    const doubled = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sumEven += n % 2 === 0 ? doubled : d;
    sumOdd += n % 2 === 1 ? doubled : d;
    same &&= c === candidate[0];
    n += 1;
  }
  return best;
}

/**
 * The longest prefix, ending at a group break, that is a valid IBAN of 15–34
 * characters: ISO 7064 mod 97-10 as ISO 13616 uses it (country code and check digits
 * moved to the end, letters A–Z as 10–35, remainder 1; check digits 02–98). One pass.
 */
function ibanLength(candidate: string): number {
  const check = Number(candidate.slice(2, 4));
  if (!(check >= 2 && check <= 98)) return 0;
  const mod = (r: number, code: number): number => (code >= 65 ? r * 100 + code - 55 : r * 10 + code - 48) % 97;
  let r = 0;
  let length = 4;
  let best = 0;
  for (let i = 4; i <= candidate.length; i += 1) {
    const code = i < candidate.length ? candidate.charCodeAt(i) : 32;
    if (code !== 32) {
      r = mod(r, code);
      length += 1;
    } else if (length >= 15 && length <= 34) {
      let full = r;
      for (let k = 0; k < 4; k += 1) full = mod(full, candidate.charCodeAt(k));
      if (full === 1) best = i;
    }
  }
  return best;
}

/**
 * The phone number at the start of a candidate: trailing non-digits dropped, then
 * trailing space-separated tokens dropped until the rest has 8–15 digits and a sane
 * shape (no doubled separators, balanced parentheses, no ISO date inside).
 */
function phoneLength(candidate: string): number {
  let s = candidate.replace(/\D+$/, '');
  for (;;) {
    const digits = s.replace(/\D/g, '').length;
    if (digits < 8) return 0;
    // "(0)" and "(415)" become one digit, so "+1 (415) 555" does not read as doubled spaces.
    const flat = s.replace(/\(\d{1,5}\)/g, '0');
    if (digits <= 15 && !/[()]|[ .-]{2}|\d{4}-\d{2}-\d{2}/.test(flat)) return s.length;
    const cut = s.lastIndexOf(' ');
    if (cut <= 0) return 0;
    s = s.slice(0, cut).replace(/\D+$/, '');
  }
}
