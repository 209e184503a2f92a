import type { FastifyError, FastifyInstance } from 'fastify';
import { assertNever, PermanentError, type ErrorCode } from '@blend/core';

/** HTTP status for each error code: the one place the API decides it. */
export function httpStatus(code: ErrorCode): number {
  switch (code) {
    case 'VALIDATION':
      return 400;
    case 'UNAUTHORIZED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
    case 'INBOUND_NOT_FOUND':
    case 'OUTBOUND_NOT_FOUND':
      return 404;
    case 'CONFLICT':
      return 409;
    case 'SOURCE_PURGED':
      return 410;
    case 'TOO_LARGE':
      return 413;
    case 'RATE_LIMITED':
      return 429;
    case 'MALFORMED_MIME':
    case 'MIME_LIMITS':
    case 'SMTP_REJECTED':
      return 422;
    default:
      return assertNever(code);
  }
}

/** Every error leaves the API as `{ error: { code, message } }` with a stable code. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | PermanentError, req, reply) => {
    if (err instanceof PermanentError) {
      return reply.status(httpStatus(err.code)).send({ error: { code: err.code, message: err.message } });
    }
    if ((err as FastifyError).validation) {
      return reply.status(400).send({ error: { code: 'VALIDATION', message: err.message } });
    }
    const status = (err as FastifyError).statusCode ?? 500;
    if (status >= 500) {
      req.log.error({ err }, 'request failed');
      return reply.status(status).send({ error: { code: 'INTERNAL', message: 'internal error' } });
    }
    return reply.status(status).send({ error: { code: (err as FastifyError).code ?? 'BAD_REQUEST', message: err.message } });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` } }),
  );
}
