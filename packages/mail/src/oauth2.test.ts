import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { OAuthSettings } from '@blend/core';
import { createTokenSource, oauth2GrantFrom, OAuth2ConfigError } from './oauth2';

const TOKEN_URL = 'https://login.example.test/tenant/oauth2/v2.0/token';
const USER = 'bridge@example.test';
const rsaPem = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const ecPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const saKey = rsaPem();
const serviceAccount = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'service_account', client_email: 'sa@p.iam.gserviceaccount.com', private_key: saKey, private_key_id: 'k1', token_uri: 'https://oauth2.googleapis.com/token', ...extra });

let certPem = '';
let keyPem = '';
beforeAll(() => {
  // Node makes keys but no X.509 certificates; openssl is on every machine that runs Blend's tests.
  const dir = mkdtempSync(path.join(tmpdir(), 'blend-oauth2-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=unit', '-days', '1', '-keyout', `${dir}/k.pem`, '-out', `${dir}/c.pem`], { stdio: 'ignore' });
    keyPem = readFileSync(`${dir}/k.pem`, 'utf8');
    certPem = readFileSync(`${dir}/c.pem`, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('oauth2GrantFrom', () => {
  const app = { tokenUrl: TOKEN_URL, clientId: 'app', scope: 'https://outlook.office365.com/.default' };

  it.each<[string, () => OAuthSettings, object]>([
    ['client secret -> client_credentials', () => ({ ...app, clientSecret: 's' }), { type: 'client_credentials', clientId: 'app', credential: { type: 'secret', clientSecret: 's' } }],
    ['certificate -> client_credentials', () => ({ ...app, clientCertificatePem: keyPem + certPem }), { type: 'client_credentials', credential: { type: 'certificate' } }],
    ['certificate before key also works', () => ({ ...app, clientCertificatePem: certPem + keyPem }), { type: 'client_credentials', credential: { type: 'certificate' } }],
    ['refresh token -> refresh_token (secret and scope optional)', () => ({ tokenUrl: TOKEN_URL, clientId: 'c', refreshToken: 'r' }), { type: 'refresh_token', clientId: 'c', refreshToken: 'r' }],
    ['refresh token wins over a client secret', () => ({ ...app, clientSecret: 's', refreshToken: 'r' }), { type: 'refresh_token', clientSecret: 's', scope: app.scope }],
    ['service account -> jwt_bearer for the user, token_uri and Google scope', () => ({ serviceAccountJson: serviceAccount() }), {
      type: 'jwt_bearer', tokenUrl: 'https://oauth2.googleapis.com/token', clientEmail: 'sa@p.iam.gserviceaccount.com', subject: USER, scope: 'https://mail.google.com/', privateKeyId: 'k1',
    }],
    ['service account wins; BLEND_OAUTH_TOKEN_URL and scope override', () => ({ ...app, refreshToken: 'r', serviceAccountJson: serviceAccount() }), { type: 'jwt_bearer', tokenUrl: TOKEN_URL, scope: app.scope }],
    ['plain http on loopback (tests)', () => ({ ...app, tokenUrl: 'http://127.0.0.1:9/token', clientSecret: 's' }), { tokenUrl: 'http://127.0.0.1:9/token' }],
  ])('%s', (_name, settings, expected) => {
    expect(oauth2GrantFrom(settings(), USER)).toMatchObject(expected);
  });

  it.each<[string, string, () => OAuthSettings, RegExp]>([
    ['no token URL', 'BLEND_OAUTH_TOKEN_URL', () => ({ clientId: 'app', clientSecret: 's', scope: 'x' }), /^BLEND_OAUTH_TOKEN_URL is required for BLEND_IMAP_AUTH=oauth2/],
    ['no client id', 'BLEND_OAUTH_CLIENT_ID', () => ({ tokenUrl: TOKEN_URL, clientSecret: 's', scope: 'x' }), /^BLEND_OAUTH_CLIENT_ID is required/],
    ['no credential at all', 'BLEND_OAUTH_CLIENT_SECRET', () => ({ ...app }), /CLIENT_SECRET or BLEND_OAUTH_CLIENT_CERTIFICATE_FILE .*is required/],
    ['no scope for client credentials', 'BLEND_OAUTH_SCOPE', () => ({ tokenUrl: TOKEN_URL, clientId: 'app', clientSecret: 's' }), /outlook\.office365\.com/],
    ['secret and certificate', 'BLEND_OAUTH_CLIENT_SECRET', () => ({ ...app, clientSecret: 's', clientCertificatePem: keyPem + certPem }), /set only one/],
    ['http token URL off loopback', 'BLEND_OAUTH_TOKEN_URL', () => ({ ...app, tokenUrl: 'http://login.example.test/token', clientSecret: 's' }), /https/],
    ['token URL not a URL', 'BLEND_OAUTH_TOKEN_URL', () => ({ ...app, tokenUrl: 'login', clientSecret: 's' }), /not a URL/],
    ['certificate file without a key', 'BLEND_OAUTH_CLIENT_CERTIFICATE_FILE', () => ({ ...app, clientCertificatePem: certPem }), /no private key/],
    ['certificate file without a certificate', 'BLEND_OAUTH_CLIENT_CERTIFICATE_FILE', () => ({ ...app, clientCertificatePem: keyPem }), /no certificate/],
    ['key of another certificate', 'BLEND_OAUTH_CLIENT_CERTIFICATE_FILE', () => ({ ...app, clientCertificatePem: rsaPem() + certPem }), /not the certificate's/],
    ['service account not JSON', 'BLEND_OAUTH_SERVICE_ACCOUNT_FILE', () => ({ serviceAccountJson: '{' }), /not JSON/],
    ['OAuth client JSON instead of a key', 'BLEND_OAUTH_SERVICE_ACCOUNT_FILE', () => ({ serviceAccountJson: JSON.stringify({ installed: { client_id: 'x' } }) }), /no client_email or private_key/],
    ['another kind of key', 'BLEND_OAUTH_SERVICE_ACCOUNT_FILE', () => ({ serviceAccountJson: serviceAccount({ type: 'authorized_user' }) }), /"authorized_user" key/],
    ['EC key in a service account', 'BLEND_OAUTH_SERVICE_ACCOUNT_FILE', () => ({ serviceAccountJson: serviceAccount({ private_key: ecPem }) }), /ec key; RS256 needs an RSA key/],
    ['service account without token_uri', 'BLEND_OAUTH_TOKEN_URL', () => ({ serviceAccountJson: serviceAccount({ token_uri: undefined }) }), /no token_uri/],
  ])('%s -> names %s', (_name, variable, settings, message) => {
    let caught: unknown;
    try {
      oauth2GrantFrom(settings(), USER);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(OAuth2ConfigError);
    expect(caught).toMatchObject({ variable });
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message).not.toMatch(/MII[A-Za-z0-9+/]{20}/); // no key material
  });

  it('a service account needs the user it impersonates', () => {
    expect(() => oauth2GrantFrom({ serviceAccountJson: serviceAccount() }, '')).toThrow(/BLEND_OAUTH_SERVICE_ACCOUNT_FILE needs the mailbox user/);
  });
});

describe('createTokenSource without a server', () => {
  it('reports an endpoint that does not answer as unreachable, naming only the host', async () => {
    // A port the kernel just handed out and nothing listens on: the connection is refused at once.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise((resolve) => server.close(resolve));
    const source = createTokenSource({ type: 'client_credentials', tokenUrl: `http://127.0.0.1:${port}/token`, clientId: 'app', scope: 's', credential: { type: 'secret', clientSecret: 'hunter2-secret' } });
    const err = await source.getToken().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: 'OAuth2TokenError', reason: 'unreachable', tokenHost: `127.0.0.1:${port}` });
    expect((err as Error).message).toBe(`OAuth 2.0 token request to 127.0.0.1:${port} failed: unreachable (ECONNREFUSED)`);
    expect(source.status()).toEqual({ lastError: err, expiresAt: null });
  });
});
