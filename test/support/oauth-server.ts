/**
 * A small, real OAuth 2.0 authorisation server for tests, on 127.0.0.1 with a kernel-chosen
 * port: `POST /token` (RFC 6749 client credentials with a secret or a private_key_jwt
 * assertion, refresh tokens with optional rotation, and the RFC 7523 JWT grant of Google's
 * service accounts) and `POST /introspect` (RFC 7662), which the OAuth Dovecot of
 * `oauth-dovecot.ts` asks about every token it is offered.
 *
 * ```ts
 * const auth = await startOAuthServer({ tokenLifetimeSeconds: 30 });
 * auth.addClient({ clientId: 'app', clientSecret: 's3cret', mailbox: 'bridge@t-1.test' });
 * // BLEND_OAUTH_TOKEN_URL=auth.tokenUrl, BLEND_OAUTH_CLIENT_ID=app, ...
 * await auth.close();
 * ```
 */
import { execFile } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPair, randomBytes, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

export type GrantName = 'client_credentials' | 'refresh_token' | 'jwt_bearer';

export interface OAuthServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `POST` here for tokens (BLEND_OAUTH_TOKEN_URL). */
  tokenUrl: string;
  /** RFC 7662 introspection, for Dovecot's oauth2 passdb. */
  introspectionUrl: string;
  /** Lifetime of tokens issued from now on (`expires_in`). @defaultValue 3 */
  tokenLifetimeSeconds: number;
  /** Tokens issued per grant; successful requests only. */
  readonly issued: Record<GrantName, number>;
  /** Every `POST /token` that reached the server, refused or not. */
  readonly tokenRequests: number;
  /**
   * Registers a confidential client. Its client-credentials tokens are for `mailbox` (the
   * mailbox the app was granted, as in Exchange's application access policy), else for the
   * client id itself (an app-only token that no mailbox accepts).
   */
  addClient(client: { clientId: string; clientSecret?: string; certificatePem?: string; mailbox?: string }): void;
  /** A refresh token of `clientId` for `user`; `rotate` answers each refresh with a new one and revokes the old. */
  addRefreshToken(grant: { clientId: string; user: string; rotate?: boolean }): string;
  /** Registers a service account's public key for the JWT grant. */
  addServiceAccount(account: { clientEmail: string; publicKeyPem: string }): void;
  /** An access token for `user`, as if a grant had issued it (not counted in {@link issued}). */
  issueAccessToken(user: string, lifetimeSeconds?: number): string;
  /** What `/introspect` answers for `token` right now. */
  introspect(token: string): Introspection;
  /** Answer every `/token` request with this RFC 6749 section 5.2 error until `refuse(null)`. */
  refuse(error: string | null, description?: string): void;
  /** Stops listening and drops open connections (the endpoint is "down"); tokens are kept. */
  stop(): Promise<void>;
  /** Listens again, on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export type Introspection = { active: false } | { active: true; username: string; exp: number; scope: string; client_id: string; token_type: 'Bearer' };

interface Client {
  secret?: string;
  certificate?: { publicKey: KeyObject; x5t: string };
  mailbox?: string;
}
interface Issued {
  username: string;
  expiresAtMs: number;
  scope: string;
  clientId: string;
}
type Form = URLSearchParams;
class OAuthFailure extends Error {
  constructor(
    readonly error: string,
    readonly status: 400 | 401,
    description: string,
  ) {
    super(description);
  }
}

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const CLIENT_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const CLOCK_SKEW_S = 5;

/**
 * Starts the server on 127.0.0.1 with a kernel-chosen port.
 * @param opts.tokenLifetimeSeconds - `expires_in` of new tokens. @defaultValue 3
 */
