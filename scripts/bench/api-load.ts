/**
 * Load generators of the API benchmark: autocannon at a capped rate and flat out, and an
 * open-loop generator that starts one request every 1/rate s whatever the answers do.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { percentile } from './stats';

export interface LoadResult {
  /** Responses received (any status); the open loop counts from its first planned start to its last answer. */
  requests: number;
  seconds: number;
  /** Responses per second over the run. */
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Connection errors and timeouts, and non-2xx responses. */
  errors: number;
  non2xx: number;
  /** Mean response body bytes (autocannon: bytes on the wire incl. headers). */
  bytesPerResponse: number;
}

export interface Target {
  url: string;
  token: string;
  /** Paths (with query) requested in turn. */
  paths: string[];
  /** More request headers (e.g. `cache-control: no-cache`). */
  headers?: Record<string, string>;
}

const headers = (t: Target) => ({ ...t.headers, authorization: `Bearer ${t.token}`, accept: 'application/json' });

/**
 * autocannon with `connections` keep-alive connections; with `overallRate` each connection
 * sends at most its share of the rate per second (autocannon's cap: a connection sends
 * back to back until its quota for the second is used, then waits for the next second).
 * Latencies are recorded as measured (`ignoreCoordinatedOmission`): autocannon's correction
 * assumes an interval of ceil(1 / per-connection rate) = 1 ms and would add a sample per
 * millisecond of every response.
 */
export async function runAutocannon(t: Target, o: { seconds: number; connections: number; overallRate?: number }): Promise<LoadResult> {
  const r = await autocannon({
    url: t.url,
    connections: o.connections,
    duration: o.seconds,
    headers: headers(t),
    requests: t.paths.map((path) => ({ method: 'GET' as const, path })),
    ...(o.overallRate ? { overallRate: o.overallRate, ignoreCoordinatedOmission: true } : {}),
    timeout: 10,
  });
  const responses = r['1xx'] + r['2xx'] + r['3xx'] + r['4xx'] + r['5xx'];
  return {
    requests: responses,
    seconds: r.duration,
    rps: responses / r.duration,
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    max: r.latency.max,
    errors: r.errors,
    non2xx: r.non2xx,
    bytesPerResponse: r.throughput.total / Math.max(1, responses),
  };
}

/** How long after the last planned start the open-loop run waits for answers. */
const DRAIN_MS = 15_000;

/**
 * Open loop: request i starts at t0 + i / rate on a keep-alive agent, whether or not earlier
 * ones have been answered, and its latency counts from that planned start, so a server (or
 * generator) that falls behind shows in the latencies instead of lowering the rate. Requests
 * still unanswered 15 s after the last start are aborted and count as errors, with the time
 * they had waited as their latency (a lower bound).
 */
export function runPaced(t: Target, o: { seconds: number; rate: number }): Promise<LoadResult & { maxInFlight: number }> {
  const base = new URL(t.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const total = Math.round(o.rate * o.seconds);
  const interval = 1000 / o.rate;
  const lat: number[] = [];
  let errors = 0;
  let non2xx = 0;
  let bytes = 0;
  let sent = 0;
  let settled = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const t0 = performance.now() + 20;
  const open = new Set<http.ClientRequest>();
  let deadline: NodeJS.Timeout | undefined;
  return new Promise((resolve) => {
    const settle = () => {
      inFlight--;
      if (++settled < total) return;
      clearTimeout(deadline);
      agent.destroy();
      const seconds = (performance.now() - t0) / 1000;
      resolve({
        requests: lat.length - errors, seconds, rps: (lat.length - errors) / seconds,
        p50: percentile(lat, 50), p90: percentile(lat, 90), p99: percentile(lat, 99), max: Math.max(...lat),
        errors, non2xx, bytesPerResponse: bytes / Math.max(1, lat.length), maxInFlight,
      });
    };
    const fire = (i: number, planned: number) => {
      let done = false;
      const once = (fn: () => void) => () => {
        if (done) return;
        done = true;
        fn();
        settle();
      };
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const failed = once(() => {
        errors++;
        lat.push(performance.now() - planned);
      });
      const req = http.get({ agent, host: base.hostname, port: base.port, path: t.paths[i % t.paths.length], headers: headers(t) }, (res) => {
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
        });
        res.on('end', once(() => {
          lat.push(performance.now() - planned);
          if ((res.statusCode ?? 0) >= 300) non2xx++;
        }));
        res.on('error', failed);
      });
      open.add(req);
      req.once('close', () => open.delete(req));
      req.on('error', failed);
    };
    deadline = setTimeout(() => {
      for (const req of open) req.destroy(new Error('no answer before the deadline'));
    }, o.seconds * 1000 + DRAIN_MS + 20);
    const tick = () => {
      const now = performance.now();
      while (sent < total && t0 + sent * interval <= now) {
        fire(sent, t0 + sent * interval);
        sent++;
      }
      if (sent < total) setTimeout(tick, Math.max(0, t0 + sent * interval - performance.now()));
    };
    setTimeout(tick, 20);
  });
}
