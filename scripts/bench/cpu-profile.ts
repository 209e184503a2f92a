/**
 * A V8 CPU profile of the benchmark process around one stage (`BENCH_CPU_PROFILE=file`),
 * and a summary of where the time went by package and by function. The .cpuprofile file
 * opens in Chrome DevTools (Performance tab) or speedscope for the full picture.
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import type { Profiler } from 'node:inspector';

/** Starts the profiler; the returned function stops it and returns the profile. */
export async function startCpuProfile(intervalUs = 500): Promise<() => Promise<Profiler.Profile>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    return profile;
  };
}

export async function saveProfile(file: string, profile: Profiler.Profile): Promise<void> {
  await writeFile(file, JSON.stringify(profile));
}

/** Package (or pseudo-package) a script URL belongs to. */
function packageOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const pnpm = /node_modules\/\.pnpm\/((?:@[^+/]+\+)?[^@/]+)@/.exec(url);
  if (pnpm) return pnpm[1]!.replace('+', '/');
  const mod = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (mod) return mod[1]!;
  const ours = /\/(packages|services)\/([^/]+)\//.exec(url);
  if (ours) return `@blend/${ours[2]}`;
  if (/\/scripts\/bench\/|\/test\/support\//.test(url)) return '(benchmark)';
  // A program built by `pnpm build` bundles all of Blend's packages into one file.
  if (/\/[^/]+\.mjs$/.test(url) && !url.includes('/node_modules/')) return '@blend (built bundle)';
  if (url.startsWith('node:')) return '(node internals)';
  return url;
}

export interface ProfileSummary {
  totalMs: number;
  /** Self time by package, ms, largest first. */
  selfByPackage: [string, number][];
  /** Inclusive time of interesting functions (anywhere on the stack), ms. */
  inclusive: [string, number][];
  /** Self time by function, ms, largest first. */
  topSelf: [string, number][];
}

/**
 * Self time per package and function, and the inclusive time of a few entry points that
 * split the ingest into its parts (parse, SQL, queue, IMAP).
 */
export function summarise(profile: Profiler.Profile, entryPoints: string[], top = 20): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  const deltas = profile.timeDeltas ?? [];
  const samples = profile.samples ?? [];
  const inclusive = new Map<string, number>(entryPoints.map((e) => [e, 0]));
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the next delta to this sample.
    const dt = (deltas[i + 1] ?? 0) / 1000;
    const id = samples[i]!;
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const name = byId.get(cur)!.callFrame.functionName;
      if (inclusive.has(name) && !seen.has(name)) {
        seen.add(name);
        inclusive.set(name, inclusive.get(name)! + dt);
      }
    }
  }
  const pkg = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, ms] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const p = packageOf(url, functionName);
    pkg.set(p, (pkg.get(p) ?? 0) + ms);
    const key = `${functionName || '(anonymous)'} ${p}${url ? `:${lineNumber + 1}` : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + ms);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { totalMs: total, selfByPackage: sorted(pkg), inclusive: sorted(inclusive), topSelf: sorted(fns).slice(0, top) };
}

export function formatSummary(s: ProfileSummary, of = 'the benchmark process'): string {
  const pct = (ms: number) => `${((ms / s.totalMs) * 100).toFixed(1).padStart(5)}%  ${(ms / 1000).toFixed(2).padStart(7)} s`;
  return [
    `CPU profile of ${of}: ${(s.totalMs / 1000).toFixed(1)} s sampled (idle included)`,
    'self time by package:',
    ...s.selfByPackage.slice(0, 20).map(([k, v]) => `  ${pct(v)}  ${k}`),
    'inclusive time of entry points (anywhere on the stack):',
    ...s.inclusive.map(([k, v]) => `  ${pct(v)}  ${k}`),
    'top functions by self time:',
    ...s.topSelf.map(([k, v]) => `  ${pct(v)}  ${k}`),
  ].join('\n');
}
