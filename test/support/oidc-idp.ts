import type { Server } from 'node:http';
import Provider from 'oidc-provider';

/** An account of the test IdP: what it says about the person behind a login name. */
export interface IdpAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
}

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
}

/**
 * A real OpenID Connect provider on loopback (the certified `oidc-provider` package) for the
 * single-sign-on tests: one confidential client with the given redirect URIs, PKCE required,
 * and its development login pages (any password; the login name picks an account from
 * `accounts`). ID tokens carry `sub` only; email and name come from UserInfo, as with many IdPs.
 */
export async function startTestIdp(port: number, redirectUris: string[], accounts: Record<string, IdpAccount>): Promise<TestIdp> {
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = 'blend-test';
  const clientSecret = 'blend-test-secret-0123456789abcdef';
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: redirectUris, grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_post' }],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    pkce: { required: () => true },
    cookies: { keys: ['test-idp-cookie-key-0123456789abcdef'] },
    features: { devInteractions: { enabled: true } },
    findAccount: async (_ctx: unknown, id: string) =>
      accounts[id]
        ? { accountId: id, claims: async () => ({ sub: id, ...accounts[id] }) }
        : undefined,
  });
  // The provider warns about development-only settings on stdout; the test does not need them.
  const server: Server = await new Promise((resolve) => {
    const s = provider.listen(port, '127.0.0.1', () => resolve(s));
  });
  return {
    issuer,
    clientId,
    clientSecret,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
