import { describe, expect, it } from 'vitest';
import { loadConfig, maskConfig } from './config';
import { MINIMAL_ENV } from './minimal-env.fixture';

const good = { ...MINIMAL_ENV };
const sso = { BLEND_OIDC_ISSUER: 'https://login.example.com/tenant/v2.0', BLEND_OIDC_CLIENT_ID: 'blend', BLEND_PUBLIC_URL: 'https://blend.example.com' };

describe('BLEND_OIDC_* (single sign-on)', () => {
  it('is off unless an issuer is set; creating people is off by default', () => {
    const c = loadConfig(good);
    expect(c.BLEND_OIDC_ISSUER).toBeUndefined();
    expect(loadConfig({ ...good, ...sso }).BLEND_OIDC_CREATE_PEOPLE).toBe(false);
    expect(loadConfig({ ...good, ...sso, BLEND_OIDC_CREATE_PEOPLE: 'true' }).BLEND_OIDC_CREATE_PEOPLE).toBe(true);
  });

  it.each([
    [{ BLEND_OIDC_ISSUER: sso.BLEND_OIDC_ISSUER, BLEND_PUBLIC_URL: sso.BLEND_PUBLIC_URL }, /BLEND_OIDC_CLIENT_ID: is required when BLEND_OIDC_ISSUER is set/],
    [{ BLEND_OIDC_CLIENT_ID: 'blend' }, /BLEND_OIDC_ISSUER: is required when BLEND_OIDC_CLIENT_ID is set/],
    [{ ...sso, BLEND_OIDC_ISSUER: 'http://idp.example.com' }, /BLEND_OIDC_ISSUER: must be an https:\/\/ URL/],
    [{ ...sso, BLEND_PUBLIC_URL: undefined }, /BLEND_PUBLIC_URL: is required with BLEND_OIDC_ISSUER/],
  ])('refuses %o', (env, message) => {
    expect(() => loadConfig({ ...good, ...env })).toThrow(message);
  });

  it('accepts plain http for an IdP on loopback (tests) and masks the client secret', () => {
    const c = loadConfig({ ...good, ...sso, BLEND_OIDC_ISSUER: 'http://127.0.0.1:9999', BLEND_OIDC_CLIENT_SECRET: 'very-secret-value' });
    expect(maskConfig(c).BLEND_OIDC_CLIENT_SECRET).toBe('********');
  });
});
