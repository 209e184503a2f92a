import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTokenSource, oauth2GrantFrom, OAuth2TokenError, type AccessTokenSource, type OAuth2Grant } from '@blend/mail';
import { createServiceAccountKey, createTestCertificate, startOAuthServer, type OAuthServer } from './support/oauth-server';

const MAILBOX = 'bridge@oauth.test';
const SECRET = 'client-secret-Zq8vX1';
const SCOPE = 'https://outlook.office365.com/.default';

let auth: OAuthServer;
let clock: number;
/** A clock the test moves by hand: token expiry and backoff without waiting. */
const now = () => clock;

beforeEach(async () => {
  auth = await startOAuthServer({ tokenLifetimeSeconds: 3 });
  clock = Date.now();
});
afterEach(async () => {
  await auth.close();
});

function secretGrant(secret = SECRET): OAuth2Grant {
  auth.addClient({ clientId: 'app', clientSecret: SECRET, mailbox: MAILBOX });
  return oauth2GrantFrom({ tokenUrl: auth.tokenUrl, clientId: 'app', clientSecret: secret, scope: SCOPE }, MAILBOX);
}

async function failure(source: AccessTokenSource): Promise<OAuth2TokenError> {
  const err = await source.getToken().then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OAuth2TokenError);
  return err as OAuth2TokenError;
}

