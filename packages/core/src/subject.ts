import { stripBidiControls, stripControlChars, truncate } from './clean-text';

/** Longest subject we keep, in code points (Discourse's title limit; docs/SECURITY.md B24). */
export const SUBJECT_MAX = 255;

/**
 * Reply and forward markers that mail clients put in front of a subject, by
 * language. Matching is case-insensitive, so only one spelling is listed unless
 * simple case folding misses it (Turkish dotted İ). Every marker must be followed
 * by a colon, so short ones such as Italian "R"/"I" only match as "R:"/"I:".
 */
const REPLY_FORWARD_MARKERS = [
  // English, and the Latin forms most clients emit in every locale
  're', 'fw', 'fwd',
  // German (AW = Antwort, WG = Weitergeleitet), Lotus Notes spells Antwort out
  'aw', 'wg', 'antwort',
  // Dutch (Antw = Antwoord, Doorst = Doorgestuurd)
  'antw', 'doorst',
  // Nordic: SV = Svar, VS = Vastaus/Videresendt, VB = Vidarebefordrat, VL = Välitetty
  'sv', 'vs', 'vb', 'vl',
  // Italian (R = Risposta, RIF = Riferimento, I = Inoltrato)
  'r', 'rif', 'i',
  // French (TR = Transféré), Spanish (RV = Reenviado), Portuguese (RES = Resposta, ENC = Encaminhado)
  'tr', 'rv', 'res', 'enc',
  // Polish (Odp = Odpowiedź, PD = Przekaż dalej), Czech (Odp, PŘ = Přeposlat)
  'odp', 'pd', 'př',
  // Turkish (YNT = Yanıt, İLT = İlet)
  'ynt', 'ilt', 'İlt',
  // Hungarian (Vá = Válasz, Továbbítás)
  'vá', 'továbbítás',
  // Latvian (Atb = Atbilde, Pārs = Pārsūtīts), Lithuanian (Ats = Atsakymas, Pers = Persiųsta)
  'atb', 'pārs', 'ats', 'pers',
  // Russian and Ukrainian
  'ответ', 'отв', 'пересл', 'відп',
  // Greek (ΑΠ = Απάντηση, ΣΧΕΤ = Σχετικά, ΠΡΘ = Προώθηση)
  'απ', 'σχετ', 'πρθ',
  // Hebrew and Arabic
  'השב', 'הועבר', 'رد',
  // Chinese (simplified and traditional), Japanese, Korean
  '回复', '回覆', '答复', '答覆', '转发', '轉寄', '轉發', '返信', '転送', '회신', '답장', '전달',
  // Vietnamese
  'trả lời', 'chuyển tiếp',
];

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * One reply/forward marker with an optional counter (`Re[2]:`, `AW(3):`, Outlook
 * and Thunderbird forms), then an ASCII or full-width colon (CJK clients emit
 * U+FF1A), then optional space. French typography puts a space before the colon
 * ("TR :"). Sticky (`y`) so the caller can walk the string without slicing; the
 * input has had its whitespace collapsed to single spaces, so ` ?` is enough and
 * the pattern cannot backtrack over long whitespace runs.
 */
const MARKER = new RegExp(
  `(?:${REPLY_FORWARD_MARKERS.map(escapeRegExp).join('|')}) ?(?:\\[\\d{1,4}\\]|\\(\\d{1,4}\\))? ?[:\\uFF1A] ?`,
  'iuy',
);

/**
 * A leading "subj-blob" such as a mailing-list or gateway tag (`[team]`, `[EXT]`),
 * as in RFC 5256 section 2.1 step 3. The length cap keeps a bracketed sentence
 * from being taken for a tag.
 */
const TAG = /\[[^[\]]{1,64}\] ?/uy;


/** RFC 5256 step 5: a whole subject wrapped as "[Fwd: ...]" (Netscape, Mozilla). */
const FWD_WRAPPER = /^\[fwd?: ?(.*)\]$/iu;

/**
 * Reduces a subject to its base form for display and thread matching, close to
 * the "base subject" of RFC 5256 section 2.1: strips any number of leading
 * reply/forward markers in many languages (`Re:`, `AW:`, `回复：`, `Re[2]:`...),
 * leading list tags (`[team]`, also interleaved as in `Re: [list] Re: x`), a
 * trailing `(fwd)` and a `[Fwd: ...]` wrapper; removes control and bidi
 * characters; collapses whitespace; caps at {@link SUBJECT_MAX} code points.
 *
 * A tag is kept when nothing else would remain, so `[EXT]` alone stays `[EXT]`.
 *
 * @returns the base subject, or `''` when there is none.
 */
