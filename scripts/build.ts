// `pnpm build`: the services as plain JavaScript in dist/, which is what production runs
// (`node dist/worker.mjs`, the Docker image's commands). Blend's own TypeScript is bundled
// into one file per program; third-party packages are not bundled but imported from
// node_modules by the absolute path Node would resolve, so packages that read their own files
// (bull-board's UI, mjml) keep working. dist/ therefore belongs to the checkout it was built
// in, with its node_modules: build it where it runs (the Dockerfile does).
//
// Running compiled JavaScript instead of `tsx` saves each service about 40 MiB of memory
// and its start-up compile time (docs/BENCHMARKS.md, soak).
import { chmod, cp, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { convertTemplates } from '@blend/mail';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Program name in dist/ → its entry point. */
const PROGRAMS: Record<string, string> = {
  api: 'services/api/src/main.ts',
  worker: 'services/worker/src/main.ts',
  poller: 'services/poller/src/main.ts',
  blend: 'services/cli/src/cli.ts',
  'start-all': 'scripts/start-all.ts',
  // Loaded by the mail templates in a worker thread at start-up (packages/mail/src/templates/engine.ts).
  'mjml-thread': 'packages/mail/src/templates/mjml-thread.mjs',
  // The worker's parse threads (services/worker/src/parse-pool.ts): the task itself, so the
  // built thread needs no TypeScript loader, under the name the pool looks for beside it.
  'parse-thread': 'services/worker/src/parse-task.ts',
};

/** Leaves every bare import that is not `@blend/*` to Node, at the path it resolves to from its importer. */
const thirdPartyExternal: Plugin = {
  name: 'third-party-external',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.path.startsWith('@blend/') || args.pluginData === 'resolving') return undefined;
      if (args.path.startsWith('node:')) return { path: args.path, external: true };
      const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'resolving' });
      if (r.errors.length > 0) return { errors: r.errors };
      // A Node built-in imported without `node:` (e.g. `fs`) resolves to itself.
      return { path: r.external ? args.path : r.path, external: true };
    });
  },
};

/**
 * Marks the modules of Blend's own packages (packages/*) as free of side effects, so a program
 * bundles only the modules it uses, and none of their third-party imports otherwise: the
 * poller, which uses a few functions of packages/core and packages/mail, no longer loads and
 * runs markdown-it, sanitize-html, mailparser, nodemailer, handlebars and the like at start-up
 * (a fifth of its start-up CPU). The worker no longer loads imapflow and markdown-it, and its
 * parse threads (each a heap of its own) not the webhook, date and template libraries either
 * (README "Memory"). No module there acts on import beyond setting up its own values.
 */
const workspacePure: Plugin = {
  name: 'workspace-pure',
  setup(b) {
    const packages = path.join(root, 'packages') + path.sep;
    b.onResolve({ filter: /^(\.|@blend\/)/ }, async (args) => {
      if (args.pluginData === 'pure' || args.kind === 'entry-point') return undefined;
      const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'pure' });
      if (r.errors.length > 0 || r.external || !r.path.startsWith(packages)) return undefined;
      return { path: r.path, sideEffects: false };
    });
  },
};

/** Programs bundled with {@link workspacePure}. */
const PURE_WORKSPACE = new Set(['poller', 'worker', 'parse-thread']);

/**
 * Build every program into `out` (removing what was there). It must be inside the checkout:
 * the programs find migrations/ in a folder above them.
 */
export async function buildDist(out = path.join(root, 'dist')): Promise<void> {
  const t0 = performance.now();
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const options = {
    outdir: out,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: false,
    platform: 'node',
    format: 'esm',
    target: 'node26',
    sourcemap: 'linked',
    logLevel: 'warning',
    // `dist/blend.mjs` runs as a command of its own (`blend people add …`, linked into the
    // PATH by the image); the other programs ignore the line.
    banner: { js: '#!/usr/bin/env node' },
  } as const;
  const entries = (pure: boolean) =>
    Object.fromEntries(Object.entries(PROGRAMS).filter(([name]) => PURE_WORKSPACE.has(name) === pure).map(([name, entry]) => [name, path.join(root, entry)]));
  await Promise.all([
    build({ ...options, entryPoints: entries(false), plugins: [thirdPartyExternal] }),
    build({ ...options, entryPoints: entries(true), plugins: [workspacePure, thirdPartyExternal] }),
  ]);
  await chmod(path.join(out, 'blend.mjs'), 0o755);
  // Read at run time next to the program that serves it (services/api/src/web/index.ts).
  await cp(path.join(root, 'services/api/src/web/static'), path.join(out, 'static'), { recursive: true });
  // The mail templates' MJML converted now, so the services never load MJML (a spike of tens
  // of megabytes at start-up); packages/mail/src/templates/engine.ts reads this file.
  await writeFile(path.join(out, 'mail-templates.json'), JSON.stringify(await convertTemplates()));
  console.log(`built ${Object.keys(PROGRAMS).map((n) => `${path.relative(root, out)}/${n}.mjs`).join(', ')} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await buildDist();
