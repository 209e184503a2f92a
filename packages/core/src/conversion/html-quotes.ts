import { isTag, type ChildNode, type Document, type Element } from 'domhandler';
import { removeElement, textContent } from 'domutils';
import { cutAtLine, dropLines, lineariseHtml, parseHtml, pruneEmpty, removeFrom, renderHtml, withinLimits, type HtmlLine } from './html-dom';
import { findVisibleLines, type VisibleOptions } from './visible-lines';

/** What trimming did to an HTML body. The HTML is still unsanitised. */
export interface HtmlTrim {
  html: string;
  /** Something was removed. */
  removed: boolean;
  /** The author answered quoted lines inline; those quotes were removed with the rest. */
  inline: boolean;
  confidence: 'high' | 'low';
}

/** {@link extractVisibleHtml}'s result. */
export interface VisibleHtml extends HtmlTrim {
  /** The whole body as the trimmer read it, before trimming: lines, `> ` per quote level. */
  fullText: string;
}

/**
 * Containers whose start marks the beginning of the quoted history, cut with
 * everything after them: Outlook desktop/web (`divRplyFwdMsg`, the empty
 * `appendonsend` div before it; OWA prefixes re-quoted ids with `x_`), new
 * Outlook and Outlook for Mac, Yahoo and Zoho.
 */
const CUT_ID = /(?:^|_)(?:divRplyFwdMsg|appendonsend|mail-editor-reference-message-container|OLK_SRC_BODY_SECTION)$/i;
const CUT_CLASS = /(?:^|\s)(?:yahoo_quoted|zmail_extra)(?:\s|$)/;
/**
 * Outlook for iOS and Android write the new text in `<div name="messageBodySection">` and the
 * quoted original in `<div name="messageReplySection">`; the second is history only when the
 * first is there (some converters put a lone reply's text in a "reply section").
 */
const BODY_NAME = /^messageBodySection$/i;
const CUT_NAME = /^messageReplySection$/i;

/** Signature containers of Gmail, Outlook web/mobile, Apple/iOS, Thunderbird, Samsung and Yahoo mobile. */
const SIGNATURE_ID = /^(?:x_)?(?:Signature|AppleMailSignature|ms-outlook-mobile-signature|composer_signature|ymail_android_signature|ymail_ios_signature)$/i;
const SIGNATURE_CLASS = /(?:^|\s)(?:gmail_signature|gmail_signature_prefix|moz-signature)(?:\s|$)/;

/**
 * A "signature" longer than this is left to the text rules: some iOS versions
 * put the author's own text inside the AppleMailSignature div.
 */
const SIGNATURE_MAX_CHARS = 1_000;

/** Elements visited when looking for marked containers: the same bound as the line walk. */
const MAX_VISITED = 100_000;

/**
 * Removes quoted history from an HTML body before it is sanitised (the class and
 * id markers are what the sanitiser removes). First the client markers: Outlook
 * `#divRplyFwdMsg`/`#appendonsend` and everything after, Yahoo `.yahoo_quoted`.
 * Then the body is read as lines, with `blockquote[type=cite]`,
 * `blockquote.gmail_quote` and bordered Outlook-for-Mac quotes as `>` levels,
 * and cut like plain text: at Gmail's `.gmail_attr` and Thunderbird's
 * `.moz-cite-prefix` attribution lines, "-----Original Message-----" and Notes
 * separators, Outlook's From/Sent header block (a bordered div or an `<hr>`
 * above it, a Notes "Von:" table), and trailing quotes. Quotes the author
 * answers inline go too: only the author's own lines stay, in order. Signatures are kept: see
 * {@link stripHtmlSignature}.
 * A document beyond the walk's size or depth bounds comes back unchanged with
 * `confidence: 'low'`.
 */
export function stripHtmlQuotes(html: string): HtmlTrim {
  const doc = parseHtml(html);
  if (!withinLimits(doc)) return { html, removed: false, inline: false, confidence: 'low' };
  const cut = cutMarkedHistory(doc);
  const trimmed = trimLines(doc, { quotesOnly: true });
  return { html: renderHtml(doc), removed: cut || (trimmed?.removed ?? false), inline: trimmed?.inline ?? false, confidence: trimmed?.confidence ?? 'low' };
}

