import { stripControlChars } from './clean-text';

/** The author's new text and how much of the input was dropped to get it. */
export interface VisibleText {
  text: string;
  /** Input length (UTF-16 units) minus kept length: quotes, signature, footers, blanks. */
  trimmedChars: number;
}

/** Lines longer than this are body text, never an attribution or separator. */
const MARKER_LINE_MAX = 300;

/**
 * "On … wrote:" in the languages we support; each must end the (possibly
 * joined) line. Clients wrap long attributions, so two lines are also tried.
 */
const ATTRIBUTION = [
  /^On\b.*\bwrote:$/i,
  /^Am\b.*\bschrieb\b.*:$/i,
  /^Le\b.*\ba écrit\s?:$/i,
  /^El\b.*\bescribió\s?:$/i,
  /^Il\b.*\bha scritto\s?:$/i,
  /^Op\b.*\bschreef\b.*:$/i,
  /^Em\b.*\bescreveu\s?:$/i,
];

/** The verb alone, for an attribution left above a trailing quote ("Jane wrote:"). */
const ATTRIBUTION_VERB = /\b(?:wrote|schrieb|a écrit|escribió|ha scritto|schreef|escreveu)\b.*:$/i;

/** Outlook, Thunderbird, Apple Mail and Gmail separators before quoted or forwarded mail. */
const SEPARATOR =
  /^-{2,} ?(?:Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original|Messaggio originale|Oorspronkelijk bericht|Mensagem original|Forwarded message|Weitergeleitete Nachricht|Message transféré) ?-{2,}$|^Begin forwarded message:$/i;

/** Outlook's rule above its header block. */
const UNDERSCORES = /^_{10,}$/;

/** Outlook header-block field names (optionally bold in plain text: "*From:*"). */
const HEADER_FROM = /^\*?(?:From|Von|De|Van|Da|Od|Fra|Från|Lähettäjä)\s*:\*?\s/i;
const HEADER_SENT =
  /^\*?(?:Sent|Date|Gesendet|Datum|Envoyé|Enviado|Fecha|Inviato|Data|Verzonden|Skickat|Sendt|Wysłano|Lähetetty)\s*:\*?\s/i;

/**
 * Mobile and webmail footers that carry nothing of the author's, dropped only
 * at the end of the text.
 */
const FOOTER =
  /^(?:Sent from my |Sent from (?:Mail|Outlook|Yahoo Mail)\b|Get Outlook for |Von meinem .*gesendet|Envoyé de mon |Enviado desde mi |Enviado do meu |Inviato da(?:l mio)? |Verzonden (?:vanaf|met) (?:mijn )?|Skickat från min )/i;

/**
 * Extracts the text the author wrote from a plain-text mail body.
 *
 * A first version, deliberately simple and conservative (the full trimmer is a
 * separate stage, RELIABILITY B12/B21):
 *
 * 1. Newlines are normalised and control characters removed.
 * 2. Everything from the first quote-history marker is cut: an attribution
 *    ("On … wrote:", "Am … schrieb …:", "Le … a écrit :", "El … escribió:",
 *    "Il … ha scritto:", "Op … schreef …:", "Em … escreveu:"), also wrapped
 *    over two lines; an "Original Message"/"Forwarded message" separator; an
 *    Outlook header block (From/Von… followed within four lines by
 *    Sent/Date/Gesendet…), or the underscore rule above it.
 * 3. The signature is cut at the first line that is exactly "-- " (RFC 3676
 *    section 4.3) or "--".
 * 4. From the end: blank lines, mobile footers ("Sent from my iPhone"…), a
 *    trailing `>`-quoted block and the attribution line above it are dropped,
 *    repeatedly. Quoted lines followed by the author's own text are kept as
 *    they are (interleaved replies).
 * 5. Leading blank lines are dropped.
 */
export function extractVisibleText(text: string): VisibleText {
  const lines = stripControlChars(text).split('\n');
  let end = Math.min(firstMarker(lines), signatureStart(lines));
  end = trimTrailing(lines, end);
  let start = 0;
  while (start < end && isBlank(lines[start])) start++;
  const kept = lines.slice(start, end).join('\n').trimEnd();
  return { text: kept, trimmedChars: text.length - kept.length };
}

function firstMarker(lines: readonly string[]): number {
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.length > MARKER_LINE_MAX) continue;
    if (SEPARATOR.test(line) || isAttributionAt(lines, i)) return i;
    if (UNDERSCORES.test(line) && HEADER_FROM.test(nextNonBlank(lines, i + 1) ?? '')) return i;
    if (HEADER_FROM.test(`${line} `) && hasWithin(lines, i + 1, 4, HEADER_SENT)) return i;
  }
  return lines.length;
}

function isAttributionAt(lines: readonly string[], i: number): boolean {
  const line = (lines[i] ?? '').trim();
  const next = (lines[i + 1] ?? '').trim();
  const joined = `${line} ${next}`;
  return ATTRIBUTION.some(
    (re) => re.test(line) || (next !== '' && joined.length <= MARKER_LINE_MAX && re.test(joined)),
  );
}

function signatureStart(lines: readonly string[]): number {
  const i = lines.findIndex((l) => l === '-- ' || l === '--');
  return i === -1 ? lines.length : i;
}

/** Drops blank lines, footers, a trailing quote and its attribution from the end; returns the new end. */
function trimTrailing(lines: readonly string[], end: number): number {
  let e = end;
  for (;;) {
    const before = e;
    while (e > 0 && isBlank(lines[e - 1])) e--;
    const last = (lines[e - 1] ?? '').trim();
    if (e > 0 && last.length <= 100 && FOOTER.test(last)) e--;
    else if (e > 0 && isQuoted(lines[e - 1])) {
      // The trailing quoted block, including blank lines between quoted lines.
      while (e > 0 && (isQuoted(lines[e - 1]) || isBlank(lines[e - 1]))) e--;
      while (e > 0 && isBlank(lines[e - 1])) e--;
      const above = (lines[e - 1] ?? '').trim();
      if (e > 0 && above.length <= MARKER_LINE_MAX && ATTRIBUTION_VERB.test(above)) e--;
    }
    if (e === before) return e;
  }
}

function nextNonBlank(lines: readonly string[], from: number): string | undefined {
  for (let i = from; i < lines.length; i++) if (!isBlank(lines[i])) return (lines[i] ?? '').trim();
  return undefined;
}

function hasWithin(lines: readonly string[], from: number, count: number, re: RegExp): boolean {
  for (let i = from; i < Math.min(lines.length, from + count); i++) {
    if (re.test(`${(lines[i] ?? '').trim()} `)) return true;
  }
  return false;
}

function isBlank(line: string | undefined): boolean {
  return line === undefined || line.trim() === '';
}

function isQuoted(line: string | undefined): boolean {
  return line !== undefined && line.trimStart().startsWith('>');
}
