/**
 * For the config package's unit tests: the least environment `loadConfig` accepts, with
 * loopback servers and a secret no deployment would use. Tests spread it and add or
 * override the settings they are about.
 */
export const MINIMAL_ENV = {
  DATABASE_URL: 'postgres://127.0.0.1:5432/test',
  REDIS_URL: 'redis://127.0.0.1:6379',
  BLEND_IMAP_URL: 'imap://bridge%40example.test:secret@127.0.0.1:143/INBOX',
  BLEND_SMTP_URL: 'smtp://127.0.0.1:2525',
  BLEND_MAIL_DOMAIN: 'example.test',
  BLEND_SECRET: 'x'.repeat(32),
} as const;
