/**
 * Response schemas of the ESN JSON API, for /docs and for Fastify's serializer. They name
 * every property of the views in packages/db (`EsnPostView`, `GroupSummary`…): the
 * serializer drops a property that is not named here, so test/openapi.test.ts compares
 * the answers with the views themselves. Objects stay open so that fields can be added.
 */
import { REACTION_EMOJI, REACTION_KINDS } from '@blend/core';
import { DIGEST_FREQUENCIES, schema } from '@blend/db';

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const bool = { type: 'boolean' } as const;
const uuid = { type: 'string', format: 'uuid' } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const nullableString = (description: string) => ({ type: ['string', 'null'], description }) as const;
// Nullable in the type too: fast-json-stringify writes a null as "" for a plain date-time.
const nullableDateTime = (description: string) => ({ type: ['string', 'null'], format: 'date-time', description }) as const;
const nullableUuid = (description: string) => ({ type: ['string', 'null'], format: 'uuid', description }) as const;
const arrayOf = <T extends object>(items: T) => ({ type: 'array', items }) as const;
/** An object with these properties, all required, and maybe some optional ones. */
const object = <P extends Record<string, object>, O extends Record<string, object> = Record<never, object>>(properties: P, optional?: O, description?: string) =>
  ({ type: 'object', required: Object.keys(properties), properties: { ...properties, ...optional } as P & O, ...(description ? { description } : {}) }) as const;
const tombstone = { type: 'boolean', enum: [true], description: 'retracted: kept as a tombstone without content' } as const;
const source = { type: 'string', enum: ['email', 'esn'] } as const;

const person = object({ id: uuid, email: str, name: str });

const editedAt = nullableDateTime('when last edited through the ESN');

/**
 * What extraction cut from a mirrored mail. It quotes other people, some of whom may not have
 * opted in, so it goes only to the mail's author, who received every word of it already.
 */
const trimmedText = nullableString(
  'What Blend cut from the mail this came from (quoted history as `> ` lines, signature, footers, disclaimers), in order and redacted like the body. ' +
    'Only on GET /api/v1/posts/:id (the feed leaves it out to keep pages small), and only for the mail\'s own author: ' +
    'it quotes other people, possibly people who have not opted in, so every other reader (admins included; they have the audited ' +
    'GET /api/v1/admin/inbound/{id}/source) gets null. Null too when nothing was cut, and for ESN posts.',
);

/** Moderation, shown to the item's author only (docs/SECURITY.md, moderation). */
const hiddenInfo = object(
  { hidden_at: dateTime, reason: str },
  {},
  'Only on GET /api/v1/posts/:id and only to its author: an admin hid this item (when and why). Everyone else gets 404 for a hidden post and a tombstone for a hidden comment.',
);

export const commentView = object(
  { id: uuid, author: person, body_text: str, body_html: str, source, created_at: dateTime, edited_at: editedAt },
  { deleted: tombstone, trimmed_text: trimmedText, hidden: hiddenInfo },
);

/** The like count clients that know only likes read, and every reaction of the allow-list with its count. */
export const reactionsView = object({
  like: { ...int, description: 'likes (the 👍 reaction): what mail and older clients know' },
  liked_by_me: bool,
  counts: { ...object(Object.fromEntries(REACTION_KINDS.map((k) => [k, int]))), description: `each reaction of the allow-list: ${REACTION_KINDS.map((k) => `${k} ${REACTION_EMOJI[k].emoji}`).join(', ')}` },
});

/** What a reaction endpoint answers: the counts and the reader's own reactions. */
export const myReactionsView = object({
  ...reactionsView.properties,
  mine: { type: 'array', items: { type: 'string', enum: [...REACTION_KINDS] }, description: 'the reactions the reader gave' },
});

/** A post, its comments described by `comments`: the thread has them all, a feed item its latest few. */
const postViewWith = (comments: string) => object(
  {
    id: uuid,
    group: object({ id: uuid, slug: str, name: str }),
    title: str,
    body_text: str,
    body_html: str,
    source,
    author: person,
    created_at: dateTime,
    edited_at: editedAt,
    comments: { ...arrayOf(commentView), description: comments },
    comment_count: { type: 'integer', description: 'comments that are not retracted, whether or not `comments` holds them all' },
    withheld_replies: { type: 'integer', description: 'replies from people not opted in: counted, never shown' },
    tags: arrayOf(str),
    reactions: reactionsView,
    attachments: arrayOf(
      object(
        {
          id: uuid,
          name: str,
          content_type: str,
          size: int,
          url: nullableString('GET it with the same token; null when the file was not stored'),
          inline: { type: 'boolean' },
          comment_id: { type: ['string', 'null'], format: 'uuid' },
          omitted: nullableString('why the file was not stored: too_large, total_too_large, empty'),
          note: nullableString('e.g. that winmail.dat is an Outlook rich-text container'),
        },
        {},
        "a file that came with the post, or with one of the comments in `comments` (never a retracted comment's)",
      ),
    ),
    forwarded: arrayOf(object({ from: str, date: nullableString('as the forwarded message gave it'), subject: str, text: str }, {}, 'a forwarded message shared with the post')),
  },
  { deleted: tombstone, trimmed_text: trimmedText, hidden: hiddenInfo },
);

