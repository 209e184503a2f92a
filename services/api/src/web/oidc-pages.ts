import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as oidc from 'openid-client';
import { decideOidcSignIn, type OidcRefusal } from '@blend/core';
import { findPersonByEmail, upsertPerson } from '@blend/db';
import { html, type SafeHtml } from './html';
import { layout, sendHtml } from './layout';
import { IdpUnavailableError, OIDC_TRANSACTION_MS, openTransaction, sealTransaction, type OidcClient } from './oidc-client';
import { assertSameOrigin, isSecure, startSession } from './session';
import { safeReturnTo, type WebDeps } from './web-deps';

/** The cookie that carries state, nonce and PKCE verifier to the callback, only there. */
const TX_COOKIE = 'blend_oidc';
const TX_PATH = '/web/auth';
export const OIDC_CALLBACK_PATH = '/web/auth/callback';

const REFUSALS: Record<OidcRefusal, (email: string | null) => SafeHtml> = {
  no_email: () => html`<p>Your company account did not tell Blend your email address, so Blend cannot tell who you are.</p>
<p>Ask IT to let Blend read the <code>email</code> claim of your account.</p>`,
  email_unverified: (email) => html`<p>Your company account says your email address${email ? html` (<strong>${email}</strong>)` : ''} has not been verified, so Blend cannot be sure it is yours and does not sign you in with it.</p>
<p>Ask IT to check the address of your account at the company sign-in.</p>`,
  unknown_person: (email) => html`<p>Blend does not know <strong>${email ?? ''}</strong> yet.</p>
<p>Ask IT to add you to Blend; then sign in again.</p>`,
  not_org_domain: (email) => html`<p><strong>${email ?? ''}</strong> is not an address of your organisation, so Blend cannot create an account for it.</p>
<p>Ask IT to add you to Blend.</p>`,
};

function page(reply: FastifyReply, status: number, title: string, body: SafeHtml): FastifyReply {
  const main = html`<h1>${title}</h1><div role="alert">${body}</div><p><a href="/web/login">Back to sign-in</a></p>`;
  return sendHtml(reply, status, layout({ me: null, csrf: null }, { title, current: '', main }));
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
        return page(reply, 503, 'Company sign-in unavailable', html`<p>Your company's sign-in service cannot be reached right now. Try again in a few minutes, or sign in with an API token.</p>`);
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
      return page(reply, 400, 'Sign-in expired', html`<p>This sign-in was not started here, or took too long. Start again from the sign-in page.</p>`);
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
        return page(reply, 503, 'Company sign-in unavailable', html`<p>Your company's sign-in service cannot be reached right now. Try again in a few minutes.</p>`);
      }
      // Never the error's whole object: it may carry the IdP's response.
      const code = err instanceof oidc.AuthorizationResponseError ? err.error : ((err as { code?: string }).code ?? (err as Error).name);
      req.log.warn({ reason: code, message: (err as Error).message }, 'company sign-in refused');
      return page(reply, 400, 'Sign-in did not work', html`<p>The company sign-in could not be completed or checked, so you are not signed in. Start again from the sign-in page.</p>`);
    }
    const existing = typeof claims.email === 'string' ? await findPersonByEmail(deps.db, claims.email.trim()) : undefined;
    const decision = decideOidcSignIn(claims, { personExists: (e) => existing?.email === e, createPeople: client.settings.createPeople, orgDomains: client.settings.orgDomains });
    let personId: string;
    switch (decision.kind) {
      case 'refused':
        req.log.info({ reason: decision.reason, sub: claims.sub }, 'company sign-in refused');
        return page(reply, 403, 'Not signed in', REFUSALS[decision.reason](decision.email));
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
    const done = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="0;url=${tx.next}">
<title>Signed in · Blend</title>
<link rel="stylesheet" href="/web/static/app.css">
</head>
<body><main id="main"><h1>Signed in</h1><p><a href="${tx.next}">Continue to Blend</a></p></main></body>
</html>`;
    return sendHtml(reply, 200, done);
  });
}
