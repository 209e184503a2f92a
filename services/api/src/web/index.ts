import { readFileSync } from 'node:fs';
import type { FastifyError, FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import { PermanentError } from '@blend/core';
import { httpStatus } from '../errors';
import { adminPages } from './admin-page';
import { insightsPages } from './insights-page';
import { feedPages } from './feed-page';
import { composerPages } from './composer';
import { reactionPages } from './reactions-view';
import { groupPages } from './group-pages';
import { html, type SafeHtml } from './html';
import { layout, sendHtml, type PageContext } from './layout';
import { loginPages } from './login-page';
import { OidcClient } from './oidc-client';
import { oidcPages } from './oidc-pages';
import { preferencePages } from './preferences-page';
import { searchPages } from './search-page';
import { LoginRequired, requireWebPerson } from './session';
import { threadPages } from './thread-page';
import { pageContext, type WebDeps } from './web-deps';

const CSS = readFileSync(new URL('./static/app.css', import.meta.url), 'utf8');
const LIVE_JS = readFileSync(new URL('./static/live.js', import.meta.url), 'utf8');

/**
 * A failure's explanation on an error page. The details of a PermanentError or a validation
 * failure are the API's words, which stay English (they are for programs and logs): an
 * English page shows them as they are; another language says what happened in its own words
 * and keeps the detail below, marked as English.
 */
function errorMessage(ctx: PageContext, status: number, detail: string | null): SafeHtml {
  const { t } = ctx;
  if (detail === null) return html`<p role="alert">${t('error.unexpected')}</p>`;
  if (ctx.lang === 'en') return html`<p role="alert">${detail}</p>`;
  const said = status === 403 ? t('error.forbidden') : status === 404 ? t('error.notFound') : status === 400 ? t('error.invalid') : t('error.failed');
  return html`<p role="alert">${said}</p><p class="hint" lang="en">${detail}</p>`;
}

/** Errors on the pages are pages too: a login redirect, or a short message with a way back. */
function installWebErrors(app: FastifyInstance, deps: Pick<WebDeps, 'secret' | 'defaultLanguage'>): void {
  app.setErrorHandler((err: FastifyError | PermanentError | LoginRequired, req, reply) => {
    if (err instanceof LoginRequired) {
      const next = req.method === 'GET' ? `?next=${encodeURIComponent(req.url)}` : '';
      return reply.redirect(`/web/login${next}`, 303);
    }
    let status = 500;
    let detail: string | null = null;
    if (err instanceof PermanentError) [status, detail] = [httpStatus(err.code), err.message];
    else if ((err as FastifyError).validation) [status, detail] = [400, `The form is not valid: ${err.message}`];
    else req.log.error({ err }, 'web page failed');
    const ctx = pageContext(req, deps);
    const { t } = ctx;
    const title = status === 403 ? t('error.title.forbidden') : status === 404 ? t('error.title.notFound') : status === 400 ? t('error.title.invalid') : t('error.title.other');
    const main = html`<h1>${title}</h1>${errorMessage(ctx, status, detail)}<p><a href="/web">${t('error.back')}</a></p>`;
    return sendHtml(reply, status, layout(ctx, { title, current: '', main }));
  });
}

/**
 * The server-rendered web pages under `/web` (and `/` redirecting there). Encapsulated:
 * the cookie parser and the HTML error handler apply to these routes only.
 */
export function webRoutes(app: FastifyInstance, deps: Omit<WebDeps, 'auth' | 'oidcClient'>): void {
  void app.register(async (web) => {
    await web.register(cookie);
    installWebErrors(web, deps);
    const oidcClient = deps.oidc ? new OidcClient(deps.oidc) : undefined;
    // Discover the IdP now, so the login page knows where its form leads; a failure is only
    // logged (the next sign-in tries again, and token sign-in works meanwhile).
    oidcClient?.configuration().catch((err: unknown) => deps.log.warn({ err }, 'company sign-in: IdP discovery failed; retried at the next sign-in'));
    const full: WebDeps = { ...deps, auth: requireWebPerson(deps.db), ...(oidcClient ? { oidcClient } : {}) };
    web.get('/web/static/app.css', async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(CSS));
    // The live updates of the feed and thread pages (docs/ARCHITECTURE.md "Live updates"); the pages work without it.
    web.get('/web/static/live.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(LIVE_JS));
    loginPages(web, full);
    if (oidcClient) oidcPages(web, { ...full, oidcClient });
    feedPages(web, full);
    composerPages(web, full);
    reactionPages(web, full);
    groupPages(web, full);
    threadPages(web, full);
    preferencePages(web, full);
    searchPages(web, full);
    adminPages(web, full);
    insightsPages(web, full);
  });
}
