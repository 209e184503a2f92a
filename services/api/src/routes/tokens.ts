import type { FastifyInstance } from 'fastify';
import { isUuid, PermanentError } from '@blend/core';
import { createApiToken, endOtherWebSessions, findPersonById, listApiTokens, revokeApiToken, type ApiTokenInfo, type Database } from '@blend/db';
import { requireAdmin, requirePerson } from '../auth';
import { errors, noContent } from './esn-responses';
import { BEARER, bodySchema } from './esn-schemas';

/** Longest expiry a token can be given, in days (about ten years). */
export const TOKEN_MAX_DAYS = 3650;
export const TOKEN_NAME_MAX = 100;

const dateTime = { type: 'string', format: 'date-time' } as const;
const nullableDateTime = (description: string) => ({ type: ['string', 'null'], format: 'date-time', description }) as const;
const tokenProperties = {
  id: { type: 'string', format: 'uuid' },
  name: { type: 'string', description: 'what its owner called it' },
  created_at: dateTime,
  last_used_at: nullableDateTime('when a request last used it (to the minute); null if never'),
  expires_at: nullableDateTime('after this it is refused; null = until revoked'),
  expired: { type: 'boolean', description: 'past its expiry: refused like an unknown token' },
} as const;
const tokenView = { type: 'object', required: Object.keys(tokenProperties), properties: tokenProperties } as const;
const tokenList = { type: 'object', required: ['items'], properties: { items: { type: 'array', items: tokenView } }, description: 'Tokens not revoked, newest first' } as const;
const tokenCreated = {
  type: 'object',
  required: [...Object.keys(tokenProperties), 'token'],
  properties: { ...tokenProperties, token: { type: 'string', description: 'the bearer token, shown only here: Blend keeps only its SHA-256' } },
  description: 'The new token, with its value',
} as const;
const tokenParams = { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', maxLength: 100, description: 'uuid' } } } as const;
const personTokenParams = {
  type: 'object',
  required: ['id', 'tokenId'],
  additionalProperties: false,
  properties: { id: { type: 'string', maxLength: 100, description: 'person uuid' }, tokenId: { type: 'string', maxLength: 100, description: 'token uuid' } },
} as const;
const personParams = { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', maxLength: 100, description: 'person uuid' } } } as const;

/** A token as the API shows it: never its value or hash. */
export function tokenJson(t: ApiTokenInfo, now = new Date()) {
  return {
    id: t.id,
    name: t.name,
    created_at: t.createdAt.toISOString(),
    last_used_at: t.lastUsedAt?.toISOString() ?? null,
    expires_at: t.expiresAt?.toISOString() ?? null,
    expired: t.expiresAt !== null && t.expiresAt <= now,
  };
}

/**
 * API tokens with a lifecycle (docs/SECURITY.md S2): a person lists, creates and revokes their
 * own; an admin lists and revokes anyone's, and can end all of someone's web sessions.
 */
export function tokenRoutes(app: FastifyInstance, deps: { db: Database }): void {
  const auth = requirePerson(deps.db);
  const admin = requireAdmin(deps.db);

  app.get('/api/v1/me/tokens', { preHandler: auth, schema: { tags: ['me'], summary: 'My API tokens (never their values)', security: BEARER, response: { 200: tokenList, ...errors(401) } } }, async (req) => ({
    items: (await listApiTokens(deps.db, req.person!.id)).map((t) => tokenJson(t)),
  }));

  app.post<{ Body: { name: string; expires_in_days?: number } }>(
    '/api/v1/me/tokens',
    {
      preHandler: auth,
      schema: {
        tags: ['me'],
        summary: 'Create an API token; its value is in this answer only',
        security: BEARER,
        body: bodySchema(['name'], {
          name: { type: 'string', minLength: 1, maxLength: TOKEN_NAME_MAX, description: 'what it is for, e.g. "laptop script"' },
          expires_in_days: { type: 'integer', minimum: 1, maximum: TOKEN_MAX_DAYS, description: 'refused after this many days; omit for no expiry. Never later than the token this request is made with' },
        }),
        response: { 201: tokenCreated, ...errors(400, 401) },
      },
    },
    async (req, reply) => {
      const name = req.body.name.trim();
      if (!name) throw new PermanentError('VALIDATION', 'name must not be blank');
      const { token, info } = await createApiToken(deps.db, req.person!.id, {
        name,
        ...(req.body.expires_in_days ? { expiresInDays: req.body.expires_in_days } : {}),
        ...(req.apiTokenId ? { notAfterToken: req.apiTokenId } : {}),
      });
      req.log.info({ personId: req.person!.id, tokenId: info.id }, 'api token created');
      return reply.status(201).send({ ...tokenJson(info), token });
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/me/tokens/:id',
    { preHandler: auth, schema: { tags: ['me'], summary: 'Revoke one of my tokens (and web sessions opened with it)', security: BEARER, params: tokenParams, response: { 204: noContent, ...errors(401, 404) } } },
    async (req, reply) => {
      if (!isUuid(req.params.id) || !(await revokeApiToken(deps.db, req.person!.id, req.params.id))) throw new PermanentError('NOT_FOUND', 'no such token');
      req.log.info({ personId: req.person!.id, tokenId: req.params.id }, 'api token revoked');
      return reply.status(204).send();
    },
  );

  const personOr404 = async (id: string) => {
    const p = isUuid(id) ? await findPersonById(deps.db, id) : undefined;
    if (!p) throw new PermanentError('NOT_FOUND', 'no such person');
    return p;
  };

  app.get<{ Params: { id: string } }>(
    '/api/v1/admin/people/:id/tokens',
    { preHandler: admin, schema: { tags: ['admin'], summary: "A person's API tokens (never their values)", security: BEARER, params: personParams, response: { 200: tokenList, ...errors(401, 403, 404) } } },
    async (req) => {
      const p = await personOr404(req.params.id);
      return { items: (await listApiTokens(deps.db, p.id)).map((t) => tokenJson(t)) };
    },
  );

  app.delete<{ Params: { id: string; tokenId: string } }>(
    '/api/v1/admin/people/:id/tokens/:tokenId',
    {
      preHandler: admin,
      schema: { tags: ['admin'], summary: "Revoke a person's token (audited)", security: BEARER, params: personTokenParams, response: { 204: noContent, ...errors(401, 403, 404) } },
    },
    async (req, reply) => {
      const p = await personOr404(req.params.id);
      if (!isUuid(req.params.tokenId) || !(await revokeApiToken(deps.db, p.id, req.params.tokenId, req.person!.id))) throw new PermanentError('NOT_FOUND', 'no such token');
      req.log.info({ personId: p.id, tokenId: req.params.tokenId, by: req.person!.id }, 'api token revoked by an admin');
      return reply.status(204).send();
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/admin/people/:id/sessions',
    { preHandler: admin, schema: { tags: ['admin'], summary: "End all of a person's web sessions", security: BEARER, params: personParams, response: { 204: noContent, ...errors(401, 403, 404) } } },
    async (req, reply) => {
      const p = await personOr404(req.params.id);
      const ended = await endOtherWebSessions(deps.db, p.id);
      req.log.info({ personId: p.id, ended, by: req.person!.id }, 'web sessions ended by an admin');
      return reply.status(204).send();
    },
  );
}
