/**
 * Signature blocks, told apart from the author's text by layout and content rather than by a
 * sign-off phrase: the paragraphs at the end of the text whose lines are short and carry
 * contact details (phone numbers, mail and web addresses, messenger handles), company names
 * with a legal form, commercial-register lines, or the sender's own name. The sign-off words
 * above such a block ("Mit freundlichem Gruß") are the author's and stay, whatever their
 * wording. One-line boilerplate at the end (device footers, scanner notices) is in
 * end-boilerplate.ts.
 *
 * Every predicate looks at one trimmed line or one paragraph and every scan is bounded, so the
 * repeated trimming from the end stays linear (docs/ARCHITECTURE.md "Package layering": pure core).
 */
import { isClosing, isDividerLine } from './quote-markers';
import { isAuthorName, isSenderNameLine, isTypedName } from './typed-name';

/** A signature block spans at most this many lines (blank lines not counted). */
const BLOCK_MAX_LINES = 40;
/** Lines of a signature are at most this long once URLs are left out. */
const LINE_MAX_CHARS = 80;
/** The scan for a block looks at most this many lines above the end, blank lines included. */
const SCAN_MAX_LINES = 400;

/** How one line of a trailing paragraph reads. */
export type SignatureLine =
  /** Phone, fax, mail or web address, messenger handle, or "A | B | C" columns. */
  | 'contact'
  /** A company name with its legal form ("ACME GmbH", "励源企业顾问有限公司"). */
  | 'company'
  /** A commercial-register or tax line (HRB, VAT number, managing directors). */
  | 'register'
  /** The sender's own name, alone or as the first column of a laid-out line. */
  | 'author'
  /** A short line with nothing telling: a title, a street, a department. */
  | 'plain'
  /** A sentence or a question: the author's text. */
  | 'text';

/** Legal forms of companies, as a whole word (Latin) or a prefix/suffix (CJK, Cyrillic). */
const LEGAL_FORM =
  /(?:^|[\s,(])(?:GmbH|AG|KG|OHG|KGaA|UG|GbR|e\.\s?V\.|Inc\.?|LLC|LLP|Ltd\.?|Limited|plc|Corp\.?|S\.A\.?|SAS|SARL|S\.L\.|S\.r\.l\.|S\.p\.A\.|B\.V\.|N\.V\.|A\/S|ApS|Oy|AB|ASA|Pty|Sp\. z o\.o\.|s\.r\.o\.|a\.s\.|Kft\.?|Zrt\.?)(?=$|[\s,.)*|/·&])|^(?:株式会社|有限会社|ООО|АО|ПАО|ТОВ)|(?:株式会社|有限公司|股份有限公司|有限责任公司|公司)$/u;

/** Commercial-register, tax and board lines that close a company signature. */
const REGISTER =
  /\b(?:HR[AB]|Handelsregister|Registergericht|Amtsgericht|USt\.?-?Id(?:Nr)?\.?|UID|Steuer-?Nr|Steuernummer|VAT\s?(?:No|Reg|ID|number)|Gesch[äa]ftsf[üu]hr\w*|Vorstand|Aufsichtsrat\w*|Sitz(?: der Gesellschaft)?|Registered (?:office|in|number)|Company (?:No|number|registration)|SIRE[NT]|RCS|KvK|Reg\.?\s?No|Managing Directors?|General Manager)\b/i;

/**
 * A run of digits written as a phone number: 6 to 15 digits (ITU-T E.164) with the usual
 * separators. Not validated against numbering plans: most signature numbers are written in
 * national form ("07161 60692 50", "021-5109,9475") and a mail does not say which country they
 * are from, so a validator would need a guessed region; the block around the line is the
 * evidence instead.
 */
