import MarkdownIt from 'markdown-it';
import { sanitiseHtml } from './html';

/**
 * Markdown from the web composer. Raw HTML is off (`<b>` stays text), bare addresses become
 * links, and a single line break is kept, as people expect from a chat box. The result goes
 * through {@link sanitiseHtml}, the same allow-list as mail HTML, so Markdown can produce
 * nothing mail could not (docs/SECURITY.md B43): no script, no `javascript:` link, no image.
 */
const md = new MarkdownIt('default', { html: false, linkify: true, breaks: true, typographer: false });

/** Markdown to the stored, sanitised body HTML. */
export function markdownToSafeHtml(text: string): string {
  return sanitiseHtml(md.render(text));
}
