// The promises docker-compose.yml makes (README.md, "Docker quick start"), checked without a
// Docker engine: scripts/compose-smoke.sh runs the stack itself where an engine runs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { randomBytes } from 'node:crypto';
import { ConfigSchema, FILE_SETTINGS, loadConfig } from '@blend/config';
import { STOP_TIMEOUT_MS } from '@blend/runtime';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Service {
  image?: string;
  build?: string | { context: string; args?: Record<string, string> };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string[]; disable?: boolean };
  restart?: string;
  stop_grace_period?: string;
  ports?: string[];
}

/** docker-compose.yml as Compose reads it (anchors and merge keys resolved). */
function loadCompose(file = path.join(root, 'docker-compose.yml')): { services: Record<string, Service> } {
  return parse(readFileSync(file, 'utf8'), { merge: true });
}

/** Compose durations: 30s, 1m30s, 1500ms. */
export function durationMs(s: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s|us)/g;
  let total = 0;
  let consumed = '';
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 }[m[2] as 'h']!;
    consumed += m[0];
  }
  if (consumed !== s || s === '') throw new Error(`not a duration: ${s}`);
  return total;
}

/** Compose's interpolation of `${NAME}`, `${NAME:-default}` and `${NAME:?message}`. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (_, name: string, op: string | undefined, arg: string) => {
    const v = vars[name];
    const unset = v === undefined || (op?.startsWith(':') && v === '');
    if (!unset) return v!;
    if (op?.endsWith('?')) throw new Error(arg);
    return op?.endsWith('-') ? arg : '';
  });
}

const BLEND_COMMAND = /dist\/(api|worker|poller|blend)\.mjs$/;
const isBlend = (s: Service) => (s.command ?? []).some((c) => BLEND_COMMAND.test(c));
const isOneShot = (s: Service) => s.restart === 'no' || s.restart === '"no"';

describe('docker-compose.yml', () => {
  const { services } = loadCompose();
  const blend = Object.entries(services).filter(([, s]) => isBlend(s));

  it('runs the migration and the three services from Blend', () => {
    expect(blend.map(([n]) => n).sort()).toEqual(['api', 'migrate', 'poller', 'worker']);
  });

  it('has a health check on every long-running service; only one-shot services have none', () => {
    for (const [name, s] of Object.entries(services)) {
      if (isOneShot(s)) continue;
      expect(s.healthcheck?.test, name).toBeDefined();
      expect(s.healthcheck?.disable, name).not.toBe(true);
    }
    expect(isOneShot(services.migrate!)).toBe(true);
  });

  it("asks each Blend service's own health port, on /readyz", () => {
    const ports: Record<string, number> = {
      api: 3000,
      worker: (ConfigSchema.shape.BLEND_WORKER_HEALTH_PORT.parse(undefined) as number),
      poller: (ConfigSchema.shape.BLEND_POLLER_HEALTH_PORT.parse(undefined) as number),
    };
    for (const [name, port] of Object.entries(ports)) {
      expect(services[name]!.healthcheck!.test!.join(' '), name).toContain(`127.0.0.1:${port}/readyz`);
    }
  });

  it('makes every dependency wait on a condition, and the services on the migration', () => {
    for (const [name, s] of Object.entries(services)) {
      if (!s.depends_on) continue;
      expect(Array.isArray(s.depends_on), `${name}: depends_on as a list has no condition`).toBe(false);
      for (const [dep, cond] of Object.entries(s.depends_on)) {
        expect(['service_healthy', 'service_completed_successfully'], `${name} -> ${dep}`).toContain(cond.condition);
        // A service_healthy dependency must have a health check to become healthy.
        if (cond.condition === 'service_healthy') expect(services[dep]?.healthcheck?.test, `${dep}`).toBeDefined();
        if (cond.condition === 'service_completed_successfully') expect(isOneShot(services[dep]!), dep).toBe(true);
      }
    }
    for (const name of ['api', 'worker', 'poller']) {
      expect((services[name]!.depends_on as Record<string, { condition: string }>).migrate?.condition, name).toBe('service_completed_successfully');
      expect(services[name]!.environment?.BLEND_MIGRATE_ON_START, name).toBe('false');
    }
  });

  it('gives every service longer to stop than a Blend service takes to drain', () => {
    expect(STOP_TIMEOUT_MS).toBeGreaterThanOrEqual(15_000); // the worker drains its jobs for up to 15 s
    for (const [name, s] of blend) {
      if (isOneShot(s)) continue;
      expect(s.stop_grace_period, name).toBeDefined();
      expect(durationMs(s.stop_grace_period!), name).toBeGreaterThan(STOP_TIMEOUT_MS);
    }
  });

  it('runs Blend read-only, without capabilities, as the pods do', () => {
    for (const [name, s] of blend) {
      const x = s as Service & { read_only?: boolean; cap_drop?: string[]; security_opt?: string[] };
      expect(x.read_only, name).toBe(true);
      expect(x.cap_drop, name).toEqual(['ALL']);
      expect(x.security_opt, name).toContain('no-new-privileges:true');
    }
  });

  it('builds one image for all of them', () => {
    const images = new Set(blend.map(([, s]) => s.image));
    const builds = new Set(blend.map(([, s]) => JSON.stringify(s.build)));
    expect(images.size).toBe(1);
    expect(builds.size).toBe(1);
    expect(JSON.parse([...builds][0]!)).toMatchObject({ context: '.' });
  });

  it('has no default for any secret: a missing one stops Compose with how to make it', () => {
    const raw = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
    for (const name of FILE_SETTINGS) {
      // ${NAME:-default} / ${NAME-default} would start the stack with a publicly known value.
      expect(raw, name).not.toMatch(new RegExp(`\\$\\{${name}:?-`));
    }
    const secret = services.api!.environment!.BLEND_SECRET!;
    expect(secret).toMatch(/^\$\{BLEND_SECRET:\?.*openssl rand -hex 32.*\}$/);
    // Compose would read a `$` in the message as another variable.
    expect(secret.slice(2, -1)).not.toContain('$');
    for (const [name, s] of blend.filter(([, s]) => !isOneShot(s))) expect(s.environment?.BLEND_SECRET, name).toBe(secret);
  });

  it("lets the people's domain post, never the bridge's own domain (its mail is Blend's own)", () => {
    for (const name of ['api', 'worker', 'poller']) {
      const env = services[name]!.environment!;
      expect(env.BLEND_ORG_DOMAINS!.split(',').map((d) => d.trim()), name).not.toContain(env.BLEND_MAIL_DOMAIN);
    }
  });

  it('publishes ports on loopback only', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const p of s.ports ?? []) expect(p, name).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('gives each service a configuration that loads, once BLEND_SECRET is set', () => {
    const vars = { BLEND_SECRET: randomBytes(32).toString('hex') };
    for (const name of ['api', 'worker', 'poller']) {
      const env = Object.fromEntries(Object.entries(services[name]!.environment!).map(([k, v]) => [k, interpolate(String(v), vars)]));
      expect(() => loadConfig(env), name).not.toThrow();
    }
    // Without it, Compose stops with the message.
    expect(() => interpolate(services.api!.environment!.BLEND_SECRET!, {})).toThrow(/openssl rand -hex 32/);
  });
});

describe('durationMs', () => {
  it.each([
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['1500ms', 1500],
    ['1h', 3_600_000],
  ])('%s', (s, ms) => expect(durationMs(s)).toBe(ms));
  it.each(['', '30', 'thirty seconds', '30s garbage'])('rejects %j', (s) => expect(() => durationMs(s)).toThrow());
});

describe('Dockerfile', () => {
  const text = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  // Instructions with their continuation lines joined, comments dropped.
  const lines = text.replace(/\\\n/g, ' ').split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
  const stages = lines.filter((l) => /^FROM /.test(l));
  const last = lines.slice(lines.lastIndexOf(stages.at(-1)!));

  it('builds in one stage and runs from another that copies only what runs', () => {
    expect(stages.length).toBe(2);
    expect(stages[0]).toMatch(/^FROM \$\{BASE\} AS build$/);
    expect(lines.some((l) => /pnpm install --frozen-lockfile && pnpm build/.test(l))).toBe(true);
    // Production dependencies only, made afresh rather than pruned in place.
    expect(lines.some((l) => /rm -rf node_modules .*pnpm install --prod --frozen-lockfile/.test(l))).toBe(true);
    const copies = last.filter((l) => /^COPY /.test(l));
    expect(copies.every((l) => l.startsWith('COPY --from=build '))).toBe(true);
    expect(copies.map((l) => l.split(/\s+/).at(-1))).toEqual(['./package.json', './node_modules', './migrations', './dist']);
  });

  it('runs as an unprivileged user under tini, with blend on the PATH and a health check', () => {
    expect(last.filter((l) => /^USER /.test(l))).toEqual(['USER 1000:1000']);
    expect(last.find((l) => /^ENTRYPOINT /.test(l))).toBe('ENTRYPOINT ["/usr/bin/tini", "--"]');
    expect(last.some((l) => l === 'RUN ln -s /app/dist/blend.mjs /usr/local/bin/blend')).toBe(true);
    expect(last.some((l) => /^HEALTHCHECK .*\/readyz/.test(l))).toBe(true);
    expect(text).toMatch(/^ARG BASE=node:26-bookworm-slim$/m);
  });

  it('keeps local settings, secrets, builds and dependencies out of the build context', () => {
    const ignored = readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const p of ['.env', '.env.*', 'node_modules', '**/node_modules', 'dist', '.git']) expect(ignored, p).toContain(p);
  });
});
