// The API's /metrics as Prometheus scrapes it: request durations by route pattern (never the
// URL, which can carry ids and signed-link tokens) and the process defaults named blend_process_*
// and blend_nodejs_* (docs/SECURITY.md I3).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './support/api';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.close());

const scrape = async () => {
  const res = await api.app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  return res.body;
};

/** The label sets of a histogram's `_count` series. */
function countSeries(body: string, name: string): Record<string, string>[] {
  return body
    .split('\n')
    .filter((l) => l.startsWith(`${name}_count{`))
    .map((l) => Object.fromEntries([...l.slice(l.indexOf('{') + 1, l.lastIndexOf('}')).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!])));
}

describe('/metrics', () => {
  it('names the process defaults blend_process_* and blend_nodejs_*, without a doubled prefix', async () => {
    const body = await scrape();
    expect(body).toMatch(/^# TYPE blend_process_cpu_user_seconds_total counter$/m);
    expect(body).toMatch(/^blend_process_resident_memory_bytes \d+/m);
    expect(body).toMatch(/^# TYPE blend_nodejs_heap_size_used_bytes gauge$/m);
    expect(body).not.toContain('blend_process_process_');
    expect(body).not.toContain('blend_process_nodejs_');
    // Every metric the API exposes is Blend's.
    const names = body.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]!);
    expect(names.filter((n) => !n.startsWith('blend_'))).toEqual([]);
  });

  it('times requests by method, route pattern and status code, with no id or token in a label', async () => {
    const id = randomUUID();
    const token = `tok${randomUUID().replace(/-/g, '')}`;
    expect((await api.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    // A post that does not exist (401 without a token) and a signed link with a bad token.
    await api.app.inject({ method: 'GET', url: `/api/v1/posts/${id}` });
    await api.app.inject({ method: 'GET', url: `/links/opt-in?t=${token}` });
    await api.app.inject({ method: 'GET', url: `/no/such/${id}` });
    const body = await scrape();
    expect(body).toMatch(/^# TYPE blend_http_request_duration_seconds histogram$/m);
    const series = countSeries(body, 'blend_http_request_duration_seconds');
    expect(series).toContainEqual({ method: 'GET', route: '/healthz', status_code: '200' });
    expect(series).toContainEqual(expect.objectContaining({ method: 'GET', route: '/api/v1/posts/:id' }));
    expect(series).toContainEqual(expect.objectContaining({ method: 'GET', route: '/links/opt-in' }));
    expect(series).toContainEqual({ method: 'GET', route: 'unmatched', status_code: '404' });
    for (const s of series) expect(Object.keys(s).sort()).toEqual(['method', 'route', 'status_code']);
    expect(body).not.toContain(id);
    expect(body).not.toContain(token);
    // A bucket per route, so Prometheus can take quantiles.
    expect(body).toMatch(/^blend_http_request_duration_seconds_bucket\{le="0\.1",method="GET",route="\/healthz",status_code="200"\} [1-9]/m);
  });
});
