// A Blend service refuses to start with no BLEND_SECRET or with a published placeholder, and
// says how to make a key (docs/SECURITY.md B33): the real worker program, started as IT would.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PUBLISHED_SECRETS } from '@blend/config';

const root = path.resolve(import.meta.dirname, '..');

function startWorker(env: Record<string, string>): Promise<{ code: number | null; err: string }> {
  // Servers that do not exist: the process must stop on its configuration, before any connection.
  const base = {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: 'postgres://blend@127.0.0.1:1/blend',
    REDIS_URL: 'redis://127.0.0.1:1',
    BLEND_IMAP_URL: 'imap://u:p@127.0.0.1:1/INBOX',
    BLEND_SMTP_URL: 'smtp://127.0.0.1:1',
    BLEND_MAIL_DOMAIN: 'example.test',
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/worker/src/main.ts'], { cwd: root, env: { ...base, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, err });
    });
  });
}

describe('the worker with a missing or published BLEND_SECRET', () => {
  it.each([
    ['missing', {}],
    ['the old docker-compose.yml default', { BLEND_SECRET: PUBLISHED_SECRETS[0]! }],
    ['a change-me placeholder', { BLEND_SECRET: 'changeme-changeme-changeme-changeme-1234' }],
  ])('%s: exits 2 naming BLEND_SECRET and `openssl rand -hex 32`', async (_, env) => {
    const r = await startWorker(env);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/BLEND_SECRET.*openssl rand -hex 32/);
    // The value itself is never echoed.
    if ('BLEND_SECRET' in env) expect(r.err).not.toContain(env.BLEND_SECRET);
  });
});
