import { readFileSync } from 'node:fs';
import type { OAuthSettings } from '@blend/core';
import { ConfigError, type Config } from './config';

/** The BLEND_OAUTH_* settings, for `loadConfigSubset` in tools that log in. */
export const OAUTH_KEYS = [
  'BLEND_OAUTH_TOKEN_URL',
  'BLEND_OAUTH_CLIENT_ID',
  'BLEND_OAUTH_CLIENT_SECRET',
  'BLEND_OAUTH_SCOPE',
  'BLEND_OAUTH_REFRESH_TOKEN',
  'BLEND_OAUTH_CLIENT_CERTIFICATE_FILE',
  'BLEND_OAUTH_SERVICE_ACCOUNT_FILE',
] as const;

type OAuthConfig = Pick<Config, (typeof OAUTH_KEYS)[number]>;

/**
 * Read the OAuth settings once, at start.
 * @throws ConfigError naming the variable whose file cannot be read (never the file's content).
 */
export function oauthSettings(c: OAuthConfig): OAuthSettings {
  const read = (variable: string, path: string | undefined): string | undefined => {
    if (!path) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError([{ variable, message: `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})` }]);
    }
  };
  const out: OAuthSettings = {};
  if (c.BLEND_OAUTH_TOKEN_URL) out.tokenUrl = c.BLEND_OAUTH_TOKEN_URL;
  if (c.BLEND_OAUTH_CLIENT_ID) out.clientId = c.BLEND_OAUTH_CLIENT_ID;
  if (c.BLEND_OAUTH_CLIENT_SECRET) out.clientSecret = c.BLEND_OAUTH_CLIENT_SECRET;
  if (c.BLEND_OAUTH_SCOPE) out.scope = c.BLEND_OAUTH_SCOPE;
  if (c.BLEND_OAUTH_REFRESH_TOKEN) out.refreshToken = c.BLEND_OAUTH_REFRESH_TOKEN;
  const pem = read('BLEND_OAUTH_CLIENT_CERTIFICATE_FILE', c.BLEND_OAUTH_CLIENT_CERTIFICATE_FILE);
  if (pem) out.clientCertificatePem = pem;
  const key = read('BLEND_OAUTH_SERVICE_ACCOUNT_FILE', c.BLEND_OAUTH_SERVICE_ACCOUNT_FILE);
  if (key) out.serviceAccountJson = key;
  return out;
}
