import { describe, expect, it } from 'vitest';
import { presentedCredential, rateClass, rateKey } from './rate-limits';

describe('rateClass', () => {
  it.each([
    ['GET', '/healthz', 'none'],
    ['GET', '/readyz', 'none'],
    ['GET', '/metrics', 'none'],
    ['GET', '/api/v1/feed', 'general'],
    ['POST', '/api/v1/posts', 'general'],
    ['GET', '/web/login', 'general'],
    ['POST', '/web/login', 'sign_in'],
    ['GET', '/web/auth/start', 'general'],
    ['GET', '/web/auth/callback', 'general'],
    ['GET', '/links/opt-in', 'sign_in'],
    ['POST', '/links/unsubscribe', 'sign_in'],
    ['GET', '/docs', 'general'],
  ] as const)('%s %s -> %s', (method, url, cls) => {
    expect(rateClass(method, url)).toBe(cls);
  });
});

describe('rateKey', () => {
  it('counts sign-ins by address whatever credential is shown, other use by credential', () => {
    expect(rateKey('sign_in', '10.0.0.1', 'bearer:abc')).toBe('sign_in:ip:10.0.0.1');
    expect(rateKey('general', '10.0.0.1', null)).toBe('general:ip:10.0.0.1');
    const a = rateKey('general', '10.0.0.1', 'bearer:abc');
    expect(a).toMatch(/^general:cred:[0-9a-f]{32}$/);
    expect(a).not.toContain('abc');
    expect(rateKey('general', '10.0.0.2', 'bearer:abc')).toBe(a);
    expect(rateKey('general', '10.0.0.1', 'bearer:abd')).not.toBe(a);
  });
});

describe('presentedCredential', () => {
  it.each([
    [{}, null],
    [{ authorization: 'Bearer tok_123' }, 'bearer:tok_123'],
    [{ authorization: 'Basic abc' }, null],
    [{ cookie: 'a=1; blend_session=s3cret; b=2' }, 'session:s3cret'],
    [{ cookie: 'xblend_session=s3cret' }, null],
    [{ authorization: 'Bearer t', cookie: 'blend_session=s' }, 'bearer:t'],
  ])('%o -> %s', (headers, expected) => {
    expect(presentedCredential(headers)).toBe(expected);
  });
});
