/**
 * The ingest benchmark's side of counting each service's Postgres transactions inside the
 * service (pg-count-preload.ts): build the preload, the settings that load it into a service,
 * and the counts the services wrote.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { addCounts, zeroCounts, type PgCounts } from './pg-tx';
import type { PgCountsFile } from './pg-count-preload';

export interface PgCountFiles {
  /** The built preload. */
  preload: string;
  /** The folder the services write their counts to. */
  dir: string;
}

/**
 * Build pg-count-preload.ts into `dir` (the run's own build folder, inside the checkout, so the
 * preload's `pg` is the services' own from node_modules), with a folder for the counts beside it.
 */
export async function buildPgCount(dir: string): Promise<PgCountFiles> {
  const preload = path.join(dir, 'pg-count.mjs');
  await build({
    entryPoints: [path.join(import.meta.dirname, 'pg-count-preload.ts')],
    outfile: preload,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node26',
    logLevel: 'warning',
  });
  const counts = path.join(dir, 'pg-counts');
  await mkdir(counts, { recursive: true });
  return { preload, dir: counts };
}

/**
 * The settings that make service `name` count its transactions into `files.dir`, with the Node
 * options `nodeOptions` (e.g. a CPU profile's) kept.
 */
export function pgCountEnv(files: PgCountFiles, name: string, nodeOptions = ''): Record<string, string> {
  return {
    NODE_OPTIONS: [nodeOptions, `--import=${pathToFileURL(files.preload).href}`].filter(Boolean).join(' '),
    BENCH_PG_COUNTS: path.join(files.dir, name),
  };
}

/** The counts in `dir` by service name (a service of several processes adds them up), and when each file was written by pid. */
export async function readPgCounts(dir: string): Promise<{ byName: Map<string, PgCounts>; writtenAt: Map<number, number> }> {
  const byName = new Map<string, PgCounts>();
  const writtenAt = new Map<number, number>();
  for (const f of await readdir(dir)) {
    const m = /^(.+)\.(\d+)\.json$/.exec(f);
    if (!m) continue;
    const c = JSON.parse(await readFile(path.join(dir, f), 'utf8')) as PgCountsFile;
    writtenAt.set(Number(m[2]), c.at);
    byName.set(m[1]!, addCounts(byName.get(m[1]!) ?? zeroCounts(), c));
  }
  return { byName, writtenAt };
}

/**
 * The counts now: ask each process of `pids` (SIGUSR2) to write its counts, and read them once
 * all have (within `timeoutMs`, else fail: a service that does not answer has not loaded the
 * preload).
 */
export async function pgCountsNow(dir: string, pids: readonly number[], timeoutMs = 5000): Promise<Map<string, PgCounts>> {
  const asked = Date.now();
  for (const pid of pids) process.kill(pid, 'SIGUSR2');
  for (;;) {
    const r = await readPgCounts(dir);
    const late = pids.filter((pid) => (r.writtenAt.get(pid) ?? 0) < asked);
    if (late.length === 0) return r.byName;
    if (Date.now() - asked > timeoutMs) throw new Error(`no Postgres counts from process ${late.join(', ')} within ${timeoutMs} ms (was the preload loaded?)`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
