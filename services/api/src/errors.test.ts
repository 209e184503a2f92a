import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '@blend/core';
import { httpStatus } from './errors';

describe('httpStatus', () => {
  it.each(ERROR_CODES.map((c) => [c]))('maps %s to a 4xx status', (code) => {
    const status = httpStatus(code);
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
  });
});
