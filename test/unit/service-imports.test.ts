import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// No service imports another, and no package imports a service (docs/ARCHITECTURE.md "Package
// layering"): what two services share lives in a package.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dirs = (parent: string) => readdirSync(path.join(ROOT, parent), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
const SERVICES = dirs('services');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sources(p);
    return /\.(?:ts|mts|mjs|js)$/.test(e.name) ? [p] : [];
  });
}

/** The `@blend/*` names a file imports (static, dynamic and re-exports). */
function blendImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*['"]@blend\/([a-z0-9-]+)/g)].map((m) => m[1]!);
}

/** `services/x/src/f.ts imports @blend/y` for every import of a service other than its own. */
function crossings(area: 'services' | 'packages', name: string): string[] {
  const own = area === 'services' ? name : null;
  return sources(path.join(ROOT, area, name, 'src')).flatMap((file) =>
    blendImports(file)
      .filter((imported) => SERVICES.includes(imported) && imported !== own)
      .map((imported) => `${path.relative(ROOT, file)} imports @blend/${imported}`),
  );
}

describe('service boundaries', () => {
  it('finds the services', () => {
    expect(SERVICES).toEqual(expect.arrayContaining(['api', 'cli', 'poller', 'worker']));
  });

  it.each(SERVICES)('services/%s imports no other service', (service) => {
    expect(crossings('services', service)).toEqual([]);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'services', service, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    expect(Object.keys(pkg.dependencies ?? {}).filter((d) => SERVICES.some((s) => d === `@blend/${s}` && s !== service))).toEqual([]);
  });

  it.each(dirs('packages'))('packages/%s imports no service', (pkg) => {
    expect(crossings('packages', pkg)).toEqual([]);
  });

  it('reads the imports it checks', () => {
    expect(blendImports(path.join(ROOT, 'services/worker/src/index.ts'))).toContain('db');
  });
});
