import { htmlToPlainText, sanitisedToPlainText, sanitiseHtml, textToSafeHtml } from '../html';
import type { MailInput } from '../types';
import { extractVisibleText, type VisibleOptions } from '../visible-text';
import { forwardedMessages, type ForwardedMessage } from './forwarded';
import { extractVisibleHtml } from './html-quotes';
import { authorNameWords } from './typed-name';
import { MAX_MENTIONS, extractMentions, extractTags, type Mentions } from './mentions';
import { declaresUtf7, decodeUtf7 } from './utf7';
import { fitTextPart } from './text-part';
import { assertNever } from '../errors';
import { squashWhitespace } from '../clean-text';
import type { BodyDoubt } from '../body-doubt';

/** Options of {@link convertMail}. */
export interface ConvertOptions extends Pick<VisibleOptions, 'disclaimerPatterns'> {
  /**
   * Lower-cased addresses of people the bridge knows (opted in). Those among the
   * mail's To and Cc, except the sender, become mentions.
   * @defaultValue none
   */
  knownAddresses?: ReadonlySet<string>;
}

/** A mail converted into a post or comment body. */
export interface ConvertedMail {
  /** The author's new text as plain text (no `>` lines: an inline reply keeps only the answers). */
  bodyText: string;
  /** The same content as sanitised HTML; a fixed point of `sanitiseHtml`. '' when there is no text. */
  bodyHtml: string;
  /** Forwarded messages, apart from the note; never part of bodyText/bodyHtml. */
  forwarded: ForwardedMessage[];
  mentions: Mentions;
  tags: string[];
  /** Length of the full text rendering minus bodyText length. */
  trimmedChars: number;
  /** The full text rendering the body was cut from (HTML quotes as `> ` lines). */
  fullText: string;
  /** `low`: the trimmer is unsure what is the author's; fail closed (docs/SECURITY.md B12, B21). */
  confidence: 'high' | 'low';
  /** The author answered quoted lines inline; those lines were dropped (docs/SECURITY.md B21). */
  inline: boolean;
  /** Why confidence is low (null when high): see {@link describeDoubt}. */
  confidenceReason: BodyDoubt | null;
  /**
   * Which part decided what is kept. `html` also when bodyText is the text part's lines for
   * the same words (see `fitTextPart`).
   */
  source: 'html' | 'text';
}

interface Body {
  text: string;
  html: string;
  confidence: 'high' | 'low';
  inline: boolean;
}

/**
 * Converts a parsed mail into the body of a post or comment. Pure.
 *
 * - HTML part (when it has visible text): signatures and quoted history are
 *   removed from the DOM ({@link extractVisibleHtml}), the rest is sanitised for
 *   `bodyHtml` and rendered with `htmlToPlainText` for `bodyText`. If the
 *   plain-text rules would still trim that text (a marker the DOM walk missed),
 *   the trimmed text wins and `bodyHtml` is rendered from it instead.
 * - Otherwise the text part: {@link extractVisibleText}, then `textToSafeHtml`.
 * - Forwarded messages are split from the text part (or the HTML rendered as
 *   text) with {@link forwardedMessages}; the note is the body.
 * - A single-part UTF-7 body is decoded first (see `decodeUtf7`).
 * - Mentions and tags come from the body text only, plus known To/Cc people.
 */
export function convertMail(mail: MailInput, opts: ConvertOptions = {}): ConvertedMail {
  const utf7 = declaresUtf7(mail.headers);
  const text = clipBody(mail.text !== null && utf7 ? decodeUtf7(mail.text) : mail.text, '\n');
  const html = clipBody(mail.html !== null && utf7 ? decodeUtf7(mail.html) : mail.html, '<');
  const visible: VisibleOptions = {
    disclaimerPatterns: opts.disclaimerPatterns,
    authorWords: authorNameWords(mail.from?.name, mail.from?.address),
  };

  const fromDom = html ? fromHtml(html, visible) : null;
  // A document too large or deep for the DOM walk: the text part is the client's own rendering
  // of it. Without one, html-to-text reads it, cutting what is too deep ("..."): what comes out
  // cannot be checked for history, so the mail is held (low confidence) rather than published.
  const beyondWalk = Boolean(html) && fromDom === null;
  const htmlText = fromDom ? fromDom.fullText : html && !(beyondWalk && text?.trim()) ? htmlToPlainText(html) : '';
  const picked = pickBody(text ?? '', htmlText, fromDom, visible);
  const doubt: BodyDoubt | null =
    beyondWalk && picked.source === 'html' ? 'html_unreadable' : picked.body.confidence === 'low' ? 'unrecognised_history' : (mail.doubt ?? null);
  const body = { ...picked.body, text: tidy(picked.body.text), html: picked.body.html.trim() };
  const full = picked.full;

  const forwarded = forwardedMessages(text?.trim() ? text : htmlText, {
    subject: mail.subject,
    disclaimerPatterns: opts.disclaimerPatterns,
  });
  const mentions = extractMentions(body.text);
  for (const a of [...mail.to, ...mail.cc]) {
    if (mentions.emails.length >= MAX_MENTIONS) break;
    if (opts.knownAddresses?.has(a.address) && a.address !== mail.from?.address && !mentions.emails.includes(a.address)) {
      mentions.emails.push(a.address);
    }
  }
  return {
    bodyText: body.text,
    bodyHtml: body.text === '' ? '' : body.html,
    forwarded,
    mentions,
    tags: extractTags(body.text),
    trimmedChars: Math.max(0, full.length - body.text.length),
    fullText: full,
    confidence: doubt ? 'low' : 'high',
    confidenceReason: doubt,
    inline: body.inline,
    source: picked.source,
  };
}

