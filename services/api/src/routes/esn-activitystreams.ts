import type { EsnCommentView, EsnPostView, PersonRef } from '@blend/db';

/**
 * ActivityStreams 2.0 (https://www.w3.org/TR/activitystreams-core/) views of the feed, for
 * clients that ask with `Accept: application/activity+json`. Pure functions of the JSON views.
 */

export const AS_CONTEXT = 'https://www.w3.org/ns/activitystreams';
export const AS_MEDIA_TYPE = 'application/activity+json';

/** True when the Accept header asks for AS2 (either media type the spec names, section 8). */
export function wantsActivityStreams(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .some((part) => part.startsWith(AS_MEDIA_TYPE) || (part.startsWith('application/ld+json') && part.includes(AS_CONTEXT)));
}

export interface AsPerson {
  type: 'Person';
  id: string;
  name: string;
}
export interface AsHashtag {
  type: 'Hashtag';
  name: string;
  href: string;
}
export interface AsNote {
  type: 'Note';
  id: string;
  url?: string;
  attributedTo: AsPerson;
  published: string;
  updated?: string;
  name?: string;
  content: string;
  mediaType: 'text/html';
  inReplyTo?: string;
  tag?: AsHashtag[];
  replies?: { type: 'Collection'; totalItems: number; items: (AsNote | AsTombstone)[] };
}
export interface AsTombstone {
  type: 'Tombstone';
  id: string;
  formerType: 'Note';
  published: string;
}

const person = (p: PersonRef): AsPerson => ({ type: 'Person', id: `urn:uuid:${p.id}`, name: p.name || p.email });
const postIri = (base: string, id: string): string => `${base}/api/v1/posts/${id}`;

function commentNote(base: string, postId: string, c: EsnCommentView): AsNote | AsTombstone {
  const id = `${postIri(base, postId)}#comment-${c.id}`;
  if (c.deleted) return { type: 'Tombstone', id, formerType: 'Note', published: c.created_at };
  return {
    type: 'Note',
    id,
    attributedTo: person(c.author),
    published: c.created_at,
    ...(c.edited_at ? { updated: c.edited_at } : {}),
    content: c.body_html,
    mediaType: 'text/html',
    inReplyTo: postIri(base, postId),
  };
}

/**
 * A post as a Note, its comments as `replies`: `totalItems` counts the comments that are not
 * retracted, `items` are those the view holds (all on the thread, the latest few in the feed).
 * Bodies are the stored, sanitised HTML.
 */
export function postToNote(base: string, p: EsnPostView): (AsNote & { '@context': string }) | (AsTombstone & { '@context': string }) {
  if (p.deleted) return { '@context': AS_CONTEXT, type: 'Tombstone', id: postIri(base, p.id), formerType: 'Note', published: p.created_at };
  return { '@context': AS_CONTEXT, ...noteOf(base, p) };
}

function noteOf(base: string, p: EsnPostView): AsNote {
  return {
    type: 'Note',
    id: postIri(base, p.id),
    url: `${base}/web/posts/${p.id}`,
    attributedTo: person(p.author),
    published: p.created_at,
    ...(p.edited_at ? { updated: p.edited_at } : {}),
    ...(p.title ? { name: p.title } : {}),
    content: p.body_html,
    mediaType: 'text/html',
    tag: p.tags.map((t) => ({ type: 'Hashtag', name: `#${t}`, href: `${base}/api/v1/feed?tag=${encodeURIComponent(t)}` })),
    replies: { type: 'Collection', totalItems: p.comment_count, items: p.comments.map((c) => commentNote(base, p.id, c)) },
  };
}

/** A feed page as an OrderedCollection of Notes, newest first. */
export function feedToCollection(base: string, selfUrl: string, items: EsnPostView[]) {
  return {
    '@context': AS_CONTEXT,
    type: 'OrderedCollection' as const,
    id: selfUrl,
    orderedItems: items.map((p) => noteOf(base, p)),
  };
}
