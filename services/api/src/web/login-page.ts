import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { translator } from '@blend/core';
import { authenticateApiToken } from '@blend/db';
import { html } from './html';
import { layout, sendHtml, tHtml, type PageContext } from './layout';
import { assertCsrf, assertSameOrigin, endSession, startSession } from './session';
import { helmetOptions } from '../security-headers';
import { pageLanguage, safeReturnTo, type WebDeps } from './web-deps';

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{10,200}$/;

function loginForm(req: FastifyRequest, reply: FastifyReply, deps: WebDeps, status: number, next: string, sso: boolean, error?: 'invalidToken'): FastifyReply {
  const lang = pageLanguage(req, deps.defaultLanguage);
  const t = translator(lang, 'web');
  const ctx: PageContext = { me: null, csrf: null, lang, t };
  const main = html`<h1>${t('login.heading')}</h1>
${error ? html`<p role="alert" class="error" id="login-error">${t(`login.${error}`)}</p>` : ''}
${sso ? html`<form method="post" action="/web/auth/start" class="narrow"><input type="hidden" name="next" value="${next}">
<button type="submit">${t('login.sso')}</button></form>
<h2>${t('login.orToken')}</h2>` : ''}
<form method="post" action="/web/login" class="narrow">
<input type="hidden" name="next" value="${next}">
<label for="token">${t('login.token')}</label>
<input id="token" name="token" type="password" autocomplete="current-password" required maxlength="200"${error ? html` aria-describedby="login-error" aria-invalid="true"` : ''}>
<p class="hint">${tHtml(t, 'login.tokenHint', { command: html`<code>pnpm blend people add</code>` })}</p>
<button type="submit">${t('login.submit')}</button></form>`;
  return sendHtml(reply, status, layout(ctx, { title: t('login.title'), current: '/web/login', main }));
}

/**
 * The pages' CSP with the IdP added to `form-action`: the "company account" form's answer
 * redirects there, and browsers check the redirect against the form page's policy.
 */
function webCspWithFormAction(publicUrl: string | undefined, origins: string[]): string {
  const csp = helmetOptions('web', publicUrl?.startsWith('https:') ?? false).contentSecurityPolicy;
  const directives = { ...(csp as { directives: Record<string, string[]> }).directives };
  directives['form-action'] = [...(directives['form-action'] ?? []), ...origins];
  return Object.entries(directives).map(([name, values]) => [name, ...values].join(' ')).join('; ');
}

/** `/web/login` (token form, opening a web session) and `/web/logout` (ending it). */
export function loginPages(app: FastifyInstance, deps: WebDeps): void {
  const sso = deps.oidcClient !== undefined;
  app.get('/', async (_req, reply) => reply.redirect('/web', 302));

  app.get<{ Querystring: { next?: string } }>(
    '/web/login',
    { schema: { querystring: { type: 'object', additionalProperties: false, properties: { next: { type: 'string', maxLength: 2000 } } } } },
    async (req, reply) => {
      if (deps.oidcClient) void reply.header('content-security-policy', webCspWithFormAction(deps.publicUrl, deps.oidcClient.formActionOrigins()));
      return loginForm(req, reply, deps, 200, safeReturnTo(req.query.next, '/web'), sso);
    },
  );

  app.post<{ Body: { token: string; next?: string } }>(
    '/web/login',
    {
      schema: {
        body: { type: 'object', required: ['token'], additionalProperties: false, properties: { token: { type: 'string', maxLength: 300 }, next: { type: 'string', maxLength: 2000 } } },
      },
    },
    async (req, reply) => {
      // No session yet, so no CSRF token: the Origin check stops login CSRF.
      assertSameOrigin(req, deps.publicUrl);
      const token = req.body.token.trim();
      const next = safeReturnTo(req.body.next, '/web');
      const found = TOKEN_SHAPE.test(token) ? await authenticateApiToken(deps.db, token) : undefined;
      if (!found) {
        if (deps.oidcClient) void reply.header('content-security-policy', webCspWithFormAction(deps.publicUrl, deps.oidcClient.formActionOrigins()));
        return loginForm(req, reply, deps, 401, next, sso, 'invalidToken');
      }
      // The cookie gets a session of its own, never the token (docs/SECURITY.md S1).
      await startSession(req, reply, deps, { personId: found.person.id, via: 'token', apiTokenId: found.tokenId });
      return reply.redirect(next, 303);
    },
  );

  app.post<{ Body: { _csrf?: string } }>(
    '/web/logout',
    { preHandler: deps.auth, schema: { body: { type: 'object', additionalProperties: false, properties: { _csrf: { type: 'string', maxLength: 100 } } } } },
    async (req, reply) => {
      assertCsrf(req, deps, req.body._csrf);
      await endSession(req, reply, deps);
      return reply.redirect('/web/login', 303);
    },
  );
}