describe('createTokenSource against a real authorisation server', () => {
  it('gets a token with a client secret (client credentials) for the mailbox the app may access', async () => {
    const source = createTokenSource(secretGrant(), { now });
    const token = await source.getToken();
    expect(auth.introspect(token)).toMatchObject({ active: true, username: MAILBOX, scope: SCOPE, client_id: 'app' });
    expect(source.status()).toEqual({ lastError: null, expiresAt: new Date(clock + 3000) });
  });

  it('gets a token with a certificate: the server verifies the RS256 assertion with the registered certificate', async () => {
    const cert = await createTestCertificate();
    auth.addClient({ clientId: 'cert-app', certificatePem: cert.certificatePem, mailbox: MAILBOX });
    const grant = oauth2GrantFrom({ tokenUrl: auth.tokenUrl, clientId: 'cert-app', scope: SCOPE, clientCertificatePem: cert.pem }, MAILBOX);
    const source = createTokenSource(grant, { now });
    expect(auth.introspect(await source.getToken())).toMatchObject({ active: true, username: MAILBOX });
    // Each request carries a new assertion (fresh jti): the server refuses a replayed one.
    source.invalidate(await source.getToken());
    await source.getToken();
    expect(auth.issued.client_credentials).toBe(2);

    // Signed with another certificate's key: its x5t names nothing the app registered.
    const other = await createTestCertificate('someone-else');
    const forged = createTokenSource({ ...grant, credential: { type: 'certificate', pem: other.pem } } as OAuth2Grant, { now });
    expect(await failure(forged)).toMatchObject({ reason: 'invalid_client' });
  });

  it('gets a token with a refresh token, and keeps using the rotated refresh token', async () => {
    auth.addClient({ clientId: 'google-client', clientSecret: SECRET });
    const refreshToken = auth.addRefreshToken({ clientId: 'google-client', user: MAILBOX, rotate: true });
    const source = createTokenSource(oauth2GrantFrom({ tokenUrl: auth.tokenUrl, clientId: 'google-client', clientSecret: SECRET, refreshToken }, MAILBOX), { now });
    let token = await source.getToken();
    // The server revokes the refresh token it was given: each further refresh only works with
    // the new one from the previous reply.
    for (let i = 0; i < 3; i++) {
      expect(auth.introspect(token)).toMatchObject({ active: true, username: MAILBOX });
      source.invalidate(token);
      token = await source.getToken();
    }
    expect(auth.issued.refresh_token).toBe(4);
  });

  it('gets a token for the impersonated user with a service-account key (JWT grant)', async () => {
    const key = await createServiceAccountKey({ tokenUri: auth.tokenUrl });
    auth.addServiceAccount(key);
    const grant = oauth2GrantFrom({ serviceAccountJson: key.json }, MAILBOX);
    expect(grant).toMatchObject({ type: 'jwt_bearer', tokenUrl: auth.tokenUrl, subject: MAILBOX, scope: 'https://mail.google.com/' });
    const token = await createTokenSource(grant, { now }).getToken();
    expect(auth.introspect(token)).toMatchObject({ active: true, username: MAILBOX, scope: 'https://mail.google.com/', client_id: key.clientEmail });
    expect(auth.issued.jwt_bearer).toBe(1);
  });

  it('makes one request for many callers, concurrent or not', async () => {
    const source = createTokenSource(secretGrant(), { now });
    const concurrent = await Promise.all(Array.from({ length: 20 }, () => source.getToken()));
    const later = await Promise.all(Array.from({ length: 5 }, async () => source.getToken()));
    expect(new Set([...concurrent, ...later]).size).toBe(1);
    expect(auth.issued.client_credentials).toBe(1);
  });

  it('refreshes shortly before expiry: a fifth of a short lifetime early', async () => {
    const source = createTokenSource(secretGrant(), { now });
    const first = await source.getToken();
    clock += 2_300; // 3 s token, refreshed from 2.4 s on
    expect(await source.getToken()).toBe(first);
    clock += 200;
    const second = await source.getToken();
    expect(second).not.toBe(first);
    expect(auth.issued.client_credentials).toBe(2);
  });

  it('never hands out a token the server considers expired (real clock, 2 s tokens)', async () => {
    auth.tokenLifetimeSeconds = 2;
    const source = createTokenSource(secretGrant());
    const seen = new Set<string>();
    const deadline = Date.now() + 4_500;
    while (Date.now() < deadline) {
      const token = await source.getToken();
      seen.add(token);
      expect(auth.introspect(token).active).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(seen.size).toBeGreaterThanOrEqual(3);
    expect(auth.issued.client_credentials).toBe(seen.size);
  });

  it('drops an invalidated token, and only that one', async () => {
    const source = createTokenSource(secretGrant(), { now });
    const first = await source.getToken();
    source.invalidate('some-other-token');
    expect(await source.getToken()).toBe(first);
    source.invalidate(first);
    expect(source.status().expiresAt).toBeNull();
    const second = await source.getToken();
    expect(second).not.toBe(first);
    expect(auth.issued.client_credentials).toBe(2);
  });

  it('reports a refusal by its RFC 6749 error code, never with the secret', async () => {
    const source = createTokenSource(secretGrant('wrong-secret-Kp2m'), { now });
    const wrong = await failure(source);
    expect(wrong).toMatchObject({ reason: 'invalid_client', tokenHost: `127.0.0.1:${new URL(auth.url).port}` });
    expect(wrong.message).toBe(`OAuth 2.0 token request to ${new URL(auth.url).host} failed: invalid_client (client authentication failed)`);

    // A server that echoes what it was sent, at length: the secret is cut out and the text cut short.
    clock += 10 * 60_000;
    auth.refuse('invalid_client', `AADSTS7000215: Invalid client secret provided: wrong-secret-Kp2m. ${'x'.repeat(400)}`);
    const echoed = await failure(source);
    expect(echoed.message).not.toContain('wrong-secret-Kp2m');
    expect(echoed.message).toContain('Invalid client secret provided: [redacted].');
    expect(echoed.description!.length).toBeLessThanOrEqual(201);
    expect(source.status().lastError).toBe(echoed);
  });

  it('backs off while the endpoint is down: rejects at once without a request, tries again after the wait, recovers', async () => {
    const source = createTokenSource(secretGrant(), { now });
    await auth.stop();
    const down = await failure(source);
    expect(down.reason).toBe('unreachable');
    expect(down.message).toMatch(/failed: unreachable \(ECONNREFUSED\)/);

    await auth.start();
    const requests = auth.tokenRequests;
    const started = performance.now();
    for (let i = 0; i < 50; i++) expect(await failure(source)).toBe(down);
    expect(performance.now() - started).toBeLessThan(500);
    expect(auth.tokenRequests).toBe(requests);

    // 1 s after the first failure the next call tries again; the server answers but refuses,
    // which doubles the wait to (at most) 2 s.
    auth.refuse('temporarily_unavailable');
    clock += 1_000;
    const refused = await failure(source);
    expect(refused.reason).toBe('temporarily_unavailable');
    expect(auth.tokenRequests).toBe(requests + 1);
    clock += 1_000;
    expect(await failure(source)).toBe(refused);
    expect(auth.tokenRequests).toBe(requests + 1);

    auth.refuse(null);
    clock += 1_000;
    const token = await source.getToken();
    expect(auth.introspect(token).active).toBe(true);
    expect(source.status().lastError).toBeNull();
  });
});
