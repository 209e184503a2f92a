import type { RemovalReason, WebhookEvent, WebhookPerson } from './event-types';

/**
 * One event told in words, for the chat formats (Slack, Teams, Discord). A tool that cannot
 * change a message it already shows gets edits and removals as a short follow-up: `follow-up`
 * headlines start with "edited:" or say who removed what. Plain text: each format escapes it
 * its own way.
 */
export interface EventSummary {
  kind: 'content' | 'follow-up' | 'note';
  /** One line: who did what. */
  headline: string;
  /** The thread's title, when it has one readers can see. */
  title: string | null;
  /** The thread's page, when BLEND_PUBLIC_URL is known and the thread is still there. */
  url: string | null;
  author: string | null;
  /** The start of the text the event carries (at most `max` characters). */
  excerpt: string | null;
  /** The content came in by mail. */
  viaEmail: boolean;
  at: string;
}

const personName = (p: WebhookPerson): string => p.name || p.email;
/** Cut to `max` characters, ending with an ellipsis when cut. */
export const cutText = (s: string, max: number): string => (s.length > max ? `${s.slice(0, Math.max(0, max - 1))}…` : s);
const quoted = (title: string): string => (title ? `“${title}”` : 'a thread');
const removedBy = (reason: RemovalReason): string =>
  reason === 'retracted'
    ? 'removed by the author'
    : reason === 'unmirrored'
      ? 'removed by the person who shared it'
      : reason === 'hidden'
        ? 'hidden by a moderator'
        : "removed: its author's content was erased";

/** @param max longest excerpt @defaultValue 500 */
export function summarizeEvent(e: WebhookEvent, max = 500): EventSummary {
  const base = { at: e.occurred_at, viaEmail: false, author: null, excerpt: null } as const;
  switch (e.event) {
    case 'post.created':
    case 'post.updated': {
      const who = personName(e.post.author);
      const viaEmail = e.post.source === 'email';
      const headline =
        e.event === 'post.created'
          ? `${who} posted ${quoted(e.post.title)} in #${e.post.group.slug}${viaEmail ? ' (by email)' : ''}`
          : `edited: ${who}'s post ${quoted(e.post.title)}`;
      return { ...base, kind: e.event === 'post.created' ? 'content' : 'follow-up', headline, title: e.post.title || null, url: e.post.url, author: who, excerpt: cutText(e.post.body_text, max), viaEmail };
    }
    case 'post.deleted':
      return { ...base, kind: 'follow-up', headline: `A post was ${removedBy(e.reason)}`, title: null, url: null };
    case 'comment.created':
    case 'comment.updated': {
      const who = personName(e.comment.author);
      const viaEmail = e.comment.source === 'email';
      const headline =
        e.event === 'comment.created'
          ? `${who} commented on ${quoted(e.post.title)}${viaEmail ? ' (by email)' : ''}`
          : `edited: ${who}'s comment on ${quoted(e.post.title)}`;
      return { ...base, kind: e.event === 'comment.created' ? 'content' : 'follow-up', headline, title: e.post.title || null, url: e.post.url, author: who, excerpt: cutText(e.comment.body_text, max), viaEmail };
    }
    case 'comment.deleted':
      return { ...base, kind: 'follow-up', headline: `A comment on ${quoted(e.post.title)} was ${removedBy(e.reason)}`, title: e.post.title || null, url: e.post.url };
    case 'reaction.created':
    case 'reaction.deleted': {
      const who = personName(e.reaction.person);
      const verb = e.event === 'reaction.created' ? 'liked' : 'no longer likes';
      return { ...base, kind: 'note', headline: `${who} ${verb} ${quoted(e.post.title)}`, title: e.post.title || null, url: e.post.url, author: who };
    }
    case 'post.merged':
      return { ...base, kind: 'note', headline: `${quoted(e.merged.title)} is now part of the thread ${quoted(e.post.title)}`, title: e.post.title || null, url: e.post.url };
    case 'person.erased':
      return { ...base, kind: 'note', headline: "A person's content was erased", title: null, url: null };
  }
}
