/**
 * OAuth 2.0 access tokens for IMAP and SMTP logins (SASL XOAUTH2 / OAUTHBEARER, RFC 7628).
 *
 * A token source runs one grant (`oauth2-grant.ts`): it caches the token, shares one request
 * among concurrent callers and backs off while the token endpoint fails, so a storm of logins
 * never hammers it.
 */
import { requestBodyOf, type OAuth2Grant } from './oauth2-grant';

export * from './oauth2-grant';

/** Why a token request failed: an RFC 6749 section 5.2 `error` code, or one of ours. */
export type OAuth2TokenErrorReason =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  /** No HTTP answer: connection refused, DNS, TLS or the timeout. */
  | 'unreachable'
  /** A 2xx answer without a usable token. */
  | 'bad_response'
  | `http_${number}`
  | (string & {});

/**
 * A failed token request. The message names the token endpoint's host, the reason and the
 * server's `error_description`; never a secret, refresh token, assertion or access token.
 */
export class OAuth2TokenError extends Error {
  constructor(
    readonly reason: OAuth2TokenErrorReason,
    readonly tokenHost: string,
    readonly description?: string,
    options?: { cause?: unknown },
  ) {
    super(`OAuth 2.0 token request to ${tokenHost} failed: ${reason}${description ? ` (${description})` : ''}`, options);
    this.name = 'OAuth2TokenError';
  }
}

/** Hands out access tokens for one grant. */
export interface AccessTokenSource {
  /** A valid token: the cached one, or a new one (one request for all concurrent callers). @throws OAuth2TokenError */
  getToken(): Promise<string>;
  /** Forget `token` (a server refused it), so the next {@link getToken} fetches a new one. */
  invalidate(token: string): void;
  /** The last failure (null since the last success) and when the cached token expires. */
  status(): { lastError: OAuth2TokenError | null; expiresAt: Date | null };
}

export interface TokenSourceOptions {
  /** Clock in milliseconds, for tests. @defaultValue Date.now */
  now?: () => number;
  /** Timeout of one token request. @defaultValue 10000 */
  timeoutMs?: number;
  /** First wait after a failure; doubles with every further failure. @defaultValue 1000 */
  backoffInitialMs?: number;
  /** Longest wait between failed requests. @defaultValue 300000 */
  backoffMaxMs?: number;
}

// RFC 6749 section 5.1 only RECOMMENDS expires_in; Google and Microsoft tokens live an hour.
const DEFAULT_LIFETIME_S = 3600;
const DESCRIPTION_MAX = 200;

/**
 * A cached, single-flight, backing-off source of access tokens for `grant`.
 * @throws OAuth2ConfigError when the grant's key or certificate is unusable.
 */
export function createTokenSource(grant: OAuth2Grant, opts: TokenSourceOptions = {}): AccessTokenSource {
  const now = opts.now ?? Date.now;
  const { timeoutMs = 10_000, backoffInitialMs = 1_000, backoffMaxMs = 300_000 } = opts;
  const host = new URL(grant.tokenUrl).host;
  const requestBody = requestBodyOf(grant);
  let refreshToken = grant.type === 'refresh_token' ? grant.refreshToken : '';
  let cached: { token: string; refreshAt: number; expiresAt: number } | null = null;
  let inflight: Promise<string> | null = null;
  let failures = 0;
  let retryAt = 0;
  let lastError: OAuth2TokenError | null = null;

  async function request(): Promise<string> {
    const started = now();
    const { body, secrets } = requestBody(started, refreshToken);
    const fail = (reason: string, description?: string, cause?: unknown) =>
      new OAuth2TokenError(reason, host, description && clean(description, secrets), cause === undefined ? undefined : { cause });
    let status: number;
    let text: string;
    try {
      const res = await fetch(grant.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(timeoutMs),
        // Never re-send the credentials wherever a redirect points: a 3xx is an error.
        redirect: 'manual',
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      // fetch() rejects with "fetch failed"; what happened is in its cause (ECONNREFUSED, ...).
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
      throw fail('unreachable', why, err);
    }
    let json: Record<string, unknown> | null = null;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null) json = parsed as Record<string, unknown>;
    } catch (err) {
      // Only a success must be JSON; an error page that is not (a proxy's HTML) is reported
      // by its status below.
      if (status >= 200 && status < 300) throw fail('bad_response', `not JSON: ${(err as Error).message}`);
    }
    // RFC 6749 section 5.2: an error reply carries `error` (a short ASCII code) and may carry
    // `error_description`. Any other code or a body that is not JSON is reported by its status.
    const code = json?.['error'];
    if (typeof code === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(code)) {
      const description = json?.['error_description'];
      throw fail(code, typeof description === 'string' ? description : undefined);
    }
    if (status < 200 || status > 299) throw fail(`http_${status}`);
    const token = json?.['access_token'];
    const type = json?.['token_type'];
    const expiresIn = json?.['expires_in'] === undefined ? DEFAULT_LIFETIME_S : Number(json['expires_in']);
    if (typeof token !== 'string' || token === '') throw fail('bad_response', 'no access_token in the reply');
    if (typeof type === 'string' && type.toLowerCase() !== 'bearer') throw fail('bad_response', `token_type ${type.slice(0, 20)} is not Bearer`);
    if (!Number.isFinite(expiresIn) || expiresIn <= 0) throw fail('bad_response', 'expires_in is not a positive number');
    // RFC 6749 section 6: the server may answer a refresh with a new refresh token, and then
    // may revoke the old one, so the new one is used from now on.
    const rotated = json?.['refresh_token'];
    if (grant.type === 'refresh_token' && typeof rotated === 'string' && rotated !== '') refreshToken = rotated;
    // Measured from when the request was sent, so the token is never older than we think.
    // Refresh before it expires: a login that starts with a token about to expire fails.
    const lifetimeMs = expiresIn * 1000;
    const expiresAt = started + lifetimeMs;
    cached = { token, expiresAt, refreshAt: expiresAt - Math.min(60_000, lifetimeMs / 5) };
    return token;
  }

  function fetchToken(): Promise<string> {
    return request().then(
      (token) => {
        failures = 0;
        retryAt = 0;
        lastError = null;
        return token;
      },
      (err: unknown) => {
        const error = err instanceof OAuth2TokenError ? err : new OAuth2TokenError('bad_response', host, (err as Error).message, { cause: err });
        failures += 1;
        const delay = Math.min(backoffMaxMs, backoffInitialMs * 2 ** Math.min(failures - 1, 30));
        // Jitter below the nominal delay, so several Blend processes do not retry in step.
        retryAt = now() + delay * (0.8 + 0.2 * Math.random());
        lastError = error;
        throw error;
      },
    );
  }

  return {
    getToken() {
      const t = now();
      if (cached && t < cached.refreshAt) return Promise.resolve(cached.token);
      if (inflight) return inflight;
      if (lastError && t < retryAt) return Promise.reject(lastError);
      inflight = fetchToken().finally(() => {
        inflight = null;
      });
      return inflight;
    },
    invalidate(token) {
      if (cached?.token === token) cached = null;
    },
    status() {
      return { lastError, expiresAt: cached ? new Date(cached.expiresAt) : null };
    },
  };
}

/** A server's text made safe to log: no secret we sent (some servers echo them), one line, short. */
function clean(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join('[redacted]');
  out = out.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return out.length > DESCRIPTION_MAX ? `${out.slice(0, DESCRIPTION_MAX)}…` : out;
}