export function normaliseSubject(subject: string): string {
  // NFC first, so a decomposed "Vá" (a + U+0301) matches the precomposed marker.
  let s = stripBidiControls(stripControlChars(subject).normalize('NFC'))
    .replace(/\s+/g, ' ')
    .trim();
  // Each unwrap removes at least "[Fwd:]", so this loop is bounded by the length.
  for (;;) {
    s = stripFwdTrailers(s);
    s = stripLeaders(s);
    const wrapped = FWD_WRAPPER.exec(s);
    if (!wrapped) break;
    s = (wrapped[1] ?? '').trim();
  }
  return truncate(s, SUBJECT_MAX).trimEnd();
}

/**
 * Key for the fallback "same subject" thread match: the normalised subject in
 * lower case. An empty key means "no subject" and must never match anything.
 */
export function threadSubjectKey(subject: string): string {
  return normaliseSubject(subject).toLowerCase();
}

/** Removes leading markers and tags in one linear pass (a 256 KB "Re: Re: ..." header stays cheap). */
function stripLeaders(s: string): string {
  let pos = 0;
  for (;;) {
    MARKER.lastIndex = pos;
    if (MARKER.test(s)) {
      pos = MARKER.lastIndex;
      continue;
    }
    TAG.lastIndex = pos;
    // RFC 5256: a blob is removed only if something remains after it.
    if (TAG.test(s) && TAG.lastIndex < s.length) {
      pos = TAG.lastIndex;
      continue;
    }
    return s.slice(pos).trim();
  }
}

/**
 * RFC 5256 step 2: removes trailing "(fwd)" markers added by some clients (Pine).
 * Compared from the end rather than with a `$`-anchored regex, which would
 * rescan the whole string once per start position.
 */
function stripFwdTrailers(s: string): string {
  let out = s;
  while (out.slice(-5).toLowerCase() === '(fwd)') out = out.slice(0, -5).trimEnd();
  return out;
}

/** Reply markers only (no forward markers): `Re:`, `AW:`, `SV:`, `回复：`… */
const REPLY_MARKERS = [
  're', 'aw', 'antwort', 'antw', 'sv', 'vs', 'r', 'rif', 'res', 'odp', 'ynt', 'vá', 'atb', 'ats',
  'ответ', 'отв', 'відп', 'απ', 'σχετ', 'השב', 'رد', '回复', '回覆', '答复', '答覆', '返信', '회신', '답장', 'trả lời',
];
const REPLY_START = new RegExp(
  `^(?:\\[[^[\\]]{1,64}\\] ?)*(?:${REPLY_MARKERS.map(escapeRegExp).join('|')}) ?(?:\\[\\d{1,4}\\]|\\(\\d{1,4}\\))? ?[:\\uFF1A]`,
  'iu',
);

/**
 * Whether a subject says the mail is a reply (`Re: …`, `AW: [team] …`, `回复：…`), for
 * threading mail whose client dropped In-Reply-To and References. Forwards do not count.
 */
export function hasReplyMarker(subject: string): boolean {
  const s = stripBidiControls(stripControlChars(subject).normalize('NFC')).replace(/\s+/g, ' ').trim();
  return REPLY_START.test(s.slice(0, 300));
}

/** Longest subject Blend sends, in code points. */
export const SENT_SUBJECT_MAX = 200;

/**
 * A header-safe, single-line subject for mail Blend sends: control characters (CR and LF
 * included) and line separators become spaces, whitespace runs collapse, and the result is
 * capped at {@link SENT_SUBJECT_MAX}.
 */
export function subjectLine(s: string): string {
  const flat = stripControlChars(s)
    .replace(/[\n\t\u2028\u2029]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return truncate(flat, SENT_SUBJECT_MAX).trimEnd();
}

/**
 * The subject of every mail Blend sends into a thread (mirrors, corrections, notifications,
 * a digest's reply links): "Re: <title>" on one line, without doubling a "Re:" the title
 * already has; `untitled` stands in for an empty title.
 */
export function replySubject(title: string, untitled = '(no subject)'): string {
  const t = subjectLine(title) || subjectLine(untitled);
  return /^re\s*:/i.test(t) ? t : subjectLine(`Re: ${t}`);
}