/**
 * Removes marked signature blocks: Gmail `.gmail_signature` (and its `-- `
 * prefix), Outlook web `#Signature`, Outlook mobile, Apple `#AppleMailSignature`,
 * Thunderbird `.moz-signature`, Samsung `#composer_signature`, Yahoo mobile.
 * A document beyond the walk's size or depth bounds comes back unchanged.
 */
export function stripHtmlSignature(html: string): { html: string; removed: boolean } {
  const doc = parseHtml(html);
  if (!withinLimits(doc)) return { html, removed: false };
  const removed = removeSignatures(doc);
  return { html: renderHtml(doc), removed };
}

/**
 * The author's part of an HTML body: signatures, quoted history, then the same
 * rules as {@link extractVisibleText} (footers, disclaimers, sign-off blocks)
 * applied to the rendered lines and mapped back onto the DOM. Returns null when
 * the document is too large or deep to walk; use the plain-text path then.
 */
export function extractVisibleHtml(html: string, opts: VisibleOptions = {}): VisibleHtml | null {
  const doc = parseHtml(html);
  if (!withinLimits(doc)) return null;
  // Read before anything is removed: the caller splits forwards and counts trimming on it.
  const all = lineariseHtml(doc);
  if (!all) return null;
  const fullText = all.map((l) => l.text).join('\n');
  const sig = removeSignatures(doc);
  const cut = cutMarkedHistory(doc);
  // The first reading still matches the DOM unless a marked container was removed.
  const trimmed = trimLines(doc, { ...opts, quotesOnly: false }, sig || cut ? null : all);
  if (!trimmed) return null;
  const removed = sig || cut || trimmed.removed;
  wordLinesAsDivs(doc);
  return { html: renderHtml(doc), removed, inline: trimmed.inline, confidence: trimmed.confidence, fullText };
}

function trimLines(doc: Document, opts: VisibleOptions, read: HtmlLine[] | null = null): Omit<HtmlTrim, 'html'> | null {
  const lines = read ?? lineariseHtml(doc);
  if (!lines) return null;
  const found = findVisibleLines(
    lines.map((l) => l.text),
    opts,
  );
  // Cut first: it only touches text at or after `end`, so the offsets of the dropped
  // lines (which may share a <pre> text node) stay valid.
  const cut = cutAtLine(lines, found.end);
  const parents = dropLines(lines, found.dropped);
  pruneEmpty(doc, parents);
  return { removed: cut || found.dropped.size > 0, inline: found.inline, confidence: found.confidence };
}

/**
 * Word writes every line as `<p class=MsoNormal>` with no margin (blank lines are spacer
 * paragraphs of `&nbsp;`): as `<div>`s they stay lines once the class is sanitised away,
 * so a two-line sign-off ("此致" / "敬礼") does not become two paragraphs.
 */
function wordLinesAsDivs(doc: Document): void {
  for (const el of findElements(doc, (e) => e.name === 'p' && /\bMsoNormal\b/.test(e.attribs.class ?? ''), false)) el.name = 'div';
}

function cutMarkedHistory(doc: Document): boolean {
  const named = findElements(doc, (el) => BODY_NAME.test(el.attribs.name ?? ''), true).length > 0;
  const marker = findElements(
    doc,
    (el) => CUT_ID.test(el.attribs.id ?? '') || CUT_CLASS.test(el.attribs.class ?? '') || (named && CUT_NAME.test(el.attribs.name ?? '')),
    true,
  )[0];
  if (!marker) return false;
  removeFrom(marker);
  return true;
}

function removeSignatures(doc: Document): boolean {
  const found = findElements(doc, (el) => SIGNATURE_ID.test(el.attribs.id ?? '') || SIGNATURE_CLASS.test(el.attribs.class ?? ''), false);
  let removed = false;
  for (const el of found) {
    if (textContent(el).length > SIGNATURE_MAX_CHARS) continue;
    removeElement(el);
    removed = true;
  }
  return removed;
}

/** Matching elements in document order, not descending into a match; the first only when `first`. */
function findElements(doc: Document, match: (el: Element) => boolean, first: boolean): Element[] {
  const out: Element[] = [];
  const stack: ChildNode[] = [...doc.children].reverse();
  let visited = 0;
  while (stack.length > 0 && visited++ < MAX_VISITED) {
    const node = stack.pop()!;
    if (!isTag(node)) continue;
    if (match(node)) {
      out.push(node);
      if (first) break;
      continue;
    }
    for (let i = node.children.length - 1; i >= 0; i--) {
      const child = node.children[i];
      if (child) stack.push(child);
    }
  }
  return out;
}
