import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import { languageOf, PermanentError, translator, type Language } from '@blend/core';
import { personForToken, personForWebSession, type Database, type Person } from '@blend/db';
import type { Queues } from '@blend/queue';
import { html } from '../web/html';
import { layout, sendHtml } from '../web/layout';
import { assertSameOrigin, csrfToken, sessionSecret } from '../web/session';

/** Where the dashboard lives; its UI, static files and JSON API are all under it. */
export const QUEUES_DASHBOARD_PATH = '/admin/queues';

export interface QueuesDashboardDeps {
  db: Database;
  queues: Pick<Queues, 'ingest' | 'ingestBacklog' | 'send' | 'webhook' | 'digest' | 'notify'>;
  /** BLEND_SECRET: keys the CSRF token of the sign-out form on the 403 page. */
  secret: string;
  publicUrl?: string;
  /** BLEND_DEFAULT_LANGUAGE, for the 403 page. @defaultValue 'en' */
  defaultLanguage?: Language;
}

const BEARER = /^Bearer\s+([A-Za-z0-9_-]{10,200})$/;

type Caller = { person: Person; via: 'bearer' | 'cookie' } | { person: null; via: 'bearer' | 'cookie' | 'none' };

/** The bearer token wins over the session cookie; a bad bearer token does not fall back to the cookie. */
async function caller(req: FastifyRequest, db: Database): Promise<Caller> {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const m = BEARER.exec(header);
    return { person: (m ? await personForToken(db, m[1]!) : undefined) ?? null, via: 'bearer' };
  }
  const secret = sessionSecret(req);
  if (!secret) return { person: null, via: 'none' };
  return { person: (await personForWebSession(db, secret))?.person ?? null, via: 'cookie' };
}

/** A browser navigating (as opposed to the dashboard's fetches and asset loads). */
const wantsHtml = (req: FastifyRequest): boolean => req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');

function refuse(reply: FastifyReply, status: 401 | 403, message: string): FastifyReply {
  if (status === 401) void reply.header('www-authenticate', 'Bearer realm="blend"');
  return reply.status(status).send({ error: { code: status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', message } });
}

/**
 * onRequest for every route of the dashboard. It answers itself rather than throwing:
 * bull-board installs its own error handler in its plugin, which would turn our typed
 * errors into 500s.
 */
function adminOnly(deps: QueuesDashboardDeps) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    // Its CSP (inline styles, a <base href>) comes from security-headers.ts ("dashboard").
    void reply.header('cache-control', 'no-store');
    const who = await caller(req, deps.db);
    if (!who.person) {
      // /web/login only returns to /web paths; the admin page links here.
      if (who.via !== 'bearer' && wantsHtml(req)) return reply.redirect(`/web/login?next=${encodeURIComponent('/admin/queues')}`, 303);
      return refuse(reply, 401, 'sign in at /web/login or send a valid bearer token');
    }
    if (!who.person.isAdmin) {
      if (!wantsHtml(req)) return refuse(reply, 403, 'the queue dashboard needs the admin role');
      const secret = sessionSecret(req);
      const lang = languageOf(who.person, deps.defaultLanguage, req.headers['accept-language'] ?? '');
      const t = translator(lang, 'web');
      const ctx = { me: who.person, csrf: secret ? csrfToken(deps.secret, secret) : null, lang, t };
      const main = html`<h1>${t('error.title.forbidden')}</h1><p role="alert">${t('queues.adminOnly')}</p><p><a href="/web">${t('error.back')}</a></p>`;
      return sendHtml(reply, 403, layout(ctx, { title: t('error.title.forbidden'), current: '', main }));
    }
    // The dashboard's actions (retry, clean, pause, obliterate) are JSON requests; with the
    // cookie they must come from this origin (the cookie is SameSite=Strict already).
    if (who.via === 'cookie' && req.method !== 'GET' && req.method !== 'HEAD') {
      try {
        assertSameOrigin(req, deps.publicUrl);
      } catch (err) {
        if (err instanceof PermanentError) return refuse(reply, 403, err.message);
        throw err;
      }
    }
    req.person = who.person;
    return undefined;
  };
}

/**
 * The BullMQ dashboard (bull-board) at `/admin/queues`, for the admin role only: a session
 * cookie from /web/login or a bearer token. Encapsulated, so the cookie parser, the auth
 * hook and the headers apply to the dashboard's page, assets and JSON API and nothing else.
 */
export function queuesDashboardRoutes(app: FastifyInstance, deps: QueuesDashboardDeps): void {
  void app.register(async (scope) => {
    await scope.register(cookie);
    scope.addHook('onRequest', adminOnly(deps));
    const serverAdapter = new FastifyAdapter().setBasePath(QUEUES_DASHBOARD_PATH);
    const { ingest, ingestBacklog, send, webhook, digest, notify } = deps.queues;
    // BullMQ's Queue is generic in its payload; the adapter takes the untyped one.
    const queues = [ingest, ingestBacklog, send, webhook, digest, notify].map((q) => new BullMQAdapter(q as unknown as Queue));
    createBullBoard({ queues, serverAdapter, options: { uiConfig: { boardTitle: 'Blend queues' } } });
    await scope.register(serverAdapter.registerPlugin(), { prefix: QUEUES_DASHBOARD_PATH });
  });
}
