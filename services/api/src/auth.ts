import type { FastifyReply, FastifyRequest } from 'fastify';
import { PermanentError } from '@blend/core';
import { authenticateApiToken, type Database, type Person } from '@blend/db';

declare module 'fastify' {
  interface FastifyRequest {
    person?: Person;
    /** The API token the request came with, or the one its web session was opened with. */
    apiTokenId?: string;
  }
}

/**
 * Bearer-token authentication for `/api/v1`. Tokens come from `blend people add`, the
 * preferences page or `/api/v1/me/tokens`; only their SHA-256 is stored. A missing, unknown,
 * revoked or expired token is a 401 with the same message, so the API does not reveal which
 * tokens exist (docs/SECURITY.md S2).
 */
export function requirePerson(db: Database) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+([A-Za-z0-9_-]{10,200})$/.exec(header);
    const found = m ? await authenticateApiToken(db, m[1]!) : undefined;
    if (!found) {
      void reply.header('www-authenticate', 'Bearer realm="blend"');
      throw new PermanentError('UNAUTHORIZED', 'a valid bearer token is required (see `pnpm blend people add`)');
    }
    req.person = found.person;
    req.apiTokenId = found.tokenId;
  };
}

/** Like requirePerson, and the person must have the admin role (403 otherwise). */
export function requireAdmin(db: Database) {
  const person = requirePerson(db);
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    await person(req, reply);
    if (!req.person?.isAdmin) throw new PermanentError('FORBIDDEN', 'this needs the admin role');
  };
}
