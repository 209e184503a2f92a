import { describe, expect, it } from 'vitest';
import { headerArea, helmetOptions } from './security-headers';

describe('headerArea', () => {
  it.each([
    ['/healthz', 'api'],
    ['/api/v1/feed', 'api'],
    ['/api/v1/posts/:id', 'api'],
    ['/api/v1/attachments/:id', 'download'],
    ['/api/v1/admin/inbound/:id/source', 'download'],
    ['/api/v1/admin/inbound', 'api'],
    ['/web/attachments/:id', 'download'],
    ['/web/admin/inbound/:id/source', 'download'],
    ['/web', 'web'],
    ['/web/login', 'web'],
    ['/', 'web'],
    ['/webhooks', 'api'],
    ['/links/opt-in', 'links'],
    ['/docs', 'docs'],
    ['/docs/static/*', 'docs'],
    ['/docsx', 'api'],
    ['/admin/queues', 'dashboard'],
    ['/admin/queues/api/queues', 'dashboard'],
  ] as const)('%s -> %s', (url, area) => {
    expect(headerArea(url)).toBe(area);
  });
});

describe('helmetOptions', () => {
  it('sends HSTS and upgrades sub-requests only over https', () => {
    expect(helmetOptions('web', false).strictTransportSecurity).toBe(false);
    expect(helmetOptions('web', true).strictTransportSecurity).toMatchObject({ maxAge: 31_536_000 });
    const csp = (https: boolean) => (helmetOptions('api', https).contentSecurityPolicy as { directives: Record<string, unknown> }).directives;
    expect(csp(false)).not.toHaveProperty('upgrade-insecure-requests');
    expect(csp(true)).toHaveProperty('upgrade-insecure-requests');
  });
});