/** A thread: the post with every comment. */
export const postView = postViewWith('every comment in time order; a retracted one as a tombstone');
/** A post in the feed: its latest comments only. */
export const feedPostView = postViewWith('the latest `?comments=` comments that are not retracted, in time order; the thread has them all');

/**
 * An ActivityStreams 2.0 object (a Note, Tombstone or OrderedCollection): only its frame is
 * named here, the rest is serialized as it is.
 */
const activityStreams = (type: string) =>
  ({
    type: 'object',
    required: ['@context', 'type', 'id'],
    additionalProperties: true,
    description: `ActivityStreams 2.0 ${type} (https://www.w3.org/TR/activitystreams-core/)`,
    properties: { '@context': { type: 'string', const: 'https://www.w3.org/ns/activitystreams' }, type: str, id: str },
  }) as const;

/** A 200 answer as JSON, or as AS2 when the Accept header asks for it. */
const jsonOrActivityStreams = (description: string, json: object, as2Type: string) => ({
  description,
  content: { 'application/json': { schema: json }, 'application/activity+json': { schema: activityStreams(as2Type) } },
});

export const feedPage = object({ items: arrayOf(feedPostView), next_cursor: nullableString('pass as ?cursor= for the next page; null on the last') });

const groupItem = object({
  id: uuid,
  slug: str,
  name: str,
  description: str,
  visibility: { type: 'string', enum: ['public', 'private'], description: 'private: only members see its posts and may mail it' },
  archived: { type: 'boolean', description: 'read-only; mail to it is refused with a receipt' },
  archived_at: nullableDateTime('when it was archived'),
  member_count: int,
  address: { type: 'string', description: 'inbound mail address' },
  followed_by_me: bool,
  my_role: nullableString('my role in it (member, owner), null when I am not a member'),
});
export const groupList = object({ items: arrayOf(groupItem) }, {}, 'The groups I may know of, by name');
const groupMember = object({ id: uuid, email: str, name: str, role: str });
export const groupDetail = object({ ...groupItem.properties, members: arrayOf(groupMember) });
export const memberList = object({ items: arrayOf(groupMember) }, {}, 'Members of the group, by name');
export const membership = object({ member: bool });

export const following = object({ following: bool });

const webhookFilter = {
  type: 'object',
  description: 'which events of its types it gets: threads of these groups (slugs), content from this channel',
  properties: { groups: arrayOf(str), origin: source },
} as const;
const webhookProperties = { id: uuid, url: str, events: arrayOf(str), format: str, filter: webhookFilter, active: bool, created_at: dateTime } as const;
export const webhookCreated = object({ ...webhookProperties, secret: { type: 'string', description: 'HMAC key of the signature header, shown only here' } });
const delivery = object({
  id: uuid,
  event: str,
  event_id: nullableUuid('the event delivered (README "Events"); null for deliveries older than the events outbox'),
  state: str,
  attempts: int,
  last_status: { type: ['integer', 'null'], description: 'HTTP status of the last attempt' },
  last_error: nullableString('why the last attempt failed'),
  created_at: dateTime,
  delivered_at: nullableDateTime('when a delivery succeeded'),
});
export const webhookList = object({ items: arrayOf(object({ ...webhookProperties, deliveries: arrayOf(delivery) })) });
export const redelivered = object({ id: uuid }, {}, 'The new delivery, pending');
export const replayed = object({ deliveries: int }, {}, 'How many deliveries were queued');
/** `GET /api/v1/events` (events.ts): events as webhooks carry them in Blend's JSON, each with its place in the stream. */
export const eventPage = object(
  {
    items: arrayOf(object({ position: int, event: { type: 'object', additionalProperties: true, description: 'the event in Blend\'s JSON (README "Events")' } })),
    next_after: { type: ['integer', 'null'], description: 'pass as `after` for the next page; null when there was nothing new (ask again with the same `after`)' },
  },
  {},
  'Events after the cursor, oldest first',
);

/** `GET /healthz` (health.ts). */
export const alive = object({ status: { type: 'string', enum: ['ok'] } }, {}, 'The process is alive');

const readiness = (status: 'ready' | 'not_ready', description: string) =>
  object(
    {
      status: { type: 'string', enum: [status] },
      checks: object({ postgres: str, redis: str }, {}, "each dependency's answer: `ok`, or why not"),
    },
    {},
    description,
  );
/** `GET /readyz` (health.ts): the same body either way, 503 while a dependency fails. */
export const readyResponses = {
  200: readiness('ready', 'Postgres and Redis answer'),
  503: readiness('not_ready', 'Postgres or Redis does not answer'),
};

