import { describe, expect, it } from 'vitest';
import { loadConfig, maskConfig } from './config';
import { resolveFileSettings } from './secret-files';
import { MINIMAL_ENV } from './minimal-env.fixture';

const good = { ...MINIMAL_ENV, BLEND_PUBLIC_URL: 'https://blend.example.com' };

describe('chat tool settings (docs/SECURITY.md B36)', () => {
  it('are all off by default', () => {
    const c = loadConfig(good);
    expect([c.BLEND_SLACK_SIGNING_SECRET, c.BLEND_MATTERMOST_TOKEN, c.BLEND_ROCKETCHAT_TOKEN, c.BLEND_INBOUND_SECRET]).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('take several Mattermost tokens, for rotation, and mask every secret', () => {
    const c = loadConfig({ ...good, BLEND_MATTERMOST_TOKEN: ' aaaaaaaaaaaaaaaaaaaaaaaaaa , bbbbbbbbbbbbbbbbbbbbbbbbbb', BLEND_SLACK_SIGNING_SECRET: 'f'.repeat(32), BLEND_INBOUND_SECRET: 'i'.repeat(32) });
    expect(c.BLEND_MATTERMOST_TOKEN).toEqual(['aaaaaaaaaaaaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbbbbbbbb']);
    const masked = maskConfig(c);
    for (const k of ['BLEND_MATTERMOST_TOKEN', 'BLEND_SLACK_SIGNING_SECRET', 'BLEND_INBOUND_SECRET']) expect(masked[k]).toBe('********');
  });

  it.each([
    [{ BLEND_MATTERMOST_TOKEN: 'short' }, /BLEND_MATTERMOST_TOKEN: each token must be at least 16 characters/],
    [{ BLEND_INBOUND_SECRET: 'too-short' }, /BLEND_INBOUND_SECRET: must be at least 32 characters/],
    [{ BLEND_SLACK_SIGNING_SECRET: 'f'.repeat(32), BLEND_PUBLIC_URL: undefined }, /BLEND_PUBLIC_URL: is required with BLEND_SLACK_SIGNING_SECRET/],
    [{ BLEND_ROCKETCHAT_TOKEN: 'r'.repeat(20), BLEND_PUBLIC_URL: undefined }, /BLEND_PUBLIC_URL: is required with BLEND_ROCKETCHAT_TOKEN/],
  ])('refuse %j', (env, message) => {
    expect(() => loadConfig({ ...good, ...env })).toThrow(message);
  });

  it('need no public URL for the generic endpoint alone (it takes post ids)', () => {
    expect(loadConfig({ ...good, BLEND_PUBLIC_URL: undefined, BLEND_INBOUND_SECRET: 'i'.repeat(32) }).BLEND_INBOUND_SECRET).toBe('i'.repeat(32));
  });

  it('can be given as files', () => {
    const files: Record<string, string> = { '/run/secrets/slack': 'f'.repeat(32) + '\n' };
    const { env, issues } = resolveFileSettings({ BLEND_SLACK_SIGNING_SECRET_FILE: '/run/secrets/slack' }, undefined, (f) => files[f]!);
    expect(issues).toEqual([]);
    expect(env.BLEND_SLACK_SIGNING_SECRET).toBe('f'.repeat(32));
  });
});
