// Signed-link tokens never reach the logs (docs/SECURITY.md, "Secrets in logs"): the API's
// request log keeps the path and the query's parameter names, never their values.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@blend/runtime';
import { signLink } from '@blend/core';
import { startTestApi, type TestApi } from './support/api';

const lines: string[] = [];
const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
let s: TestApi;

beforeAll(async () => {
  s = await startTestApi({ log: createLogger('api', 'info', sink) });
});
afterAll(async () => s?.close());

describe('request logs', () => {
  it('log a signed link without its token, for a valid, an invalid and an unknown route', async () => {
    const t = signLink({ purpose: 'opt_in', subject: 'carol@example.test', exp: Math.floor(Date.now() / 1000) + 3600 }, 's'.repeat(32));
    const shown = await s.app.inject({ method: 'GET', url: `/links/opt-in?t=${encodeURIComponent(t)}` });
    expect(shown.statusCode).toBe(200);
    expect(shown.body).toContain('carol@example.test');
    const opted = await s.app.inject({
      method: 'POST',
      url: `/links/opt-in?t=${encodeURIComponent(t)}`,
      payload: `t=${encodeURIComponent(t)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(opted.statusCode).toBe(200);
    expect((await s.app.inject({ method: 'GET', url: '/links/opt-in?t=forged.token-value' })).statusCode).toBe(400);
    expect((await s.app.inject({ method: 'GET', url: '/no/such/page?t=forged.token-value' })).statusCode).toBe(404);

    const logged = lines.join('');
    const mac = t.split('.')[1]!;
    expect(logged).not.toContain(mac);
    expect(logged).not.toContain('forged.token-value');
    const urls = lines.map((l) => (JSON.parse(l) as { req?: { url?: string } }).req?.url).filter((u) => u !== undefined);
    expect(urls).toEqual(['/links/opt-in?t=[redacted]', '/links/opt-in?t=[redacted]', '/links/opt-in?t=[redacted]', '/no/such/page?t=[redacted]']);
  });
});
