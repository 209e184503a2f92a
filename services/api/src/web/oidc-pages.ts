import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as oidc from 'openid-client';
import { assertNever, decideOidcSignIn, languageOf, translator, type OidcRefusal, type Translate } from '@blend/core';
import { findPersonByEmail, upsertPerson } from '@blend/db';
import { html, type SafeHtml } from './html';
import { layout, sendHtml, tHtml } from './layout';
import { IdpUnavailableError, OIDC_TRANSACTION_MS, openTransaction, sealTransaction, type OidcClient } from './oidc-client';
import { assertSameOrigin, isSecure, startSession } from './session';
import { pageLanguage, safeReturnTo, type WebDeps } from './web-deps';

/** The cookie that carries state, nonce and PKCE verifier to the callback, only there. */
const TX_COOKIE = 'blend_oidc';
const TX_PATH = '/web/auth';
export const OIDC_CALLBACK_PATH = '/web/auth/callback';

const refusal = (t: Translate, why: OidcRefusal, email: string | null): SafeHtml => {
  const strong = html`<strong>${email ?? ''}</strong>`;
  switch (why) {
    case 'no_email':
      return html`<p>${t('oidc.noEmail')}</p>
<p>${tHtml(t, 'oidc.noEmail.fix', { claim: html`<code>email</code>` })}</p>`;
    case 'email_unverified':
      return html`<p>${email ? tHtml(t, 'oidc.unverified.address', { email: strong }) : t('oidc.unverified')}</p>
<p>${t('oidc.unverified.fix')}</p>`;
    case 'unknown_person':
      return html`<p>${tHtml(t, 'oidc.unknown', { email: strong })}</p>
<p>${t('oidc.unknown.fix')}</p>`;
    case 'not_org_domain':
      return html`<p>${tHtml(t, 'oidc.foreign', { email: strong })}</p>
<p>${t('oidc.foreign.fix')}</p>`;
    default:
      return assertNever(why);
  }
};

/** A sign-in page of its own (the person is not signed in yet), in the browser's language. */
function page(req: FastifyRequest, reply: FastifyReply, deps: Pick<WebDeps, 'defaultLanguage'>, status: number, title: (t: Translate) => string, body: (t: Translate) => SafeHtml): FastifyReply {
  const lang = pageLanguage(req, deps.defaultLanguage);
  const t = translator(lang, 'web');
  const main = html`<h1>${title(t)}</h1><div role="alert">${body(t)}</div><p><a href="/web/login">${t('oidc.back')}</a></p>`;
  return sendHtml(reply, status, layout({ me: null, csrf: null, lang, t }, { title: title(t), current: '', main }));
}

/** The redirect URI registered at the IdP: BLEND_PUBLIC_URL/web/auth/callback (the request's own origin without it). */
function redirectUri(req: FastifyRequest, publicUrl: string | undefined): string {
  return `${(publicUrl ?? `${req.protocol}://${req.host}`).replace(/\/+$/, '')}${OIDC_CALLBACK_PATH}`;
}

/**
 * Single sign-on with the company's OpenID Connect IdP (docs/SECURITY.md S3): `POST
 * /web/auth/start` sends the browser to the IdP (authorization code flow, PKCE S256, state,
 * nonce, kept in a signed, short-lived, httpOnly cookie), `GET /web/auth/callback` checks
 * everything, finds the person by verified email and opens a web session.
 */
