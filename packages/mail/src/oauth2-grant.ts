/**
 * The OAuth 2.0 grants Blend uses for IMAP and SMTP logins, and the token requests they make.
 *
 * Three grants cover the mail systems Blend logs in to: client credentials for Microsoft 365
 * app-only access (with a client secret or a certificate), a stored refresh token (Google
 * Workspace, and any provider), and Google's service-account JWT grant with domain-wide
 * delegation. The token source that runs them is in `oauth2.ts`.
 */
import { createHash, createPrivateKey, randomUUID, sign, X509Certificate, type KeyObject } from 'node:crypto';
import type { OAuthSettings } from '@blend/core';

/** How a confidential client proves itself in the client-credentials grant. */
export type OAuth2ClientCredential =
  | { type: 'secret'; clientSecret: string }
  /** PEM text holding the private key and its certificate (RFC 7523 client assertion). */
  | { type: 'certificate'; pem: string };

/** Where an access token comes from. */
export type OAuth2Grant =
  | { type: 'client_credentials'; tokenUrl: string; clientId: string; scope: string; credential: OAuth2ClientCredential }
  | { type: 'refresh_token'; tokenUrl: string; clientId: string; clientSecret?: string; refreshToken: string; scope?: string }
  | {
      type: 'jwt_bearer';
      tokenUrl: string;
      /** The service account (`client_email` of its key): the assertion's issuer. */
      clientEmail: string;
      privateKeyPem: string;
      /** `private_key_id` of the key, sent as the JWT `kid`. */
      privateKeyId?: string;
      /** The mailbox user to impersonate (domain-wide delegation). */
      subject: string;
      scope: string;
    };

/** A setting that is missing or unusable; `message` is `<variable> <problem>` and holds no secret. */
export class OAuth2ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    super(`${variable} ${problem}`);
    this.name = 'OAuth2ConfigError';
  }
}

/** Google's scope for IMAP and SMTP. */
export const GOOGLE_MAIL_SCOPE = 'https://mail.google.com/';
const FOR_OAUTH = 'is required for BLEND_IMAP_AUTH=oauth2 (or BLEND_SMTP_AUTH=oauth2)';

/**
 * Picks the grant the settings describe: a service-account key selects the JWT grant for
 * `user`, else a refresh token the refresh-token grant, else client credentials (with a secret
 * or a certificate).
 * @param user - the mailbox login; the JWT grant impersonates it.
 * @throws OAuth2ConfigError naming the variable that is missing or unusable.
 */
export function oauth2GrantFrom(settings: OAuthSettings, user: string): OAuth2Grant {
  const { clientId, clientSecret, scope, refreshToken, clientCertificatePem, serviceAccountJson } = settings;
  if (serviceAccountJson !== undefined) {
    const key = parseServiceAccount(serviceAccountJson);
    if (!user) throw new OAuth2ConfigError('BLEND_OAUTH_SERVICE_ACCOUNT_FILE', 'needs the mailbox user to impersonate, and the login URL names none');
    if (!settings.tokenUrl && !key.tokenUri) throw new OAuth2ConfigError('BLEND_OAUTH_TOKEN_URL', 'is required: the service-account key has no token_uri');
    const tokenUrl = checkedTokenUrl(settings.tokenUrl ?? key.tokenUri, settings.tokenUrl ? 'BLEND_OAUTH_TOKEN_URL' : 'BLEND_OAUTH_SERVICE_ACCOUNT_FILE');
    const grant: OAuth2Grant = { type: 'jwt_bearer', tokenUrl, clientEmail: key.clientEmail, privateKeyPem: key.privateKeyPem, subject: user, scope: scope ?? GOOGLE_MAIL_SCOPE };
    return key.privateKeyId ? { ...grant, privateKeyId: key.privateKeyId } : grant;
  }
  const tokenUrl = checkedTokenUrl(settings.tokenUrl, 'BLEND_OAUTH_TOKEN_URL');
  if (!clientId) throw new OAuth2ConfigError('BLEND_OAUTH_CLIENT_ID', FOR_OAUTH);
  if (refreshToken) {
    return { type: 'refresh_token', tokenUrl, clientId, refreshToken, ...(clientSecret ? { clientSecret } : {}), ...(scope ? { scope } : {}) };
  }
  if (!scope) throw new OAuth2ConfigError('BLEND_OAUTH_SCOPE', `${FOR_OAUTH} with client credentials (Microsoft 365: https://outlook.office365.com/.default)`);
  if (clientSecret && clientCertificatePem) {
    throw new OAuth2ConfigError('BLEND_OAUTH_CLIENT_SECRET', 'and BLEND_OAUTH_CLIENT_CERTIFICATE_FILE are both set: set only one');
  }
  if (clientCertificatePem) {
    certificateSigner(clientCertificatePem); // fails now, at start, rather than at the first login
    return { type: 'client_credentials', tokenUrl, clientId, scope, credential: { type: 'certificate', pem: clientCertificatePem } };
  }
  if (clientSecret) return { type: 'client_credentials', tokenUrl, clientId, scope, credential: { type: 'secret', clientSecret } };
  throw new OAuth2ConfigError('BLEND_OAUTH_CLIENT_SECRET', `or BLEND_OAUTH_CLIENT_CERTIFICATE_FILE (or BLEND_OAUTH_REFRESH_TOKEN) ${FOR_OAUTH}`);
}