export async function startOAuthServer(opts: { tokenLifetimeSeconds?: number } = {}): Promise<OAuthServer> {
  const clients = new Map<string, Client>();
  const refreshTokens = new Map<string, { clientId: string; user: string; rotate: boolean }>();
  const serviceAccounts = new Map<string, KeyObject>();
  const tokens = new Map<string, Issued>();
  const seenJti = new Set<string>();
  const issued: Record<GrantName, number> = { client_credentials: 0, refresh_token: 0, jwt_bearer: 0 };
  let tokenRequests = 0;
  let refusal: { error: string; description: string } | null = null;
  let port = 0;

  const newToken = (prefix: string) => `${prefix}-${randomBytes(18).toString('base64url')}`;
  function issue(grant: GrantName | null, username: string, clientId: string, scope: string, lifetimeS = server.tokenLifetimeSeconds) {
    const token = newToken('at');
    tokens.set(token, { username, clientId, scope, expiresAtMs: Date.now() + lifetimeS * 1000 });
    if (grant) issued[grant] += 1;
    return { access_token: token, token_type: 'Bearer', expires_in: lifetimeS, scope };
  }
  const tokenUrl = () => `http://127.0.0.1:${port}/token`;

  /** RFC 6749 section 2.3: a secret (HTTP Basic or form) or an RFC 7523 section 2.2 assertion; never two methods. */
  function authenticateClient(req: IncomingMessage, form: Form): { clientId: string; client: Client } {
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const assertion = form.get('client_assertion');
    const methods = [basic !== undefined, form.has('client_secret'), assertion !== null].filter(Boolean).length;
    if (methods > 1) throw new OAuthFailure('invalid_request', 400, 'more than one client authentication method');
    if (assertion !== null) {
      if (form.get('client_assertion_type') !== CLIENT_ASSERTION) throw new OAuthFailure('invalid_request', 400, 'unsupported client_assertion_type');
      const jwt = parseJwt(assertion);
      const clientId = String(jwt.claims['iss']);
      const client = clients.get(clientId);
      if (!client?.certificate) throw new OAuthFailure('invalid_client', 401, 'no certificate registered for the assertion issuer');
      if (jwt.claims['sub'] !== clientId || (form.has('client_id') && form.get('client_id') !== clientId)) {
        throw new OAuthFailure('invalid_client', 401, 'assertion iss, sub and client_id differ');
      }
      if (jwt.header['x5t'] !== client.certificate.x5t) throw new OAuthFailure('invalid_client', 401, 'x5t names no registered certificate');
      checkJwt(jwt, client.certificate.publicKey, tokenUrl());
      const jti = jwt.claims['jti'];
      if (typeof jti !== 'string' || seenJti.has(jti)) throw new OAuthFailure('invalid_client', 401, 'assertion jti missing or replayed');
      seenJti.add(jti);
      return { clientId, client };
    }
    let clientId = form.get('client_id') ?? '';
    let secret = form.get('client_secret');
    if (basic !== undefined) {
      // RFC 6749 section 2.3.1: id and secret are form-urlencoded before they are joined.
      const decoded = Buffer.from(basic, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const unform = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
      clientId = unform(decoded.slice(0, colon));
      secret = unform(decoded.slice(colon + 1));
    }
    const client = clients.get(clientId);
    if (!client) throw new OAuthFailure('invalid_client', 401, 'unknown client');
    if (client.secret !== undefined && secret !== client.secret) throw new OAuthFailure('invalid_client', 401, 'client authentication failed');
    if (client.secret === undefined && secret !== null) throw new OAuthFailure('invalid_client', 401, 'client has no secret');
    return { clientId, client };
  }

  function grantToken(req: IncomingMessage, form: Form): Record<string, unknown> {
    switch (form.get('grant_type')) {
      case 'client_credentials': {
        const { clientId, client } = authenticateClient(req, form);
        if (client.secret === undefined && !client.certificate) throw new OAuthFailure('unauthorized_client', 400, 'public clients cannot use client credentials');
        return issue('client_credentials', client.mailbox ?? clientId, clientId, form.get('scope') ?? '');
      }
      case 'refresh_token': {
        const { clientId } = authenticateClient(req, form);
        const presented = form.get('refresh_token') ?? '';
        const grant = refreshTokens.get(presented);
        if (!grant || grant.clientId !== clientId) throw new OAuthFailure('invalid_grant', 400, 'refresh token unknown, revoked or of another client');
        const out: Record<string, unknown> = issue('refresh_token', grant.user, clientId, form.get('scope') ?? '');
        if (grant.rotate) {
          refreshTokens.delete(presented);
          out['refresh_token'] = newToken('rt');
          refreshTokens.set(out['refresh_token'] as string, grant);
        }
        return out;
      }
      case JWT_BEARER: {
        const jwt = parseJwt(form.get('assertion') ?? '');
        const account = String(jwt.claims['iss']);
        const key = serviceAccounts.get(account);
        if (!key) throw new OAuthFailure('invalid_client', 401, 'unknown service account');
        checkJwt(jwt, key, tokenUrl());
        const { sub, scope } = jwt.claims;
        if (typeof sub !== 'string' || sub === '') throw new OAuthFailure('invalid_grant', 400, 'assertion names no subject');
        if (typeof scope !== 'string' || scope === '') throw new OAuthFailure('invalid_scope', 400, 'assertion names no scope');
        return issue('jwt_bearer', sub, account, scope);
      }
      default:
        throw new OAuthFailure('unsupported_grant_type', 400, `grant_type ${form.get('grant_type') ?? '(none)'}`);
    }
  }

  function introspect(token: string): Introspection {
    const t = tokens.get(token);
    if (!t || t.expiresAtMs <= Date.now()) return { active: false };
    return { active: true, username: t.username, exp: Math.floor(t.expiresAtMs / 1000), scope: t.scope, client_id: t.clientId, token_type: 'Bearer' };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // RFC 6749 section 5.1: token replies must not be cached.
    const send = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
    if (req.method !== 'POST' || (req.url !== '/token' && req.url !== '/introspect')) return void send(404, { error: 'not_found' });
    const form = new URLSearchParams(await readBody(req));
    if (req.url === '/introspect') return void send(200, introspect(form.get('token') ?? ''));
    tokenRequests += 1;
    try {
      if (refusal) throw new OAuthFailure(refusal.error, refusal.error === 'invalid_client' ? 401 : 400, refusal.description);
      send(200, grantToken(req, form));
    } catch (err) {
      if (!(err instanceof OAuthFailure)) throw err;
      send(err.status, { error: err.error, error_description: err.message });
    }
  }

  const http = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'server_error', error_description: (err as Error).message }));
    });
  });
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, '127.0.0.1', () => {
        http.off('error', reject);
        port = (http.address() as { port: number }).port;
        resolve();
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      if (!http.listening) return resolve();
      http.close(() => resolve());
      http.closeAllConnections();
    });
  await listen();

  const server: OAuthServer = {
    url: `http://127.0.0.1:${port}`,
    tokenUrl: tokenUrl(),
    introspectionUrl: `http://127.0.0.1:${port}/introspect`,
    tokenLifetimeSeconds: opts.tokenLifetimeSeconds ?? 3,
    issued,
    get tokenRequests() {
      return tokenRequests;
    },
    addClient({ clientId, clientSecret, certificatePem, mailbox }) {
      const client: Client = {};
      if (clientSecret !== undefined) client.secret = clientSecret;
      if (mailbox !== undefined) client.mailbox = mailbox;
      if (certificatePem !== undefined) {
        const cert = new X509Certificate(certificatePem);
        client.certificate = { publicKey: cert.publicKey, x5t: createHash('sha1').update(cert.raw).digest('base64url') };
      }
      clients.set(clientId, client);
    },
    addRefreshToken({ clientId, user, rotate = false }) {
      const token = newToken('rt');
      refreshTokens.set(token, { clientId, user, rotate });
      return token;
    },
    addServiceAccount({ clientEmail, publicKeyPem }) {
      serviceAccounts.set(clientEmail, createPublicKey(publicKeyPem));
    },
    issueAccessToken(user, lifetimeSeconds) {
      return issue(null, user, 'test', '', lifetimeSeconds).access_token;
    },
    introspect,
    refuse(error, description = 'refused by the test') {
      refusal = error === null ? null : { error, description };
    },
    stop: stopListening,
    start: listen,
    close: stopListening,
  };
  return server;
}

