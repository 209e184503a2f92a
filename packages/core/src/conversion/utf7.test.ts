import { describe, expect, it } from 'vitest';
import { declaresUtf7, decodeUtf7 } from './utf7';

describe('decodeUtf7', () => {
  it.each([
    ['Gr+APwA3w-e', 'Grüße'],
    ['M+APw-nchen', 'München'],
    ['3 +IKw-', '3 €'],
    ['1 +- 1', '1 + 1'],
    ['+ADw-script+AD4-', '<script>'],
    ['+2D3eAA-', '😀'],
    ['Hi Mom -+Jjo--!', 'Hi Mom -☺-!'],
    ['+ZeVnLIqe-', '日本語'],
    ['plain ASCII', 'plain ASCII'],
    ['lone + sign', 'lone + sign'],
  ])('%j -> %j', (input, expected) => {
    expect(decodeUtf7(input)).toBe(expected);
  });
});

describe('declaresUtf7', () => {
  it.each<[string[], boolean]>([
    [['text/plain; charset=UTF-7'], true],
    [['text/plain; charset="utf-7"; format=flowed'], true],
    [['text/html; charset=unicode-1-1-utf-7'], true],
    [['text/plain; charset=utf-8'], false],
    [['multipart/alternative; boundary="utf-7"'], false],
    [[], false],
  ])('%j -> %s', (contentType, expected) => {
    expect(declaresUtf7({ 'content-type': contentType })).toBe(expected);
  });
});