function checkedTokenUrl(value: string | undefined, variable: string): string {
  if (!value) throw new OAuth2ConfigError(variable, FOR_OAUTH);
  let url: URL;
  try {
    url = new URL(value);
  } catch (err) {
    throw new OAuth2ConfigError(variable, `is not a URL (${(err as Error).message})`);
  }
  // RFC 6749 section 3.2: the token endpoint must be reached over TLS (it receives the
  // client's credentials). Plain http is only allowed on loopback, for tests.
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new OAuth2ConfigError(variable, 'must be an https:// URL (the token endpoint receives credentials)');
  }
  return value;
}

function parseServiceAccount(json: string): { clientEmail: string; privateKeyPem: string; privateKeyId?: string; tokenUri?: string } {
  const variable = 'BLEND_OAUTH_SERVICE_ACCOUNT_FILE';
  let key: Record<string, unknown>;
  try {
    key = JSON.parse(json) as Record<string, unknown>;
  } catch (err) {
    throw new OAuth2ConfigError(variable, `is not JSON (${(err as Error).message})`);
  }
  if (typeof key !== 'object' || key === null) throw new OAuth2ConfigError(variable, 'is not a service-account JSON key');
  // An OAuth client's JSON ("installed"/"web") has no top-level type; a key of another kind has one.
  if (key['type'] !== undefined && key['type'] !== 'service_account') {
    throw new OAuth2ConfigError(variable, `holds a "${String(key['type'])}" key, not a service-account key`);
  }
  const str = (name: string) => (typeof key[name] === 'string' && key[name] !== '' ? (key[name] as string) : undefined);
  const clientEmail = str('client_email');
  const privateKeyPem = str('private_key');
  if (!clientEmail || !privateKeyPem) throw new OAuth2ConfigError(variable, 'is not a service-account JSON key (no client_email or private_key)');
  rsaKey(privateKeyPem, variable);
  const privateKeyId = str('private_key_id');
  const tokenUri = str('token_uri');
  return { clientEmail, privateKeyPem, ...(privateKeyId ? { privateKeyId } : {}), ...(tokenUri ? { tokenUri } : {}) };
}

function rsaKey(pem: string, variable: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new OAuth2ConfigError(variable, `holds no usable private key (${(err as Error).message}; an encrypted key must be decrypted first)`);
  }
  // RS256 (RFC 7518 section 3.3) is RSASSA-PKCS1-v1_5: an EC key would sign something else.
  if (key.asymmetricKeyType !== 'rsa') throw new OAuth2ConfigError(variable, `holds a ${key.asymmetricKeyType ?? 'non-RSA'} key; RS256 needs an RSA key`);
  return key;
}

