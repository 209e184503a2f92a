/**
 * Blend's services as separate processes, as the Docker image runs
 * them: `node dist/<name>.mjs` built by `pnpm build`, with the image's runtime environment
 * (the Dockerfile's ENV), and their resident memory read from /proc while they work.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '../../test/support/database';

export type ServiceName = 'poller' | 'worker';

export interface ServiceProcess {
  name: ServiceName;
  /** The Node process running the service (it leads its own process group). */
  pid: number;
  stop(): Promise<void>;
  /** The service's output so far (its log at the chosen level). */
  output(): string;
  /** Resolves when the service exits; the benchmark fails if that happens early. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const root = path.resolve(import.meta.dirname, '../..');

/** The program each service runs in production (see scripts/build.ts). */
export const ENTRY = { poller: 'dist/poller.mjs', worker: 'dist/worker.mjs' } as const;

/**
 * The Node options docker-compose.yml starts a service with (the words of its `command`
 * between `node` and the program, e.g. the V8 heap limits), so the benchmarks measure what ships.
 */
export function composeNodeOptions(name: ServiceName, compose = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8')): string[] {
  const block = new RegExp(`^  ${name}:\\n((?:    .*\\n|\\s*\\n)*)`, 'm').exec(compose)?.[1] ?? '';
  const command = /^    command: (\[.*\])$/m.exec(block)?.[1];
  if (!command) throw new Error(`docker-compose.yml: no command for the ${name} service`);
  const words = JSON.parse(command) as string[];
  const at = words.indexOf(ENTRY[name]);
  if (words[0] !== 'node' || at < 0) throw new Error(`docker-compose.yml: the ${name} service does not run node ${ENTRY[name]}`);
  return words.slice(1, at);
}

/**
 * The `ENV` settings of the Dockerfile (e.g. MALLOC_ARENA_MAX), so the services here run with
 * the settings they ship with. Values are `NAME=value` words without quotes.
 */
export function imageEnv(dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8')): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of dockerfile.split('\n')) {
    const m = /^ENV\s+(.+)$/.exec(line.trim());
    if (!m) continue;
    for (const word of m[1]!.split(/\s+/)) {
      const eq = word.indexOf('=');
      if (eq > 0) out[word.slice(0, eq)] = word.slice(eq + 1);
    }
  }
  return out;
}

/**
 * Start `node dist/<name>.mjs` with the image's environment and `env` (from serviceEnv).
 * `dist`: the folder `buildDist` wrote the programs to, inside the checkout (`dist/` by default;
 * a benchmark may build its own, so a `pnpm build` elsewhere cannot replace them mid-run).
 */
