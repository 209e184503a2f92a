import type { FastifyInstance } from 'fastify';
import { findPersonByEmail, releaseWithheld, setOptIn, type Database } from '@blend/db';
import { requeueIngest, type Queues } from '@blend/queue';
import { requirePerson } from '../auth';
import { errors, meView, optInResult } from './esn-responses';
import { BEARER, bodySchema } from './esn-schemas';

/** The signed-in person, and their opt-in through the API (the web uses the same routes). */
export function meRoutes(app: FastifyInstance, deps: { db: Database; queues: Pick<Queues, 'ingest'>; withheldRetentionDays: number }): void {
  const auth = requirePerson(deps.db);
  const view = (p: NonNullable<Awaited<ReturnType<typeof findPersonByEmail>>>) => ({
    id: p.id,
    email: p.email,
    name: p.name,
    opt_in: p.optIn,
    admin: p.isAdmin,
    digest_frequency: p.digestFrequency,
  });

  app.get(
    '/api/v1/me',
    { preHandler: auth, schema: { tags: ['me'], summary: 'Who the token belongs to', security: BEARER, response: { 200: meView, ...errors(401) } } },
    async (req) => view(req.person!),
  );

  app.put<{ Body: { state: 'opted_in' | 'opted_out' } }>(
    '/api/v1/me/opt-in',
    {
      preHandler: auth,
      schema: {
        tags: ['me'],
        summary: 'Opt in or out of mirroring; opting in releases my withheld mail',
        security: BEARER,
        body: bodySchema(['state'], { state: { type: 'string', enum: ['opted_in', 'opted_out'] } }),
        response: { 200: optInResult, ...errors(400, 401) },
      },
    },
    async (req) => {
      const me = req.person!;
      const released = await deps.db.transaction(async (tx) => {
        if (me.optIn !== req.body.state) await setOptIn(tx, me.id, req.body.state, 'api', me.id);
        return req.body.state === 'opted_in'
          ? releaseWithheld(tx, me.email, new Date(Date.now() - deps.withheldRetentionDays * 86_400_000))
          : [];
      });
      for (const id of released) await requeueIngest(deps.queues.ingest, id).catch((err: unknown) => req.log.warn({ err, inboundId: id }, 'enqueue failed; left to the reconciler'));
      const fresh = (await findPersonByEmail(deps.db, me.email))!;
      return { ...view(fresh), released: released.length };
    },
  );
}
