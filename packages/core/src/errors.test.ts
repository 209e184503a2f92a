import { describe, expect, it } from 'vitest';
import { assertNever, ERROR_CODES, PermanentError } from './errors';

describe('PermanentError', () => {
  it.each(ERROR_CODES.map((code) => [code]))('%s keeps its code, message and name', (code) => {
    const err = new PermanentError(code, 'inbound 42');
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code, message: 'inbound 42', name: 'PermanentError' });
  });
});

describe('assertNever', () => {
  it.each([['NEW_CODE'], [42]])('throws for %j', (value) => {
    expect(() => assertNever(value as never)).toThrow(/Unexpected value/);
  });
});
