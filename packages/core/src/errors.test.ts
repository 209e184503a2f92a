import { describe, expect, it } from 'vitest';
import { assertNever, ERROR_CODES, PermanentError, type ErrorCode } from './errors';

/** An exhaustive mapping as services will write it; fails to compile if a code is added without a case. */
function httpStatus(code: ErrorCode): number {
  switch (code) {
    case 'VALIDATION':
    case 'MALFORMED_MIME':
    case 'MIME_LIMITS':
      return 400;
    case 'UNAUTHORIZED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'INBOUND_NOT_FOUND':
    case 'NOT_FOUND':
      return 404;
    case 'CONFLICT':
      return 409;
    case 'TOO_LARGE':
      return 413;
    default:
      return assertNever(code);
  }
}

describe('PermanentError', () => {
  it.each(ERROR_CODES.map((code) => [code]))('%s keeps its code, message and name', (code) => {
    const err = new PermanentError(code, 'inbound 42');
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code, message: 'inbound 42', name: 'PermanentError' });
    expect(httpStatus(err.code)).toBeGreaterThanOrEqual(400);
  });
});

describe('assertNever', () => {
  it.each([['NEW_CODE'], [42]])('throws for %j', (value) => {
    expect(() => assertNever(value as never)).toThrow(/Unexpected value/);
  });
});
