import { createHmac, timingSafeEqual } from 'node:crypto';
import * as oidc from 'openid-client';
import type { OidcClaims } from '@blend/core';

/** BLEND_OIDC_*: single sign-on for the web UI (docs/SECURITY.md S3). */
export interface OidcSettings {
  issuer: string;
  clientId: string;
  /** Unset: a public client, which proves itself by PKCE alone. */
  clientSecret?: string;
  /** BLEND_OIDC_CREATE_PEOPLE. @defaultValue false */
  createPeople: boolean;
  /** BLEND_ORG_DOMAINS: only their addresses may be created at sign-in. */
  orgDomains: string[];
}

/** What the browser carries between the redirect to the IdP and its return, in a signed cookie. */
export interface OidcTransaction {
  state: string;
  nonce: string;
  verifier: string;
  /** Where to go after signing in (a path of Blend's own pages). */
  next: string;
  /** Milliseconds since the epoch after which the transaction is refused. */
  exp: number;
}

/** How long a person may take at the IdP. @defaultValue 10 minutes */
export const OIDC_TRANSACTION_MS = 10 * 60_000;

/** The IdP could not be reached or answered nonsense at discovery. */
export class IdpUnavailableError extends Error {
  constructor(readonly issuer: string, cause: unknown) {
    super(`the identity provider ${issuer} cannot be reached: ${(cause as Error).message ?? String(cause)}`, { cause });
    this.name = 'IdpUnavailableError';
  }
}

const loopbackHttp = (u: URL) => u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);

/**
 * The IdP as openid-client sees it, discovered on first use and kept: a start-up while the IdP
 * is down does not stop the API (token sign-in keeps working) and the next attempt tries again.
 */
export class OidcClient {
  #config: Promise<oidc.Configuration> | undefined;
  #authorizationOrigin: string | undefined;

  constructor(readonly settings: OidcSettings) {}

  /**
   * Origins the sign-in form may lead to (CSP `form-action` follows the redirect to the IdP):
   * the issuer's, and its authorization endpoint's once discovered.
   */
  formActionOrigins(): string[] {
    const issuer = new URL(this.settings.issuer).origin;
    return this.#authorizationOrigin && this.#authorizationOrigin !== issuer ? [issuer, this.#authorizationOrigin] : [issuer];
  }

  /** The discovered configuration. @throws IdpUnavailableError */
  async configuration(): Promise<oidc.Configuration> {
    this.#config ??= this.#discover();
    try {
      return await this.#config;
    } catch (err) {
      this.#config = undefined;
      throw err;
    }
  }

  async #discover(): Promise<oidc.Configuration> {
    const issuer = new URL(this.settings.issuer);
    const auth = this.settings.clientSecret ? oidc.ClientSecretPost(this.settings.clientSecret) : oidc.None();
    try {
      const config = await oidc.discovery(issuer, this.settings.clientId, undefined, auth, {
        timeout: 10,
        // Plain http is accepted for an IdP on loopback only (tests); the config refuses it elsewhere.
        ...(loopbackHttp(issuer) ? { execute: [oidc.allowInsecureRequests] } : {}),
      });
      config.timeout = 10;
      const endpoint = config.serverMetadata().authorization_endpoint;
      if (endpoint) this.#authorizationOrigin = new URL(endpoint).origin;
      return config;
    } catch (err) {
      throw new IdpUnavailableError(this.settings.issuer, err);
    }
  }

  /** Where to send the browser, and the transaction to remember: PKCE (S256), state and nonce, all fresh. */
  async start(redirectUri: string, next: string): Promise<{ url: URL; tx: OidcTransaction }> {
    const config = await this.configuration();
    const tx: OidcTransaction = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier(), next, exp: Date.now() + OIDC_TRANSACTION_MS };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid email profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(tx.verifier),
      code_challenge_method: 'S256',
      state: tx.state,
      nonce: tx.nonce,
    });
    return { url, tx };
  }

  /**
   * Finish the flow at the callback: exchange the code (with the PKCE verifier, checking state,
   * nonce, issuer, audience and the ID token's signature), then read the person's claims from
   * the ID token completed by UserInfo (many IdPs put email only there). @throws on any mismatch
   */
  async finish(callbackUrl: URL, tx: OidcTransaction): Promise<OidcClaims> {
    const config = await this.configuration();
    const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, { pkceCodeVerifier: tx.verifier, expectedState: tx.state, expectedNonce: tx.nonce, idTokenExpected: true });
    const idClaims = tokens.claims()!;
    let claims: OidcClaims = { ...idClaims, sub: idClaims.sub };
    if (config.serverMetadata().userinfo_endpoint && (claims.email === undefined || claims.email_verified === undefined)) {
      // fetchUserInfo checks that the answer is about the same subject as the ID token.
      const info = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
      claims = { ...claims, ...info, sub: idClaims.sub };
    }
    return claims;
  }
}

/** The transaction cookie's value: the transaction as base64url JSON, then an HMAC of it under BLEND_SECRET. */
export function sealTransaction(secret: string, tx: OidcTransaction): string {
  const body = Buffer.from(JSON.stringify(tx)).toString('base64url');
  return `${body}.${mac(secret, body)}`;
}

/** The transaction in a cookie, if its HMAC is right and it has not expired; else null. */
export function openTransaction(secret: string, value: string | undefined, now = Date.now()): OidcTransaction | null {
  if (!value || value.length > 2000) return null;
  const [body, sig, ...rest] = value.split('.');
  if (!body || !sig || rest.length > 0) return null;
  const want = Buffer.from(mac(secret, body));
  const got = Buffer.from(sig);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return null;
  let tx: Partial<OidcTransaction>;
  try {
    tx = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<OidcTransaction>;
  } catch (err) {
    if (err instanceof SyntaxError) return null;
    throw err;
  }
  const ok = ['state', 'nonce', 'verifier', 'next'].every((k) => typeof tx[k as keyof OidcTransaction] === 'string') && typeof tx.exp === 'number';
  return ok && tx.exp! > now ? (tx as OidcTransaction) : null;
}

const mac = (secret: string, body: string) => createHmac('sha256', secret).update(`blend-oidc-tx\0${body}`).digest('base64url');
