import { compile, type HtmlToTextOptions } from 'html-to-text';
import { find as findLinks } from 'linkifyjs';
import sanitizeHtml from 'sanitize-html';
import { stripControlChars } from './clean-text';
import { escapeHtmlAttribute, escapeHtmlText } from './html-escape';

/** Added to every link we output: no SEO credit, no `window.opener`, no Referer leak. */
const LINK_REL = 'nofollow noopener noreferrer';

/** Only absolute links with these schemes survive; relative URLs would point into our own app. */
const SAFE_HREF = /^(?:https?:\/\/|mailto:)/i;

/** Nesting of `>` quotes rendered as `<blockquote>`; deeper levels stay as text. */
const MAX_QUOTE_DEPTH = 8;

/**
 * Elements whose content is dropped together with the element. Besides the
 * obvious active content this lists the raw-text and foreign-content elements
 * (noscript, xmp, noembed, svg, math, template…) whose parsing differs between
 * htmlparser2 and browsers; keeping their text is how the DOMPurify mXSS
 * vectors smuggle markup through (docs/SECURITY.md B13).
 */
const DROP_WITH_CONTENT = [
  'script', 'style', 'textarea', 'option', 'select', 'button', 'noscript', 'title', 'head',
  'iframe', 'frame', 'frameset', 'noframes', 'object', 'embed', 'applet', 'svg', 'math',
  'template', 'form', 'base', 'meta', 'link', 'xmp', 'noembed', 'plaintext',
];

/** Block-level elements a browser shows on their own lines that the allow-list does not keep. */
const BLOCKS_AS_DIV = ['center', 'section', 'article', 'header', 'footer', 'main', 'nav', 'aside', 'address', 'figure', 'figcaption', 'dl', 'dt', 'dd'];

const SANITISE_OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [
    'p', 'br', 'b', 'i', 'strong', 'em', 'u', 's', 'a', 'ul', 'ol', 'li', 'blockquote', 'pre', 'code',
    'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'hr', 'span', 'div',
  ],
  // No style, class, id or on* anywhere; img is dropped entirely for now (B14: no remote fetches).
  allowedAttributes: { a: ['href', 'rel', 'target'], td: ['colspan', 'rowspan'], th: ['colspan', 'rowspan'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: {},
  allowedSchemesAppliedToAttributes: ['href'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  nonTextTags: DROP_WITH_CONTENT,
  transformTags: {
    // Block elements outside the allow-list stay blocks: unwrapped, their lines would run together.
    ...Object.fromEntries(BLOCKS_AS_DIV.map((tag) => [tag, 'div'])),
    a: (_tagName, attribs) => {
      // htmlparser2 has already decoded entities, so "&#106;avascript:" is seen as "javascript:".
      const href = (attribs.href ?? '').trim();
      const safe: sanitizeHtml.Attributes = SAFE_HREF.test(href) ? { href, rel: LINK_REL, target: '_blank' } : {};
      return { tagName: 'a', attribs: safe };
    },
  },
};

/**
 * Reduces untrusted HTML to a small allow-list (paragraphs, inline emphasis,
 * lists, quotes, code, headings, tables, links) so it can be stored and shown.
 * Links keep only absolute http/https/mailto targets and get
 * `rel="nofollow noopener noreferrer" target="_blank"`; everything else
 * (scripts, handlers, styles, classes, images, forms, SVG/MathML, frames) is
 * removed, and the content of active or raw-text elements with it.
 */
export function sanitiseHtml(html: string): string {
  return sanitizeHtml(stripControlChars(html), SANITISE_OPTIONS);
}

const TO_TEXT_OPTIONS: HtmlToTextOptions = {
  wordwrap: false,
  // A deeply nested document must not exhaust the stack (docs/SECURITY.md B3).
  limits: { maxDepth: 200 },
  selectors: [
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true, linkBrackets: ['(', ')'] } },
    { selector: 'img', format: 'skip' },
    { selector: 'head', format: 'skip' },
    { selector: 'style', format: 'skip' },
    { selector: 'script', format: 'skip' },
    ...(['h1', 'h2', 'h3', 'h4', 'h5', 'h6'] as const).map((selector) => ({ selector, options: { uppercase: false } })),
    { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false, maxColumnWidth: 100_000 } },
  ],
};
// Compiled once: html-to-text's `convert(html, options)` builds its selector tables again on
// every call: 0.94 ms against 0.19 ms for a short three-paragraph mail on this machine.
const toText = compile(TO_TEXT_OPTIONS);

/**
 * Converts an HTML body to plain text for quote trimming and previews. Links
 * become `text (url)`, or just the text when it already is the URL; images,
 * `<head>`, `<style>` and `<script>` are skipped; lines are not wrapped.
 */
export function htmlToPlainText(html: string): string {
  // Sanitised first, so an unsafe link (javascript:, data:) keeps its text but loses its
  // URL, and nothing the reader would never see turns into text.
  return sanitisedToPlainText(sanitiseHtml(html));
}

/**
 * {@link htmlToPlainText} of HTML that is already the output of {@link sanitiseHtml}: for a
 * caller that keeps the sanitised HTML too, so it is not sanitised twice.
 */
export function sanitisedToPlainText(safeHtml: string): string {
  // Only blank lines are trimmed at the start: list items begin with " * ".
  return stripControlChars(toText(safeHtml))
    .replace(/^(?:[ \t]*\n)+/, '')
    .trimEnd();
}

/**
 * Renders plain text as safe HTML: escapes it, turns blank-line-separated
 * blocks into `<p>` with `<br />` for single newlines, `>`-quoted runs into
 * (nested) `<blockquote>`, and http/https/mailto URLs and bare e-mail
 * addresses into links. The result is a fixed point of {@link sanitiseHtml}.
 */
export function textToSafeHtml(text: string): string {
  return renderBlocks(stripControlChars(text).split('\n'), 0);
}

function renderBlocks(lines: readonly string[], depth: number): string {
  let out = '';
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    if (line.trim() === '') {
      i++;
    } else if (depth < MAX_QUOTE_DEPTH && isQuoted(line)) {
      const inner: string[] = [];
      for (; i < lines.length && isQuoted(lines[i] ?? ''); i++) inner.push(unquote(lines[i] ?? ''));
      out += `<blockquote>${renderBlocks(inner, depth + 1)}</blockquote>`;
    } else {
      const para: string[] = [];
      for (; i < lines.length; i++) {
        const l = lines[i] ?? '';
        if (l.trim() === '' || (depth < MAX_QUOTE_DEPTH && isQuoted(l))) break;
        para.push(linkify(l));
      }
      out += `<p>${para.join('<br />')}</p>`;
    }
  }
  return out;
}

function isQuoted(line: string): boolean {
  return line.trimStart().startsWith('>');
}

/** Removes one quote level: the `>` and one following space (RFC 3676 section 4.5 space-stuffing). */
function unquote(line: string): string {
  return line.trimStart().replace(/^> ?/, '');
}

function linkify(line: string): string {
  let out = '';
  let pos = 0;
  for (const link of findLinks(line)) {
    const href = link.type === 'email' ? `mailto:${link.value}` : link.href;
    // Bare domains ("example.com") and other schemes stay text: only explicit URLs are links.
    if (!(link.type === 'email' || (link.type === 'url' && SAFE_HREF.test(link.value)))) continue;
    out += escapeHtmlText(line.slice(pos, link.start));
    out += `<a href="${escapeHtmlAttribute(href)}" rel="${LINK_REL}" target="_blank">${escapeHtmlText(link.value)}</a>`;
    pos = link.end;
  }
  return out + escapeHtmlText(line.slice(pos));
}

