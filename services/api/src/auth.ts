import type { FastifyReply, FastifyRequest } from 'fastify';
import { PermanentError } from '@blend/core';
import { personForToken, type Database, type Person } from '@blend/db';

declare module 'fastify' {
  interface FastifyRequest {
    person?: Person;
  }
}

/**
 * Bearer-token authentication for `/api/v1`. Tokens come from `blend people add`; only
 * their SHA-256 is stored. A missing or unknown token is a 401 with the same message, so
 * the API does not reveal which tokens exist.
 */
export function requirePerson(db: Database) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+([A-Za-z0-9_-]{10,200})$/.exec(header);
    const person = m ? await personForToken(db, m[1]!) : undefined;
    if (!person) {
      void reply.header('www-authenticate', 'Bearer realm="blend"');
      throw new PermanentError('UNAUTHORIZED', 'a valid bearer token is required (see `pnpm blend people add`)');
    }
    req.person = person;
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
