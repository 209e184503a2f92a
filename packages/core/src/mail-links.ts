/**
 * The links Blend's mail and events carry to its web UI: one place that spells their paths,
 * so every mail about a thread links to the same page (`/web/posts/ID`, the page
 * `findPostLink` recognises in a chat message).
 */

const base = (publicUrl: string) => publicUrl.replace(/\/+$/, '');

/** The thread page of a post. */
export function postLink(publicUrl: string, postId: string): string {
  return `${base(publicUrl)}/web/posts/${encodeURIComponent(postId)}`;
}

/** The preferences page (digest, receipts, opt-out). */
export function preferencesLink(publicUrl: string): string {
  return `${base(publicUrl)}/web/preferences`;
}

/** A link that acts on a signed token (`/links/unsubscribe`, `/links/opt-in`, …). */
export function actionLink(publicUrl: string, path: `/links/${string}`, token: string): string {
  return `${base(publicUrl)}${path}?t=${encodeURIComponent(token)}`;
}
