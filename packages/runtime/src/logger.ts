import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * A request URL as logs may hold it: the path, and each query parameter's name with its value
 * replaced. Signed links carry their token in the query (`/links/opt-in?t=…`), and a log line
 * must never be a way to use one (docs/SECURITY.md, "Secrets in logs").
 */
export function urlForLog(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const names = url
    .slice(q + 1)
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => `${pair.split('=')[0]}=[redacted]`);
  return names.length > 0 ? `${url.slice(0, q)}?${names.join('&')}` : url.slice(0, q);
}

/** Fastify's request fields, with the URL through {@link urlForLog}. */
interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remoteAddress?: string; remotePort?: number };
}

function requestForLog(req: LoggedRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: typeof req.url === 'string' ? urlForLog(req.url) : undefined,
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/**
 * The one root logger of a service: JSON lines, with secrets, bodies and query strings
 * redacted. Use `log.child({ jobId, inboundId })` for per-job context.
 * @param destination - where lines go (tests collect them); standard output by default.
 */
export function createLogger(service: string, level = 'info', destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service },
    // Fastify logs each request as `req`; the same serializer applies to any `req` we log.
    serializers: { req: requestForLog },
    redact: {
      paths: [
        'password',
        '*.password',
        'authorization',
        '*.authorization',
        'req.headers.authorization',
        'req.headers.cookie',
        'token',
        '*.token',
        'accessToken',
        '*.accessToken',
        'clientSecret',
        '*.clientSecret',
        'refreshToken',
        '*.refreshToken',
        '*.pass',
        '*.text',
        '*.html',
        '*.raw',
        'raw',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
