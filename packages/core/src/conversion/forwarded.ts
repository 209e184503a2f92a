import { stripControlChars, truncate } from '../clean-text';
import { extractVisibleText, type VisibleOptions } from '../visible-text';
import {
  HEADER_FIELDS,
  HEADER_FROM,
  HEADER_SENT,
  MARKER_LINE_MAX,
  UNDERSCORES,
  isForwardSeparator,
  isSeparator,
} from './quote-markers';

/** A forwarded message, kept apart from the forwarder's note as attributed context. */
export interface ForwardedMessage {
  /** The forwarded header's From value as written ("Jane Doe <jane@corp.test>"), or ''. */
  from: string;
  /** The Date/Sent value as written: clients localise it, so it is not parsed. */
  date: string | null;
  subject: string;
  /** The forwarded message's own new text (its quotes and signature trimmed). */
  text: string;
}

/** The forwarder's note and the messages they forwarded, outermost first. */
export interface SplitForwarded {
  /** The forwarder's own text above the first forwarded message, trimmed like a reply. */
  note: string;
  forwarded: ForwardedMessage[];
}

/** Options of {@link splitForwarded}. */
export interface SplitForwardedOptions extends Pick<VisibleOptions, 'disclaimerPatterns'> {
  /**
   * The mail's subject. Outlook forwards carry no "Forwarded message" caption,
   * only its From/Sent header block (or "-----Original Message-----"); those
   * count as a forward only when the subject starts with a forward prefix.
   * @defaultValue `''`
   */
  subject?: string;
}

/** More than this is a loop or an attack, not a forward chain. */
const MAX_FORWARDED = 20;
/** Header values are shown as context; a longer one is cut. */
const FIELD_MAX = 300;

/**
 * Forward prefixes of the subject: en Fwd/FW, de WG, fr TR, es/pt RV/ENC, it I,
 * nl Doorst, sv VB, pl PD, ru Пересл, ja 転送, zh 转发/轉寄 (only the first
 * prefix: "Re: Fwd:" is a reply to a forward).
 */
const FORWARD_SUBJECT = /^\s*(?:Fwd?|FW|WG|TR|RV|ENC|I|Doorst|VB|VS|PD|Пересл|転送|转发|轉寄)\s*[:：]/i;

/**
 * Splits a plain-text body into the forwarder's note and the forwarded
 * messages: Gmail "---------- Forwarded message ---------", Apple "Begin
 * forwarded message:", Thunderbird "-------- Weitergeleitete Nachricht --------"
 * and their translations, Notes "----- Forwarded by … -----", and, when the
 * subject is a forward (Fwd/FW/WG/TR/RV/I…), Outlook's From/Sent block or
 * "-----Original Message-----". Each forwarded block's header fields are read
 * and its text is trimmed with {@link extractVisibleText}; a forward nested in a
 * forward becomes the next entry. HTML bodies are split after `htmlToPlainText`.
 */
export function splitForwarded(text: string, opts: SplitForwardedOptions = {}): SplitForwarded {
  const { lines, starts } = findForwards(text, opts);
  const visible = { disclaimerPatterns: opts.disclaimerPatterns };
  const note = extractVisibleText(lines.slice(0, starts[0] ?? lines.length).join('\n'), visible).text;
  return { note, forwarded: readBlocks(lines, starts, visible) };
}

/**
 * The forwarded messages of {@link splitForwarded} without the note: for a caller whose note
 * is trimmed another way (the mail's body), which spares trimming the whole text once more.
 */
export function forwardedMessages(text: string, opts: SplitForwardedOptions = {}): ForwardedMessage[] {
  const { lines, starts } = findForwards(text, opts);
  return readBlocks(lines, starts, { disclaimerPatterns: opts.disclaimerPatterns });
}

/** The text's lines and where each forwarded block starts. */
function findForwards(text: string, opts: SplitForwardedOptions): { lines: string[]; starts: number[] } {
  const lines = stripControlChars(text).split('\n');
  const isForwardMail = FORWARD_SUBJECT.test(opts.subject ?? '');
  const starts: number[] = [];
  for (let i = 0; i < lines.length && starts.length < MAX_FORWARDED; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.length > MARKER_LINE_MAX || line.startsWith('>')) continue;
    // Only the outermost Outlook block is the forward: the header blocks below it are the
    // forwarded thread's own history, which its text trimming removes.
    if (isForwardSeparator(line) || (isForwardMail && starts.length === 0 && isOutlookForward(lines, i))) {
      starts.push(i);
      i = skipHeader(lines, i + 1) - 1; // the block's own From/Sent lines are not a new forward
    }
  }
  return { lines, starts };
}

function readBlocks(lines: readonly string[], starts: readonly number[], visible: VisibleOptions): ForwardedMessage[] {
  return starts.map((start, n) => parseBlock(lines.slice(start, starts[n + 1] ?? lines.length), visible));
}

/** Outlook marks a forward only with the reply markers: a separator, a rule or the header block. */
function isOutlookForward(lines: readonly string[], i: number): boolean {
  const line = (lines[i] ?? '').trim();
  if (isSeparator(line)) return true;
  if (UNDERSCORES.test(line)) return HEADER_FROM.test(nextNonBlank(lines, i + 1));
  return HEADER_FROM.test(line) && [1, 2, 3, 4].some((d) => HEADER_SENT.test((lines[i + d] ?? '').trim()));
}

/** Index after the header fields that follow a separator (blank lines before them allowed). */
function skipHeader(lines: readonly string[], from: number): number {
  let i = from;
  while (i < lines.length && (lines[i] ?? '').trim() === '') i++;
  while (i < lines.length && fieldOf((lines[i] ?? '').trim()) !== null) i++;
  return i;
}

function parseBlock(block: readonly string[], visible: VisibleOptions): ForwardedMessage {
  const out: ForwardedMessage = { from: '', date: null, subject: '', text: '' };
  let i = 0;
  const head = (block[0] ?? '').trim();
  // The caption or rule line itself; an Outlook block starts right at "From:".
  if (isSeparator(head) || UNDERSCORES.test(head)) i = 1;
  while (i < block.length && (block[i] ?? '').trim() === '') i++;
  for (; i < block.length; i++) {
    const field = fieldOf((block[i] ?? '').trim());
    if (!field) break;
    const value = truncate(field.value, FIELD_MAX);
    if (field.name === 'from' && !out.from) out.from = value;
    else if (field.name === 'date' && out.date === null) out.date = value;
    else if (field.name === 'subject' && !out.subject) out.subject = value;
  }
  out.text = extractVisibleText(block.slice(i).join('\n'), visible).text;
  return out;
}

function fieldOf(line: string): { name: 'from' | 'date' | 'subject' | 'to'; value: string } | null {
  if (line.length > MARKER_LINE_MAX * 4) return null;
  for (const [name, re] of HEADER_FIELDS) {
    const m = re.exec(line);
    if (m) return { name, value: line.slice(m[0].length).replace(/\*+$/, '').trim() };
  }
  return null;
}

function nextNonBlank(lines: readonly string[], from: number): string {
  for (let i = from; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line !== '') return line;
  }
  return '';
}
