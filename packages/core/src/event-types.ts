/**
 * Blend's events (README "Events"): what the events outbox stores and webhooks and
 * `GET /api/v1/events` carry. Only what a reader of the thread can see now.
 */

export interface WebhookPerson {
  id: string;
  email: string;
  name: string;
}
export interface WebhookPostRef {
  id: string;
  title: string;
  /** Link to the thread page, when BLEND_PUBLIC_URL is known. */
  url: string | null;
}

/** Why something left the feed: its author took it back, the sharer un-mirrored the thread, the author was erased, an admin hid it. */
export type RemovalReason = 'retracted' | 'unmirrored' | 'erased' | 'hidden';

/** The full post as readers see it (`post.created`, `post.updated`). */
export type WebhookPost = WebhookPostRef & {
  group: { slug: string; name: string };
  body_text: string;
  body_html: string;
  source: 'email' | 'esn';
  author: WebhookPerson;
  created_at: string;
  edited_at?: string | null;
};
export type WebhookComment = { id: string; body_text: string; body_html: string; source: 'email' | 'esn'; author: WebhookPerson; created_at: string; edited_at?: string | null };

/**
 * What every event written to the events outbox carries besides its type's fields: its stable
 * id, its thread and place in it, and the channel the change came through. Deliveries made
 * before the outbox existed have none of them.
 */
export interface EventEnvelopeFields {
  id?: string;
  thread?: { id: string; sequence: number } | null;
  origin?: 'email' | 'esn';
  /** For a comment written in a chat tool: which (`slack`, `mattermost`, `rocketchat`, `generic`); absent otherwise. */
  via?: string;
}

export type WebhookEvent = EventEnvelopeFields &
  (
    | { event: 'post.created' | 'post.updated'; occurred_at: string; post: WebhookPost }
    | { event: 'post.deleted'; occurred_at: string; post: WebhookPostRef; reason: RemovalReason }
    | { event: 'comment.created' | 'comment.updated'; occurred_at: string; post: WebhookPostRef; comment: WebhookComment }
    | { event: 'comment.deleted'; occurred_at: string; post: WebhookPostRef; comment: { id: string }; reason: RemovalReason }
    | { event: 'reaction.created' | 'reaction.deleted'; occurred_at: string; post: WebhookPostRef; reaction: { kind: 'like'; person: WebhookPerson } }
    | {
        /** A post became a comment of `post` (docs/ARCHITECTURE.md "Threads and merges"); its old link redirects there. */
        event: 'post.merged';
        occurred_at: string;
        post: WebhookPostRef;
        merged: { id: string; title: string; comment_id: string; url: string | null };
      }
    | { event: 'person.erased'; occurred_at: string; person: { id: string } }
  );

/** Every event type, in the order the README lists them. */
export const EVENT_TYPES = [
  'post.created',
  'post.updated',
  'post.deleted',
  'post.merged',
  'comment.created',
  'comment.updated',
  'comment.deleted',
  'reaction.created',
  'reaction.deleted',
  'person.erased',
] as const satisfies readonly WebhookEvent['event'][];
export type EventType = (typeof EVENT_TYPES)[number];