export function oidcPages(app: FastifyInstance, deps: WebDeps & { oidcClient: OidcClient }): void {
  const client = deps.oidcClient;
  const cookieOpts = (req: FastifyRequest) => ({
    path: TX_PATH,
    httpOnly: true,
    // Lax, not Strict: the browser comes back from the IdP in a cross-site navigation, and a
    // Strict cookie would not be sent with it.
    sameSite: 'lax' as const,
    secure: isSecure(req, deps.publicUrl),
  });

  app.post<{ Body: { next?: string } }>(
    '/web/auth/start',
    { schema: { body: { type: 'object', additionalProperties: false, properties: { next: { type: 'string', maxLength: 2000 } } } } },
    async (req, reply) => {
      assertSameOrigin(req, deps.publicUrl);
      let started;
      try {
        started = await client.start(redirectUri(req, deps.publicUrl), safeReturnTo(req.body?.next, '/web'));
      } catch (err) {
        if (!(err instanceof IdpUnavailableError)) throw err;
        req.log.error({ err }, 'company sign-in unavailable');
        return page(req, reply, deps, 503, (t) => t('oidc.unavailable.title'), (t) => html`<p>${t('oidc.unavailable.orToken')}</p>`);
      }
      void reply.setCookie(TX_COOKIE, sealTransaction(deps.secret, started.tx), { ...cookieOpts(req), maxAge: OIDC_TRANSACTION_MS / 1000 });
      return reply.redirect(started.url.href, 303);
    },
  );

  app.get('/web/auth/callback', async (req, reply) => {
    const tx = openTransaction(deps.secret, req.cookies[TX_COOKIE]);
    // One use: whatever happens next, this transaction is spent.
    void reply.clearCookie(TX_COOKIE, cookieOpts(req));
    if (!tx) {
      req.log.warn('company sign-in callback without a valid transaction');
      return page(req, reply, deps, 400, (t) => t('oidc.expired.title'), (t) => html`<p>${t('oidc.expired')}</p>`);
    }
    let claims;
    try {
      // The redirect URI as registered, with the answer's query: a proxy that strips a path
      // prefix must not change what is compared with the registration.
      const callback = new URL(redirectUri(req, deps.publicUrl));
      callback.search = new URL(req.url, 'http://callback.invalid').search;
      claims = await client.finish(callback, tx);
    } catch (err) {
      if (err instanceof IdpUnavailableError) {
        req.log.error({ err }, 'company sign-in unavailable');
        return page(req, reply, deps, 503, (t) => t('oidc.unavailable.title'), (t) => html`<p>${t('oidc.unavailable')}</p>`);
      }
      // Never the error's whole object: it may carry the IdP's response.
      const code = err instanceof oidc.AuthorizationResponseError ? err.error : ((err as { code?: string }).code ?? (err as Error).name);
      req.log.warn({ reason: code, message: (err as Error).message }, 'company sign-in refused');
      return page(req, reply, deps, 400, (t) => t('oidc.failed.title'), (t) => html`<p>${t('oidc.failed')}</p>`);
    }
    const existing = typeof claims.email === 'string' ? await findPersonByEmail(deps.db, claims.email.trim()) : undefined;
    const decision = decideOidcSignIn(claims, { personExists: (e) => existing?.email === e, createPeople: client.settings.createPeople, orgDomains: client.settings.orgDomains });
    let personId: string;
    switch (decision.kind) {
      case 'refused':
        req.log.info({ reason: decision.reason, sub: claims.sub }, 'company sign-in refused');
        return page(req, reply, deps, 403, (t) => t('oidc.refused.title'), (t) => refusal(t, decision.reason, decision.email));
      case 'sign_in':
        personId = existing!.id;
        break;
      case 'create': {
        const { person } = await upsertPerson(deps.db, { email: decision.email, name: decision.name });
        req.log.info({ personId: person.id }, 'person created at first company sign-in');
        personId = person.id;
        break;
      }
    }
    await startSession(req, reply, deps, { personId, via: 'oidc' });
    // A page, not a redirect: the browser arrived here from the IdP's site, and a SameSite=Strict
    // session cookie is sent only with a navigation this origin starts itself.
    const lang = languageOf(existing, deps.defaultLanguage, req.headers['accept-language'] ?? '');
    const t = translator(lang, 'web');
    const done = html`<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="0;url=${tx.next}">
<title>${t('oidc.signedIn')} · Blend</title>
<link rel="stylesheet" href="/web/static/app.css">
</head>
<body><main id="main"><h1>${t('oidc.signedIn')}</h1><p><a href="${tx.next}">${t('oidc.continue')}</a></p></main></body>
</html>`;
    return sendHtml(reply, 200, done);
  });
}