export function startService(name: ServiceName, env: Record<string, string>, timeoutMs: number, dist = path.join(root, 'dist'), onOutput?: (text: string) => void): ServiceProcess {
  const child = spawn(process.execPath, [...composeNodeOptions(name), path.join(dist, path.basename(ENTRY[name]))], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...imageEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (!child.pid) throw new Error(`could not start the ${name}`);
  let output = '';
  // Keep the tail only: a long run at a chatty log level must not grow this process.
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
    onOutput?.(d.toString());
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(child.pid!, signal);
    } catch {
      // already gone
    }
  };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    const limit = setTimeout(() => kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(limit);
      resolve({ code, signal });
    });
  });
  return {
    name,
    pid: child.pid,
    output: () => output,
    exited,
    stop: async () => {
      // runService stops on SIGTERM (workers first, then Redis and Postgres) and exits.
      kill('SIGTERM');
      const killer = setTimeout(() => kill('SIGKILL'), 25_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

export interface Services {
  /** The Node processes running main.ts. */
  pids: Record<ServiceName, number>;
  /** With `opts.liveWorker`, the second worker's process, by the name `worker-live`. */
  extraPids: Record<string, number>;
  /** Rejects when a service exits before {@link Services.stop}. */
  exitedEarly: Promise<never>;
  /** SIGTERM both, wait for them; how each ended. */
  stop(): Promise<Record<ServiceName, string>>;
}

/**
 * Start the worker, then the poller, and wait until `ready()` (e.g. the poller holds the
 * mailbox lease and a worker listens) and both Node processes are found (`ready` is given
 * their pids, e.g. to note the moment each service is ready). `opts.dist`: see
 * {@link startService}; `opts.perService`: settings for one service only.
 */
export async function startServices(
  env: Record<string, string>,
  timeoutMs: number,
  ready: (pids: Record<ServiceName, number>) => Promise<boolean>,
  opts: {
    dist?: string;
    perService?: Partial<Record<ServiceName, Record<string, string>>>;
    /** Settings of a second worker process (with the worker's own), e.g. `BLEND_WORKER_QUEUES=ingest` for live mail alone. */
    liveWorker?: Record<string, string>;
    /** Everything a service writes (its log), as it comes, beside the tail {@link ServiceProcess.output} keeps. */
    onOutput?: (name: ServiceName, text: string) => void;
  } = {},
): Promise<Services> {
  const start = (name: ServiceName, extra: Record<string, string> = {}) =>
    startService(name, { ...env, ...opts.perService?.[name], ...extra }, timeoutMs, opts.dist, opts.onOutput && ((text) => opts.onOutput!(name, text)));
  const live = opts.liveWorker ? start('worker', opts.liveWorker) : null;
  const procs = { worker: start('worker'), poller: start('poller') };
  let stopping = false;
  const exitedEarly = new Promise<never>((_, reject) => {
    for (const p of [...Object.values(procs), ...(live ? [live] : [])]) {
      void p.exited.then((r) => {
        if (!stopping) reject(new Error(`the ${p.name} exited (code ${r.code}, signal ${r.signal}):\n${p.output().slice(-4000)}`));
      });
    }
  });
  exitedEarly.catch(() => undefined);
  const stop = async () => {
    stopping = true;
    const how = {} as Record<ServiceName, string>;
    for (const p of [procs.poller, procs.worker]) {
      const t = Date.now();
      await p.stop();
      const r = await p.exited;
      how[p.name] = `${r.signal ? `signal ${r.signal}` : `exit code ${r.code}`} after ${((Date.now() - t) / 1000).toFixed(1)} s`;
    }
    if (live) {
      await live.stop();
      const r = await live.exited;
      (how as Record<string, string>)['worker-live'] = r.signal ? `signal ${r.signal}` : `exit code ${r.code}`;
    }
    return how;
  };
  // A service that exits early fails this at once (waitFor alone would retry until its timeout).
  const found = await Promise.race([
    exitedEarly,
    waitFor(async () => {
      const poller = serviceNodePid(procs.poller);
      const worker = serviceNodePid(procs.worker);
      return poller && worker && (await ready({ poller, worker })) ? { poller, worker } : null;
    }, 'the services to start', 60_000, 200),
  ]).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  return { pids: found, extraPids: live ? { 'worker-live': live.pid } : {}, exitedEarly, stop };
}

function readProc(pid: string, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    // The process has exited.
    return '';
  }
}

/** The service's Node process while it runs. */
export function serviceNodePid(s: ServiceProcess): number | null {
  try {
    process.kill(s.pid, 0);
    return s.pid;
  } catch {
    return null;
  }
}

/** VmRSS and VmHWM (the kernel's own peak) of a process, in bytes; null once it is gone. */
export function memoryOf(pid: number): { rss: number; hwm: number } | null {
  const status = readProc(String(pid), 'status');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  const rss = kb('VmRSS');
  return Number.isNaN(rss) ? null : { rss, hwm: kb('VmHWM') };
}


export interface RssSample {
  /** Seconds on the benchmark's clock. */
  t: number;
  rss: Record<ServiceName, number>;
}

export interface RssSummary {
  /** Highest sampled VmRSS per service. */
  peak: Record<ServiceName, number>;
  /** When it was sampled, on the benchmark's clock. */
  peakAt: Record<ServiceName, number>;
  /** VmHWM read at the end: the peak between samples too. */
  hwm: Record<ServiceName, number>;
  samples: RssSample[];
}

/**
 * Read each service's VmRSS every `everyMs`. The Node process ids are found once, before
 * sampling starts (see {@link serviceNodePid}).
 * @param clock seconds on the benchmark's clock, for the samples' `t`
 */
export function sampleRss(pids: Record<ServiceName, number>, clock: () => number, everyMs = 500) {
  const samples: RssSample[] = [];
  const last: Record<ServiceName, { rss: number; hwm: number }> = { poller: { rss: 0, hwm: 0 }, worker: { rss: 0, hwm: 0 } };
  const tick = () => {
    const rss = { poller: 0, worker: 0 };
    for (const name of ['poller', 'worker'] as const) {
      const m = memoryOf(pids[name]);
      if (m) last[name] = m;
      rss[name] = m?.rss ?? Number.NaN;
    }
    samples.push({ t: clock(), rss });
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    /** Stop sampling (take one last sample first) and summarise. */
    stop: (): RssSummary => {
      tick();
      clearInterval(timer);
      const peak = { poller: 0, worker: 0 };
      const peakAt = { poller: 0, worker: 0 };
      for (const s of samples) {
        for (const name of ['poller', 'worker'] as const) {
          if (s.rss[name] > peak[name]) {
            peak[name] = s.rss[name];
            peakAt[name] = s.t;
          }
        }
      }
      return { peak, peakAt, hwm: { poller: last.poller.hwm, worker: last.worker.hwm }, samples };
    },
  };
}
