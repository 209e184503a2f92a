import type { FastifyInstance } from 'fastify';
import { Histogram } from 'prom-client';
import type { Metrics } from '@blend/runtime';

/** Label of a request no route matched (a 404): its URL is never a label. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * `blend_http_request_duration_seconds{method, route, status_code}` for every request the API
 * answers. `route` is the route's pattern (`/api/v1/posts/:id`), never the URL: ids and the
 * tokens of signed links stay out of the labels (docs/SECURITY.md I3), and the number of
 * series stays bounded by the routes.
 */
export function instrumentHttp(app: FastifyInstance, metrics: Metrics): void {
  const name = 'blend_http_request_duration_seconds';
  // One histogram per registry: buildApp runs more than once in a process in tests.
  const histogram =
    (metrics.registry.getSingleMetric(name) as Histogram<'method' | 'route' | 'status_code'> | undefined) ??
    new Histogram({
      name,
      help: 'Duration of HTTP requests to the API by method, route pattern and status code',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [metrics.registry],
    });
  app.addHook('onResponse', async (req, reply) => {
    // The live stream stays open for as long as the reader does: its length is no latency.
    if (req.routeOptions.url === '/api/v1/stream') return;
    histogram.observe(
      { method: req.method, route: req.routeOptions.url ?? UNMATCHED_ROUTE, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
}
