import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dkimKeyProblem, dkimKeyText, dkimTxtRecord } from './dkim-key';
import { dkimSettings } from './dkim-settings';
import { ConfigError, loadConfig, maskConfig } from './config';
import { MINIMAL_ENV } from './minimal-env.fixture';

const rsa = (bits: number, type: 'pkcs1' | 'pkcs8' = 'pkcs8') =>
  generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ type, format: 'pem' }).toString();
const RSA2048 = rsa(2048);

const good = { ...MINIMAL_ENV, BLEND_MAIL_DOMAIN: 'blend.example.test' };

describe('dkimKeyProblem', () => {
  it.each([
    ['an RSA 2048 key (PKCS#8)', RSA2048, null],
    ['an RSA 1024 key (PKCS#1)', rsa(1024, 'pkcs1'), null],
    ['the same key with its line breaks written as \\n', RSA2048.replace(/\n/g, '\\n'), null],
    ['an RSA 512 key', rsa(512), /at least 1024 bits .* this one has 512/],
    ['an Ed25519 key', generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), /must be an RSA key .* this one is ed25519/],
    ['a public key', generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString(), /unencrypted PEM RSA private key/],
    ['not a key', 'hunter2', /unencrypted PEM RSA private key/],
    [
      'an encrypted key',
      generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString(),
      /unencrypted PEM RSA private key/,
    ],
  ])('%s', (_what, key, expected) => {
    const problem = dkimKeyProblem(key);
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
  });

  it('turns \\n escapes back into line breaks and ends with one', () => {
    expect(dkimKeyText(RSA2048.trim().replace(/\n/g, '\\n'))).toBe(RSA2048);
  });

  it('makes the TXT record that publishes the public key', () => {
    expect(dkimTxtRecord(RSA2048)).toMatch(/^v=DKIM1; k=rsa; p=MIIBIjAN[A-Za-z0-9+/]+=*$/);
  });
});

describe('DKIM settings', () => {
  it('signs as Blend\'s domain unless BLEND_DKIM_DOMAIN says otherwise', () => {
    const c = loadConfig({ ...good, BLEND_DKIM_SELECTOR: 'Blend2026', BLEND_DKIM_PRIVATE_KEY: RSA2048 });
    expect(dkimSettings(c)).toEqual({ domainName: 'blend.example.test', keySelector: 'blend2026', privateKey: RSA2048 });
    expect(dkimSettings(loadConfig({ ...good, BLEND_DKIM_SELECTOR: 's1', BLEND_DKIM_PRIVATE_KEY: RSA2048, BLEND_DKIM_DOMAIN: 'Example.TEST' }))?.domainName).toBe('example.test');
    const plus = { ...good, BLEND_MAIL_DOMAIN: undefined, BLEND_ADDRESSING: 'plus', BLEND_MAIL_ADDRESS: 'bridge@corp.example.test' };
    expect(dkimSettings(loadConfig({ ...plus, BLEND_DKIM_SELECTOR: 's1', BLEND_DKIM_PRIVATE_KEY: RSA2048 }))?.domainName).toBe('corp.example.test');
    expect(dkimSettings(loadConfig(good))).toBeUndefined();
  });

  it.each([
    [{ BLEND_DKIM_SELECTOR: 's1' }, /BLEND_DKIM_PRIVATE_KEY: is required to sign outgoing mail with DKIM/],
    [{ BLEND_DKIM_PRIVATE_KEY: RSA2048 }, /BLEND_DKIM_SELECTOR: is required to sign outgoing mail with DKIM/],
    [{ BLEND_DKIM_SELECTOR: 'bad_selector!', BLEND_DKIM_PRIVATE_KEY: RSA2048 }, /BLEND_DKIM_SELECTOR: must be a DNS label/],
    [{ BLEND_DKIM_SELECTOR: 's1', BLEND_DKIM_PRIVATE_KEY: 'not a key' }, /BLEND_DKIM_PRIVATE_KEY: must be an unencrypted PEM RSA private key/],
    [{ BLEND_DKIM_SELECTOR: 's1', BLEND_DKIM_PRIVATE_KEY: RSA2048, BLEND_DKIM_DOMAIN: 'not a domain' }, /BLEND_DKIM_DOMAIN: must be a domain name/],
  ])('%o is refused at start', (env, message) => {
    expect(() => loadConfig({ ...good, ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ ...good, ...env })).toThrow(message);
  });

  it('never shows the key: not in config show, not in an error', () => {
    const c = loadConfig({ ...good, BLEND_DKIM_SELECTOR: 's1', BLEND_DKIM_PRIVATE_KEY: RSA2048 });
    expect(maskConfig(c).BLEND_DKIM_PRIVATE_KEY).toBe('********');
    expect(JSON.stringify(maskConfig(c))).not.toContain('PRIVATE KEY');
    const weak = rsa(512);
    try {
      loadConfig({ ...good, BLEND_DKIM_SELECTOR: 's1', BLEND_DKIM_PRIVATE_KEY: weak });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain(weak.split('\n')[1]!);
    }
  });
});
