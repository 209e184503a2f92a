import type { FastifyRequest } from 'fastify';

/** JSON-schema pieces shared by the ESN routes; @fastify/swagger turns them into /docs. */

export const BEARER = [{ bearer: [] }];

/** Ids are checked in the handler so a malformed one is a 404 like an unknown one. */
export const idParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', maxLength: 100, description: 'uuid' } },
} as const;

export const SLUG_PATTERN = '^[a-z0-9][a-z0-9._-]{0,62}$';

export const slugParams = {
  type: 'object',
  required: ['slug'],
  additionalProperties: false,
  properties: { slug: { type: 'string', pattern: SLUG_PATTERN } },
} as const;

export const BODY_MAX = 20_000;
export const TITLE_MAX = 255; // as for mail subjects (core renderMailContent)

/** A request body with these properties and no others. */
export function bodySchema(required: string[], properties: Record<string, object>, extra: Record<string, unknown> = {}) {
  return { type: 'object', required, additionalProperties: false, properties, ...extra } as const;
}

export const textBody = { type: 'string', minLength: 1, maxLength: BODY_MAX, description: 'plain text; rendered as sanitised HTML' } as const;
export const titleProp = { type: 'string', maxLength: TITLE_MAX, description: 'defaults to the first line of the body' } as const;

/**
 * The base URL of this API as the client reached it, for ActivityStreams ids. BLEND_PUBLIC_URL
 * wins, since behind a proxy the Host header is the proxy's business.
 */
export function baseUrl(req: FastifyRequest, publicUrl: string | undefined): string {
  return (publicUrl ?? `${req.protocol}://${req.host}`).replace(/\/+$/, '');
}
