// BLEND_METRICS_TOKEN: the API port faces people, so with a token set /metrics answers only
// Prometheus (Authorization: Bearer TOKEN); without it, /metrics answers everyone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './support/api';

const TOKEN = 'prometheus-scrape-token-3f9a';
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ metricsToken: TOKEN });
});
afterAll(async () => api?.close());

describe('/metrics with BLEND_METRICS_TOKEN', () => {
  it.each([
    ['no credentials', undefined],
    ['the wrong token', `Bearer ${TOKEN}x`],
    ['the token without its scheme', TOKEN],
  ])('refuses %s', async (_what, authorization) => {
    const res = await api.app.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="metrics"');
    expect(res.body).not.toContain('blend_');
  });

  it('answers Prometheus with the token', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/^# HELP blend_/m);
  });

  it('leaves /healthz and /readyz open for probes', async () => {
    expect((await api.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});