/** The signed-in person as me.ts shows them. */
const meProperties = {
  id: uuid,
  email: str,
  name: str,
  opt_in: { type: 'string', enum: [...schema.optInState.enumValues], description: 'only `opted_in` people are mirrored' },
  admin: bool,
  digest_frequency: { type: 'string', enum: [...DIGEST_FREQUENCIES] },
} as const;
export const meView = object(meProperties, {}, 'The signed-in person');
export const optInResult = object(
  { ...meProperties, released: { type: 'integer', description: 'withheld mails sent back to the pipeline by opting in' } },
  {},
  'The person after the change',
);

/** An inbound mail as `listInboundRows` (packages/db) lists it: no bodies. */
const inboundItem = object({
  id: uuid,
  mailbox: { type: 'string', description: '`imap://user@host:port/folder`, never the password' },
  uid: int,
  message_id: nullableString('the Message-ID header'),
  sender: nullableString('canonical From address'),
  subject: nullableString('decoded subject'),
  state: { type: 'string', enum: [...schema.inboundState.enumValues] },
  reason: nullableString('stable code of a non-success state, e.g. too_large'),
  post_id: nullableUuid('the post it became'),
  comment_id: nullableUuid('the comment it became'),
  size: { type: 'integer', description: 'RFC822.SIZE in bytes' },
  received_at: dateTime,
  processed_at: nullableDateTime('when the pipeline was done with it'),
});
export const inboundList = object({ items: arrayOf(inboundItem) }, {}, 'Inbound mail, newest first');

/** Every error of the API (errors.ts). */
const errorBody = object({ error: object({ code: { type: 'string', description: 'stable, e.g. VALIDATION, NOT_FOUND' }, message: str }) });

const ERROR_DESCRIPTIONS = {
  400: 'VALIDATION: the request does not match this schema',
  401: 'UNAUTHORIZED: no valid bearer token',
  403: 'FORBIDDEN: not opted in, not the author, or not an admin',
  404: 'NOT_FOUND',
  409: 'CONFLICT: it exists already',
  410: 'SOURCE_PURGED: the raw mail is no longer stored (purged after BLEND_RAW_RETENTION_DAYS, or erased)',
} as const;

/** The error answers a route can give, each `{ error: { code, message } }`. */
export function errors(...codes: (keyof typeof ERROR_DESCRIPTIONS)[]): Record<number, object> {
  return Object.fromEntries(codes.map((c) => [c, { ...errorBody, description: ERROR_DESCRIPTIONS[c] }]));
}

/** Responses of `GET /api/v1/feed` and `GET /api/v1/posts/:id`. */
export const feedResponses = { 200: jsonOrActivityStreams('A page of the feed', feedPage, 'OrderedCollection of Notes'), ...errors(400, 401) };
/** A post merged into an earlier thread (docs/ARCHITECTURE.md "Threads and merges"): where it lives now. */
const mergedPost = object(
  {
    merged_into: { ...uuid, description: 'the thread the post is part of now' },
    comment_id: nullableUuid('the comment the post became in it'),
    location: { type: 'string', description: 'the path of that thread, as in the Location header' },
  },
  {},
  'The post was merged into an earlier thread, which a later mail proved it belonged to; `Location` names that thread',
);
export const postResponses = {
  200: jsonOrActivityStreams('The thread', postView, 'Note (or Tombstone) with its replies'),
  308: { ...mergedPost, description: mergedPost.description },
  ...errors(401, 404),
};

/** A 204 without a body. */
export const noContent = { type: 'null', description: 'Done; no body' } as const;

const segments = arrayOf(object({ text: str, match: bool }, {}, 'a run of plain text; `match` when it is a word the query matched'));

/** One result of `GET /api/v1/search` (`SearchHit` in packages/db). */
const searchHit = object({
  type: { type: 'string', enum: ['post', 'comment'] },
  id: { ...uuid, description: 'the post or the comment' },
  post_id: { ...uuid, description: 'the thread: the post itself, or the comment\'s post' },
  title: { type: 'string', description: 'the thread\'s title' },
  group: object({ id: uuid, slug: str, name: str }),
  author: person,
  source,
  created_at: dateTime,
  language: { type: 'string', description: 'the text search configuration the text was indexed in (english, german, … simple)' },
  score: { type: 'number', description: 'the order of the results (log of relevance plus recency); only for comparing results of one search' },
  highlight: object({ title: segments, text: segments }, {}, 'the title, and up to two passages of the text, with the matches marked'),
});
export const searchPage = object({ items: arrayOf(searchHit), next_cursor: nullableString('pass as ?cursor= for the next page; null on the last') });
/** Responses of `GET /api/v1/search`. */
export const searchResponses = { 200: { ...searchPage, description: 'A page of results, best first' }, ...errors(400, 401) };
