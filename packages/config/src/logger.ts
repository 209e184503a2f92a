import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The one root logger of a service: JSON lines, with secrets and bodies redacted.
 * Use `log.child({ jobId, inboundId })` for per-job context.
 */
export function createLogger(service: string, level = 'info'): Logger {
  return pino({
    level,
    base: { service },
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
  });
}