interface Jwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  input: string;
  signature: Buffer;
}

function parseJwt(jwt: string): Jwt {
  const parts = jwt.split('.');
  if (parts.length !== 3) throw new OAuthFailure('invalid_grant', 400, 'assertion is not a compact JWS');
  try {
    const json = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
    return { header: json(parts[0]!), claims: json(parts[1]!), input: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2]!, 'base64url') };
  } catch (err) {
    throw new OAuthFailure('invalid_grant', 400, `assertion unreadable: ${(err as Error).message}`);
  }
}

/** RFC 7523 section 3: RS256 signature, audience = this token endpoint, within exp/nbf. */
function checkJwt(jwt: Jwt, key: KeyObject, audience: string): void {
  if (jwt.header['alg'] !== 'RS256') throw new OAuthFailure('invalid_grant', 400, `alg ${String(jwt.header['alg'])} is not RS256`);
  if (!verify('sha256', Buffer.from(jwt.input), key, jwt.signature)) throw new OAuthFailure('invalid_grant', 400, 'bad assertion signature');
  if (jwt.claims['aud'] !== audience) throw new OAuthFailure('invalid_grant', 400, `aud ${String(jwt.claims['aud'])} is not ${audience}`);
  const nowS = Date.now() / 1000;
  const { exp, nbf } = jwt.claims;
  if (typeof exp !== 'number' || exp + CLOCK_SKEW_S < nowS) throw new OAuthFailure('invalid_grant', 400, 'assertion expired');
  if (typeof nbf === 'number' && nbf - CLOCK_SKEW_S > nowS) throw new OAuthFailure('invalid_grant', 400, 'assertion not yet valid');
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error('request body over 64 KiB');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A fresh RSA key and self-signed certificate (`openssl req -x509`, CN `commonName`, 2 days).
 * `pem` holds both, as BLEND_OAUTH_CLIENT_CERTIFICATE_FILE does; register `certificatePem`.
 */
export async function createTestCertificate(commonName = 'blend-test'): Promise<{ pem: string; certificatePem: string; privateKeyPem: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'blend-cert-'));
  try {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    // Node's crypto makes keys but not X.509 certificates; openssl does.
    await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${commonName}`, '-days', '2', '-keyout', key, '-out', cert], {
      timeout: 30_000,
    });
    const [privateKeyPem, certificatePem] = await Promise.all([readFile(key, 'utf8'), readFile(cert, 'utf8')]);
    return { pem: privateKeyPem + certificatePem, certificatePem, privateKeyPem };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A Google-style service-account JSON key (what BLEND_OAUTH_SERVICE_ACCOUNT_FILE holds) with a
 * fresh RSA key, and its public key for {@link OAuthServer.addServiceAccount}.
 */
export async function createServiceAccountKey(opts: { tokenUri: string; clientEmail?: string }): Promise<{ json: string; clientEmail: string; publicKeyPem: string }> {
  const { publicKey, privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  const clientEmail = opts.clientEmail ?? `blend-${randomBytes(4).toString('hex')}@blend-test.iam.gserviceaccount.com`;
  const json = JSON.stringify({
    type: 'service_account',
    project_id: 'blend-test',
    private_key_id: randomBytes(20).toString('hex'),
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    client_email: clientEmail,
    client_id: String(Date.now()),
    token_uri: opts.tokenUri,
  });
  return { json, clientEmail, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}
