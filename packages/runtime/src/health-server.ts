import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/** A readiness check: resolves to 'ok' or a short reason why the service is not ready. */
export type ReadyCheck = () => Promise<string>;

/**
 * `/healthz`, `/readyz` and `/metrics` for a service without its own HTTP API (worker,
 * poller). Listens on 127.0.0.1 unless told otherwise; port 0 disables it.
 */
export async function startHealthServer(opts: {
  port: number;
  host?: string;
  /** The checks, or a function giving them at each request (the poller's mailboxes change). */
  checks: Record<string, ReadyCheck> | (() => Record<string, ReadyCheck>);
  registry: Registry;
}): Promise<{ url: string; close(): Promise<void> } | null> {
  if (opts.port === 0) return null;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, JSON.stringify({ error: { code: 'METHOD_NOT_ALLOWED', message: 'GET only' } }));
    if (path === '/healthz') return send(200, JSON.stringify({ status: 'ok' }));
    if (path === '/readyz') {
      void runChecks(typeof opts.checks === 'function' ? opts.checks() : opts.checks).then(({ ready, checks }) =>
        send(ready ? 200 : 503, JSON.stringify({ status: ready ? 'ready' : 'not_ready', checks })),
      );
      return;
    }
    if (path === '/metrics') {
      void opts.registry.metrics().then(
        (text) => send(200, text, opts.registry.contentType),
        (err: Error) => send(500, JSON.stringify({ error: { code: 'INTERNAL', message: err.message } })),
      );
      return;
    }
    return send(404, JSON.stringify({ error: { code: 'NOT_FOUND', message: `no route ${path}` } }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Run every check with a 2 s timeout; ready only when all say 'ok'. */
export async function runChecks(checks: Record<string, ReadyCheck>): Promise<{ ready: boolean; checks: Record<string, string> }> {
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, fn]): Promise<[string, string]> => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const r = await Promise.race([
          fn(),
          new Promise<string>((resolve) => {
            timer = setTimeout(() => resolve('no answer within 2000 ms'), 2_000);
          }),
        ]);
        return [name, r];
      } catch (err) {
        return [name, (err as Error).message || 'error'];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const out = Object.fromEntries(results);
  return { ready: Object.values(out).every((v) => v === 'ok'), checks: out };
}