/** Private key and certificate thumbprints of a certificate credential (one PEM text holding both). */
function certificateSigner(pem: string): { key: KeyObject; x5t: string; x5tS256: string } {
  const variable = 'BLEND_OAUTH_CLIENT_CERTIFICATE_FILE';
  const blocks = [...pem.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g)];
  const keyBlock = blocks.find((b) => b[1]!.endsWith('PRIVATE KEY'));
  // The first certificate is the leaf: a PEM chain lists it first (as RFC 8555 section 9.1 has it).
  const certBlock = blocks.find((b) => b[1] === 'CERTIFICATE');
  if (!keyBlock) throw new OAuth2ConfigError(variable, 'holds no private key (PEM "-----BEGIN PRIVATE KEY-----")');
  if (!certBlock) throw new OAuth2ConfigError(variable, 'holds no certificate (PEM "-----BEGIN CERTIFICATE-----")');
  const key = rsaKey(keyBlock[0], variable);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certBlock[0]);
  } catch (err) {
    throw new OAuth2ConfigError(variable, `holds an unreadable certificate (${(err as Error).message})`);
  }
  if (!cert.checkPrivateKey(key)) throw new OAuth2ConfigError(variable, "holds a private key that is not the certificate's");
  // Thumbprints of the DER certificate: the header by which Entra ID finds the registered
  // certificate (x5t SHA-1 as in RFC 7515 section 4.1.7; x5t#S256 for newer tenants).
  return { key, x5t: createHash('sha1').update(cert.raw).digest('base64url'), x5tS256: createHash('sha256').update(cert.raw).digest('base64url') };
}

/** A compact JWS signed with RS256 (RFC 7515, RFC 7518 section 3.3). */
function signJwt(header: Record<string, string>, claims: Record<string, string | number>, key: KeyObject): string {
  const input = `${Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', ...header })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

/** Lifetime of a client assertion or JWT grant we sign (RFC 7523 section 3: short). */
const ASSERTION_LIFETIME_S = 300;

/** The form body of a token request for `grant` at time `nowMs`, and the secrets in it. */
export function requestBodyOf(grant: OAuth2Grant): (nowMs: number, refreshToken: string) => { body: URLSearchParams; secrets: string[] } {
  switch (grant.type) {
    case 'client_credentials': {
      const base = { grant_type: 'client_credentials', client_id: grant.clientId, scope: grant.scope };
      const credential = grant.credential;
      if (credential.type === 'secret') {
        // Form parameters, as Microsoft's identity platform documents them (RFC 6749 section 2.3.1 allows both).
        return () => ({ body: new URLSearchParams({ ...base, client_secret: credential.clientSecret }), secrets: [credential.clientSecret] });
      }
      const signer = certificateSigner(credential.pem);
      return (nowMs) => {
        const iat = Math.floor(nowMs / 1000);
        // RFC 7523 section 3 and Microsoft's certificate credentials: iss = sub = client id, aud = token URL.
        const assertion = signJwt(
          { x5t: signer.x5t, 'x5t#S256': signer.x5tS256 },
          { aud: grant.tokenUrl, iss: grant.clientId, sub: grant.clientId, jti: randomUUID(), iat, nbf: iat, exp: iat + ASSERTION_LIFETIME_S },
          signer.key,
        );
        const body = new URLSearchParams({ ...base, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion });
        return { body, secrets: [assertion] };
      };
    }
    case 'refresh_token':
      return (_nowMs, refreshToken) => {
        const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: grant.clientId });
        if (grant.clientSecret) body.set('client_secret', grant.clientSecret);
        if (grant.scope) body.set('scope', grant.scope);
        return { body, secrets: grant.clientSecret ? [refreshToken, grant.clientSecret] : [refreshToken] };
      };
    case 'jwt_bearer': {
      const key = rsaKey(grant.privateKeyPem, 'BLEND_OAUTH_SERVICE_ACCOUNT_FILE');
      return (nowMs) => {
        const iat = Math.floor(nowMs / 1000);
        // RFC 7523 section 2.1, as Google's service accounts use it: the account issues, the
        // mailbox user is the subject (domain-wide delegation), the scope rides in the claims.
        const assertion = signJwt(
          grant.privateKeyId ? { kid: grant.privateKeyId } : {},
          { iss: grant.clientEmail, sub: grant.subject, scope: grant.scope, aud: grant.tokenUrl, iat, exp: iat + ASSERTION_LIFETIME_S },
          key,
        );
        return { body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }), secrets: [assertion] };
      };
    }
  }
}