const NUMBER_VALUE = /^\+?\(?\d[\d\s()./,–-]{4,22}\d$/;

/** "Label: value", the value after a short label (any language, full-width colon too). */
const LABELLED = /^([^:：]{1,24})[:：]\s*(.+)$/;

/** Messenger and social handles. */
const HANDLE_LABEL = /^(?:skype|linkedin|twitter|x|xing|wechat|weixin|qq|whatsapp|teams|signal|telegram|line|facebook|instagram|github|mastodon)\b/i;

/** Telephone labels followed by a number, also abbreviated ("T:", "Tel.", "Mob", "电话"). */
const PHONE_LABEL =
  /^(?:\+?tel\w*|phone|mobile?|mob|cell\w*|fax|handy|direct|direkt|office|b[üu]ro|zentrale|t[ée]l[ée]?\w*|m[óo]vil|cel|tfn|tlf|puh|gsm|mobil|kom|[TMFPD]|Тел\.?|Моб\.?|Факс|電話|电话|手机|手機|携帯|傳真|传真|FAX)\.?$/i;

/** URLs and mail addresses; a URL in parentheses after a link text too. */
const URL_OR_MAIL = /\(?(?:https?:\/\/|mailto:|www\.)\S+\)?|<?[\w.+-]+@[\w-]+(?:\.[\w-]+)+>?/gi;

/** Column separators of a one-line signature ("Name | Title", "ACME GmbH * Street 1 * City", "ACME :: Street 1"). */
const COLUMNS = /\s(?:\||\*|\/\/|::|·|•)\s/g;

function digitCount(s: string): number {
  let n = 0;
  for (const ch of s) if (ch >= '0' && ch <= '9') n++;
  return n;
}

/**
 * A value that is a phone number: digits and separators only, 6 to 15 digits, not a date or
 * amount, and written as numbers are dialled: international ("+49 …", "0049 …"), national with
 * its trunk prefix ("030 …", "021-5109,9475"), an area code in parentheses, or the North
 * American 3-3-4 groups. "Q1: 120000" is a figure, not a number to call.
 */
export function isPhoneValue(value: string): boolean {
  const v = value.trim();
  if (!NUMBER_VALUE.test(v)) return false;
  const digits = digitCount(v);
  if (digits < 6 || digits > 15 || /^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$/.test(v) || /^\d{1,3}(?:[.,]\d{3})+$/.test(v)) return false;
  return /^(?:\+|0|\()/.test(v) || /^\d{3}[-.\s]\d{3}[-.\s]\d{4}$/.test(v);
}

/**
 * A contact line: phone numbers (after a label, or on their own in national or international
 * form), mail and web addresses with at most a label beside them, messenger handles, or
 * columns ("Chatwoot | CS team"). A sentence that mentions an address is not one.
 */
export function isContactDetail(line: string): boolean {
  const columns = line.split(COLUMNS);
  if (columns.length >= 2 && columns.every((c) => c.trim().split(/\s+/).length <= 8)) return true;
  const rest = line.replace(URL_OR_MAIL, ' ').trim();
  // An address with at most a label or a name beside it: "Web: www.example.com", "jane@x.test".
  if (rest !== line.trim() && rest.split(/\s+/).filter(Boolean).length <= 3 && !/[.!?]$/.test(rest)) return true;
  if (isPhoneValue(line)) return true;
  const labelled = LABELLED.exec(line);
  if (!labelled) return false;
  const [, label = '', value = ''] = labelled;
  if (HANDLE_LABEL.test(label.trim()) && value.trim().split(/\s+/).length <= 3) return true;
  if (isPhoneValue(value.replace(/\s[A-Za-z].*$/, ''))) return true;
  return PHONE_LABEL.test(label.trim()) && /^\+?[\d(]/.test(value.trim());
}

/** Phone lines written without a colon: "Tel. 07161 60692 50 * Fax 07161 60692 79", "T +49 30 1234567". */
function isLabelledPhone(line: string): boolean {
  const m = /^(\S{1,12})\s+(\+?[\d(][\d\s()./-]{4,22}\d)(?:\s|$)/.exec(line);
  return m !== null && PHONE_LABEL.test(m[1] ?? '') && isPhoneValue(m[2] ?? '');
}

/** A column layout: the first column is a name, the rest is spaced out ("Jane Doe      Tel. …"). */
function firstColumn(line: string): string {
  return line.split(/\s{3,}|\t/)[0] ?? line;
}

/** The sender's name as the first column of a laid-out line ("Gregor Stever      Tel. …"). */
export function startsWithAuthorColumn(line: string, authorWords: readonly string[]): boolean {
  return line.length <= 300 && /\S(?:\s{3,}|\t)\S/.test(line) && isAuthorName(firstColumn(line), authorWords);
}

/** How `line` (trimmed) reads as part of a signature (see {@link SignatureLine}). */
export function classifySignatureLine(line: string, authorWords: readonly string[]): SignatureLine {
  // The length first: no pattern below ever runs on a long line.
  if (line.length > 300 || line.startsWith('>') || line.endsWith('?') || line.endsWith('？')) return 'text';
  // A footnote ("[1] http://…") is the author's reference, not a contact line.
  if (/^\[(?:\d{1,2}|\*{1,3})\]\s/.test(line)) return 'text';
  const bare = line.replace(URL_OR_MAIL, 'u').trim();
  const words = bare.split(/\s+/).length;
  // No signature line is that long or that wordy.
  if (bare.length > LINE_MAX_CHARS || words > 16) return 'text';
  if (isAuthorName(line, authorWords) || startsWithAuthorColumn(line, authorWords) || isSenderNameLine(line, authorWords)) return 'author';
  if (isContactDetail(line) || isLabelledPhone(line)) return 'contact';
  if (REGISTER.test(line)) return 'register';
  // A form's "Company: ACME AG" is data someone filled in; a signature names its company bare.
  if (LEGAL_FORM.test(line) && !LABELLED.test(line) && words <= 10 && !/[.!]$/.test(line.replace(/\b(?:Inc|Ltd|Corp|Co|V|A|L|s\.r\.o|a\.s|Kft|Zrt)\.$/, ''))) return 'company';
  // A sentence: more than four words ending in a full stop, or more than twelve words.
  if (words > 12 || (/[.!。！]$/.test(line) && words > 4)) return 'text';
  return 'plain';
}

/** A person's name line: two to four capitalised words, or a CJK name ("山田 太郎", "王芳"). */
const PERSON_NAME =
  /^\p{Lu}[\p{L}\p{M}.'’-]*(?:\s\p{Lu}[\p{L}\p{M}.'’-]*){1,3}$|^[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}]{2,5}(?:[\s\u3000][\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}]{1,5})?$/u;

interface Paragraph {
  from: number;
  to: number;
  kinds: SignatureLine[];
}

/**
 * Where the signature block that ends `lines[0, end)` starts, or null. Read from the bottom up,
 * paragraph by paragraph (a divider line also parts paragraphs, and goes with the block under
 * it): a paragraph belongs to the block when none of its lines is a sentence. The block's top
 * paragraph opens with a name or holds a contact, company, register or author line, and the
 * block needs two such telling lines, or one under a name. A paragraph that ends in a colon
 * ("Our contact:") or a sign-off above the block stops the scan: they are the author's lead-in,
 * and stay. Text must remain above the block.
 */
export function signatureBlockStart(lines: readonly string[], end: number, authorWords: readonly string[]): number | null {
  let i = end;
  let budget = BLOCK_MAX_LINES;
  let start: number | null = null;
  let telling = 0;
  let named = false;
  while (end - i <= SCAN_MAX_LINES) {
    while (i > 0 && isBlankLine(lines[i - 1])) i--;
    if (i === 0) break;
    if (isDividerLine((lines[i - 1] ?? '').trim())) {
      // The rule above a block belongs to it.
      if (start !== null && allBlank(lines, i, start)) start = i - 1;
      i--;
      continue;
    }
    // Most texts end in a sentence of prose: no signature paragraph ends in a long one.
    const last = (lines[i - 1] ?? '').trim();
    if (wordCount(last) > 8 && classifySignatureLine(last, authorWords) === 'text') break;
    const para = readParagraph(lines, i, authorWords);
    if (para === null || (budget -= para.to - para.from) < 0) break;
    const { kinds } = para;
    const first = (lines[para.from] ?? '').trim();
    const nameLed = kinds[0] === 'author' || (kinds[0] !== 'text' && opensWithName(first, authorWords));
    if (!isSignatureParagraph(lines, para, nameLed)) break;
    const tellingHere = kinds.filter((k) => k !== 'plain' && k !== 'text').length;
    if (tellingHere > 0 || nameLed) {
      telling += tellingHere;
      named = nameLed;
      start = para.from;
    }
    i = para.from;
  }
  if (start === null || !(telling >= 2 || (telling >= 1 && named))) return null;
  for (let k = start - 1; k >= 0; k--) if (!isBlankLine(lines[k]) && !isDividerLine((lines[k] ?? '').trim())) return start;
  return null;
}

/**
 * No line of the paragraph is a sentence, and it does not end in a colon (it would introduce
 * what follows). Under a name with a contact line in it, short lines may read as text: a
 * Usenet-style signature's "Bought used in 1997" or "Modifications: tall windshield?".
 */
function isSignatureParagraph(lines: readonly string[], para: Paragraph, nameLed: boolean): boolean {
  if (/[:：]$/.test((lines[para.to - 1] ?? '').trim())) return false;
  // Wrapped prose: two or more long lines that say nothing of a contact, company or register.
  const long = para.kinds.filter((k, n) => (k === 'plain' || k === 'text') && wordCount((lines[para.from + n] ?? '').trim()) >= 8);
  if (long.length >= 2) return false;
  if (!para.kinds.includes('text')) return true;
  if (!nameLed || !para.kinds.slice(1).some((k) => k === 'contact' || k === 'company')) return false;
  return para.kinds.every((k, n) => k !== 'text' || wordCount((lines[para.from + n] ?? '').trim()) <= 8);
}

/** Words of a line; a line over 300 characters counts as long without being split. */
function wordCount(line: string): number {
  if (line.length > 300) return Infinity;
  return line.split(/\s+/).filter(Boolean).length;
}

/** The paragraph ending at `to` (exclusive), cut at a blank line, a divider or a sign-off; null when empty. */
function readParagraph(lines: readonly string[], to: number, authorWords: readonly string[]): Paragraph | null {
  let from = to;
  while (from > 0 && to - from < BLOCK_MAX_LINES) {
    const line = (lines[from - 1] ?? '').trim();
    if (line === '' || isDividerLine(line) || isClosing(line)) break;
    from--;
  }
  if (from === to) return null;
  // Bottom up, stopping at the first sentence unless a name opens the paragraph (where short
  // text lines may still belong to the signature): most last paragraphs are prose.
  const kinds: SignatureLine[] = new Array<SignatureLine>(to - from);
  for (let k = to - 1; k >= from; k--) {
    const kind = classifySignatureLine((lines[k] ?? '').trim(), authorWords);
    kinds[k - from] = kind;
    if (kind === 'text' && k > from && !opensWithName((lines[from] ?? '').trim(), authorWords)) return { from, to, kinds: ['text'] };
  }
  return { from, to, kinds };
}

/** The line can open a signature paragraph as a name (see {@link signatureBlockStart}). */
function opensWithName(line: string, authorWords: readonly string[]): boolean {
  return PERSON_NAME.test(line) || (/^[-~–—]/.test(line) && isTypedName(line)) || classifySignatureLine(line, authorWords) === 'author';
}

function allBlank(lines: readonly string[], from: number, to: number): boolean {
  for (let k = from; k < to; k++) if (!isBlankLine(lines[k])) return false;
  return true;
}

function isBlankLine(line: string | undefined): boolean {
  return line === undefined || line.trim() === '';
}
