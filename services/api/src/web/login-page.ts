import type { FastifyInstance, FastifyReply } from 'fastify';
import { authenticateApiToken } from '@blend/db';
import { html } from './html';
import { layout, sendHtml, type PageContext } from './layout';
import { assertCsrf, assertSameOrigin, endSession, startSession } from './session';
import { helmetOptions } from '../security-headers';
import { safeReturnTo, type WebDeps } from './web-deps';

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{10,200}$/;

function loginForm(reply: FastifyReply, status: number, next: string, sso: boolean, error?: string): FastifyReply {
  const ctx: PageContext = { me: null, csrf: null };
  const main = html`<h1>Sign in to Blend</h1>
${error ? html`<p role="alert" class="error" id="login-error">${error}</p>` : ''}
${sso ? html`<form method="post" action="/web/auth/start" class="narrow"><input type="hidden" name="next" value="${next}">
<button type="submit">Sign in with your company account</button></form>
<h2>Or with an API token</h2>` : ''}
<form method="post" action="/web/login" class="narrow">
<input type="hidden" name="next" value="${next}">
<label for="token">API token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required maxlength="200"${error ? html` aria-describedby="login-error" aria-invalid="true"` : ''}>
<p class="hint">The token printed by <code>pnpm blend people add</code>, or ask IT for one.</p>
<button type="submit">Sign in</button></form>`;
  return sendHtml(reply, status, layout(ctx, { title: 'Sign in', current: '/web/login', main }));
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
      return loginForm(reply, 200, safeReturnTo(req.query.next, '/web'), sso);
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
        return loginForm(reply, 401, next, sso, 'That token is not valid. Check it and try again.');
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
