/**
 * The HTTP servers of the API benchmark, each in a child process of its own (as in
 * production, and so the load generator in the parent does not share their event loop):
 *
 * - `blend`: Blend's API service as `pnpm start:api` runs it (`startApiService`), configured
 *   by the environment the parent passes;
 * - `bare`: a bare Fastify app whose one route, `GET /api/v1/feed`, sends a JSON body held in
 *   memory (read once from a file), whatever the query.
 *
 * Run directly (`node --import tsx api-server.ts blend|bare FILE`) it is the child; imported,
 * it gives the parent `startServer()`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export type ServerKind = 'blend' | 'bare';

/**
 * The environment of a benchmarked Blend API: its own database and queue prefix, no mail
 * servers, a fresh secret, quiet logs, and no per-person rate limit (one token sends every
 * request, and the limit would answer most of them with 429). `extra` adds or overrides.
 */
export function blendApiEnv(databaseUrl: string, redisUrl: string, prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    BLEND_IMAP_URL: 'imap://unused@127.0.0.1/INBOX',
    BLEND_SMTP_URL: 'smtp://127.0.0.1:1',
    BLEND_MAIL_DOMAIN: `${prefix}.test`,
    BLEND_SECRET: randomBytes(32).toString('hex'),
    BLEND_QUEUE_PREFIX: prefix,
    BLEND_RATE_LIMIT_PER_MINUTE: '0',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent',
    ...extra,
  };
}

export interface Server {
  kind: ServerKind;
  /** `http://127.0.0.1:PORT` */
  url: string;
  pid: number;
  /** The server process's CPU seconds (user + system) since it started. */
  cpuSeconds(): Promise<number>;
  stop(): Promise<void>;
}

type Reply = { ready: number } | { error: string } | { id: number; cpuSeconds: number };

const self = fileURLToPath(import.meta.url);

/**
 * Start a server process. `blend` takes Blend's settings in `env` (PORT is chosen here);
 * `bare` serves the contents of `bodyFile`.
 */
export async function startServer(kind: ServerKind, opts: { env?: Record<string, string>; bodyFile?: string }): Promise<Server> {
  const env = { ...process.env, ...opts.env, ...(kind === 'blend' ? { PORT: String(await freePort()) } : {}) };
  // BENCH_API_CPU_PROF=DIR: a V8 CPU profile of Blend's server, written to DIR when it stops.
  const profDir = kind === 'blend' ? process.env.BENCH_API_CPU_PROF : undefined;
  const execArgv = ['--import', 'tsx', ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [])];
  const child: ChildProcess = fork(self, [kind, opts.bodyFile ?? ''], { execArgv, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map<number, (s: number) => void>();
  let nextId = 1;
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the ${kind} server exited with code ${code} before it listened`)));
    child.on('message', (m: Reply) => {
      if ('ready' in m) resolve(m.ready);
      else if ('error' in m) reject(new Error(`${kind} server: ${m.error}`));
      else waiting.get(m.id)?.(m.cpuSeconds);
    });
  });
  child.removeAllListeners('exit');
  return {
    kind,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    cpuSeconds: () =>
      new Promise<number>((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => reject(new Error(`${kind} server: no CPU figure after 10 s`)), 10_000);
        waiting.set(id, (s) => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve(s);
        });
        child.send({ id });
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A port of 127.0.0.1 that was free a moment ago (Blend's config needs a fixed PORT). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The child: start the server, report its port, answer CPU questions, stop on SIGTERM. */
async function serve(kind: string, bodyFile: string): Promise<void> {
  const send = (m: Reply) => process.send?.(m);
  process.on('message', (m: { id: number }) => {
    const cpu = process.cpuUsage();
    send({ id: m.id, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
  });
  let stop: () => Promise<void>;
  let port: number;
  if (kind === 'blend') {
    const { loadConfig } = await import('@blend/config');
    const { createLogger } = await import('@blend/runtime');
    const { startApiService } = await import('@blend/api');
    const config = loadConfig(process.env);
    const api = await startApiService(config, createLogger('api', config.LOG_LEVEL));
    stop = api.stop;
    port = Number(new URL(api.url).port);
  } else if (kind === 'bare') {
    const { default: Fastify } = await import('fastify');
    const body = await readFile(bodyFile);
    const app = Fastify({ logger: false });
    app.get('/api/v1/feed', async (_req, reply) => reply.type('application/json; charset=utf-8').send(body));
    await app.listen({ port: 0, host: '127.0.0.1' });
    stop = () => app.close();
    port = (app.server.address() as net.AddressInfo).port;
  } else {
    throw new Error(`unknown server kind ${kind}`);
  }
  process.once('SIGTERM', () => {
    void stop().finally(() => process.exit(0));
  });
  send({ ready: port });
}

if (process.argv[1] === self) {
  serve(process.argv[2] ?? '', process.argv[3] ?? '').catch((err: Error) => {
    process.stderr.write(`api-server: ${err.stack ?? err.message}\n`);
    process.send?.({ error: err.stack ?? err.message });
    process.exit(1);
  });
}
