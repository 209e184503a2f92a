/**
 * The one table of HTML character references Blend writes. Three sets of characters use it,
 * each for a context that needs no more:
 * - {@link escapeHtml}: element content and quoted attribute values alike (`& < > " '`), for
 *   web pages and mail templates;
 * - {@link escapeHtmlText}: element content only (`& < >`), which is also what Slack's mrkdwn
 *   asks for;
 * - {@link escapeHtmlAttribute}: double-quoted attribute values (`& < > "`).
 * The last two escape exactly what sanitize-html's serializer escapes, so HTML Blend builds
 * itself comes back from the sanitiser unchanged.
 */
const REFERENCES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

const reference = (c: string): string => REFERENCES[c]!;

/** Text for element content or any quoted attribute value. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, reference);
}

/** Text for element content (and Slack mrkdwn): `&`, `<` and `>` only. */
export function escapeHtmlText(s: string): string {
  return s.replace(/[&<>]/g, reference);
}

/** Text for a double-quoted attribute value: `&`, `<`, `>` and `"`. */
export function escapeHtmlAttribute(s: string): string {
  return s.replace(/[&<>"]/g, reference);
}
