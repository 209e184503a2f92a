/**
 * Stable reason codes for failures that retrying cannot fix.
 *
 * Workers turn a {@link PermanentError} into BullMQ's `UnrecoverableError` and
 * record `rejected:<code>`; the API maps the same codes to HTTP statuses. Keep
 * the strings stable: they are stored in the database and counted in metrics.
 */
export type ErrorCode =
  | 'INBOUND_NOT_FOUND'
  | 'MALFORMED_MIME'
  | 'TOO_LARGE'
  | 'MIME_LIMITS'
  | 'VALIDATION'
  | 'NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'CONFLICT'
  | 'OUTBOUND_NOT_FOUND'
  | 'SMTP_REJECTED'
  /** The raw mail asked for is no longer stored (retention, erasure). */
  | 'SOURCE_PURGED'
  /** Too many requests from one person or address (BLEND_RATE_LIMIT_*). */
  | 'RATE_LIMITED';

/** Every {@link ErrorCode}, for exhaustive tests and schema enums. */
export const ERROR_CODES: readonly ErrorCode[] = [
  'INBOUND_NOT_FOUND',
  'MALFORMED_MIME',
  'TOO_LARGE',
  'MIME_LIMITS',
  'VALIDATION',
  'NOT_FOUND',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'CONFLICT',
  'OUTBOUND_NOT_FOUND',
  'SMTP_REJECTED',
  'SOURCE_PURGED',
  'RATE_LIMITED',
];

/**
 * A failure that will fail again on retry (bad input, missing row, no permission).
 * Anything else that is thrown is treated as transient and retried with backoff.
 */
export class PermanentError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PermanentError';
  }
}

/**
 * Compile-time exhaustiveness check for `switch` statements over unions.
 * Reaching it at run time means a value arrived that the types did not allow
 * (e.g. a new code stored by a newer version), so it throws.
 */
export function assertNever(x: never): never {
  throw new Error(`Unexpected value: ${JSON.stringify(x) ?? String(x)}`);
}
