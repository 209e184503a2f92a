import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config';
import { publishedSecretProblem } from './secret-strength';

describe('publishedSecretProblem', () => {
  it.each([
    ['change-me-to-64-hex-characters-from-openssl-rand-hex-32', true],
    ['CHANGEME-0123456789abcdef0123456789abcdef', true],
    ['replace_me_with_openssl_rand_hex_32_output_please', true],
    ['please change me 0123456789abcdef0123456789', true],
    [randomBytes(32).toString('hex'), false],
    ['x'.repeat(32), false],
    // A word that merely contains the letters is fine.
    ['exchangemeter-0123456789abcdef0123456789abcdef', false],
  ])('%s -> refused: %s', (value, refused) => {
    expect(publishedSecretProblem(value) !== undefined).toBe(refused);
  });
});

describe('BLEND_SECRET in the configuration', () => {
  const env = {
    DATABASE_URL: 'postgres://localhost/blend',
    REDIS_URL: 'redis://localhost:6379',
    BLEND_IMAP_URL: 'imap://u:p@localhost/INBOX',
    BLEND_SMTP_URL: 'smtp://localhost:25',
    BLEND_MAIL_DOMAIN: 'example.test',
  };
  it('refuses the key docker-compose.yml used to default to, naming the setting and the fix', () => {
    expect(() => loadConfig({ ...env, BLEND_SECRET: 'change-me-to-64-hex-characters-from-openssl-rand-hex-32' })).toThrow(
      /BLEND_SECRET.*placeholder.*openssl rand -hex 32/s,
    );
  });
  it('accepts a random key', () => {
    expect(loadConfig({ ...env, BLEND_SECRET: randomBytes(32).toString('hex') }).BLEND_SECRET).toHaveLength(64);
  });
});