/**
 * Which part the body is read from. The HTML part decides what is cut when it has the
 * structure (signature containers, marked quotes, Outlook's header block), but the text part
 * is the client's own text rendering, so its lines are what bodyText shows:
 * - the text part holds the kept words in order: its lines for them ({@link fitTextPart});
 * - the text part says something else (an edited part, another wording): the text part,
 *   trimmed by the plain-text rules;
 * - the text part is empty or a stub ("view this mail in a browser"), or there is no
 *   HTML: the HTML rendering, or the text part alone.
 */
function pickBody(text: string, htmlText: string, fromDom: HtmlBody | null, visible: VisibleOptions): { body: Body; full: string; source: 'html' | 'text' } {
  if (htmlText.trim() === '') return { body: fromText(text, visible), full: text, source: 'text' };
  const fromHtmlText = fromDom ?? fromText(htmlText, visible);
  if (text.trim() === '') return { body: fromHtmlText, full: htmlText, source: 'html' };
  const fit = fitTextPart(text, fromHtmlText.text, htmlText);
  switch (fit.kind) {
    case 'aligned':
      // Same words: the HTML keeps its formatting in bodyHtml, bodyText the client's lines.
      return { body: { ...fromHtmlText, text: fit.text }, full: text, source: 'html' };
    case 'differs':
      return { body: fromText(text, visible), full: text, source: 'text' };
    case 'stub':
      return { body: fromHtmlText, full: htmlText, source: 'html' };
    default:
      return assertNever(fit);
  }
}

function fromText(text: string, visible: VisibleOptions): Body {
  const v = extractVisibleText(text, visible);
  return { text: v.text, html: textToSafeHtml(v.text), confidence: v.confidence, inline: v.inline };
}

type HtmlBody = Body & { fullText: string };

function fromHtml(html: string, visible: VisibleOptions): HtmlBody | null {
  const v = extractVisibleHtml(html, visible);
  if (!v) return null;
  const safe = sanitiseHtml(v.html);
  const plain = sanitisedToPlainText(safe);
  // The DOM walk saw the whole mail and removed the quotes it knows: a `>` line left in its
  // rendering is an indented block of the author's (Gmail's "indent"), not a quote.
  const check = extractVisibleText(plain, { ...visible, keepQuotes: true });
  if (squashWhitespace(check.text) !== squashWhitespace(plain)) {
    // The DOM kept something the text rules call history or boilerplate: trust the
    // stricter result and give up the HTML formatting rather than show it.
    const html = textToSafeHtml(check.text);
    return { text: check.text, html, confidence: check.confidence, inline: check.inline, fullText: v.fullText };
  }
  const confidence = v.confidence === 'low' || check.confidence === 'low' ? 'low' : 'high';
  return { text: check.text, html: safe, confidence, inline: v.inline, fullText: v.fullText };
}

/**
 * Word's `<p>&nbsp;</p>` spacer paragraphs render as lines of no-break spaces:
 * they become blank lines, and runs of blank lines become one. Blank lines go at
 * both ends; the first line keeps its indentation like every other line (an
 * ideographic space that starts a Japanese paragraph is the author's).
 */
function tidy(text: string): string {
  return text.replace(/^[^\S\n]+$/gm, '').replace(/\n{3,}/g, '\n\n').replace(/^\n+/, '').trimEnd();
}

/**
 * The most characters of a body part that are converted. A post keeps 100,000 characters at
 * most, and the author's text comes first; a 20 MB HTML part would otherwise take about 900 MB
 * to parse into a DOM (a worker's heap is limited to far less, README "Memory").
 */
export const MAX_BODY_PART_CHARS = 2_000_000;

/**
 * A body part cut to {@link MAX_BODY_PART_CHARS}, just before the last `boundary` within the
 * limit (`<` for HTML, so no tag is cut in two; a newline for text) when there is one.
 */
export function clipBody(body: string | null, boundary: '<' | '\n', max = MAX_BODY_PART_CHARS): string | null {
  if (body === null || body.length <= max) return body;
  const at = body.lastIndexOf(boundary, max);
  return body.slice(0, at > 0 ? at : max);
}
