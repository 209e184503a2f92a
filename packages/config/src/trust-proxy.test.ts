import { describe, expect, it } from 'vitest';
import { trustProxySetting } from './trust-proxy';

describe('BLEND_TRUST_PROXY', () => {
  it.each([
    [undefined, false],
    ['false', false],
    ['true', true],
    ['1', 1],
    ['2', 2],
    ['10.0.0.5', ['10.0.0.5']],
    ['10.0.0.0/8, 192.168.1.1 ,fd00::/8', ['10.0.0.0/8', '192.168.1.1', 'fd00::/8']],
  ])('%s -> %o', (value, expected) => {
    expect(trustProxySetting.parse(value)).toEqual(expected);
  });

  it.each(['proxy.example.com', '10.0.0.0/33', '10.0.0.1/8/2', 'fd00::/129', ',', '-1'])('refuses %s', (value) => {
    expect(trustProxySetting.safeParse(value).success).toBe(false);
  });
});
