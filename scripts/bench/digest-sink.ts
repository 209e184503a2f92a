/**
 * A local SMTP sink for the digest benchmark: accepts every message on 127.0.0.1, counts
 * messages and bytes, and discards them. It runs as a child process of its own (as a real MTA
 * would), so its CPU is not the benchmark's; the parent talks to it over IPC.
 *
 * Run directly (`node --import tsx digest-sink.ts`) it is the child; imported, it gives the
 * parent `startSink()`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SMTPServer } from 'smtp-server';

/** What the sink has received since it was started or last reset. */
export interface SinkCounts {
  messages: number;
  bytes: number;
  /** Wall-clock (ms since the epoch, as Date.now()) of the first and last message, or 0. */
  firstAt: number;
  lastAt: number;
  /** The sink process's CPU seconds (user + system) since it started or was last reset. */
  cpuSeconds: number;
}

type Ask = { cmd: 'reset' } | { cmd: 'stats' } | { cmd: 'wait'; messages: number };
type Request = Ask & { id: number };
type Reply = { id: number; counts: SinkCounts } | { ready: number } | { error: string };

export interface Sink {
  /** `smtp://127.0.0.1:PORT` */
  url: string;
  reset(): Promise<SinkCounts>;
  stats(): Promise<SinkCounts>;
  /** Resolves when at least `messages` have been received since the last reset. */
  waitFor(messages: number, timeoutMs: number): Promise<SinkCounts>;
  stop(): Promise<void>;
}

const self = fileURLToPath(import.meta.url);

/** Start the sink process on a free port of 127.0.0.1. */
export async function startSink(): Promise<Sink> {
  const child: ChildProcess = fork(self, ['--serve'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve: (c: SinkCounts) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the SMTP sink exited with code ${code} before it listened`)));
    child.on('message', (m: Reply) => {
      if ('ready' in m) resolve(m.ready);
      else if ('error' in m) reject(new Error(`SMTP sink: ${m.error}`));
      else pending.get(m.id)?.resolve(m.counts);
    });
  });
  child.removeAllListeners('exit');
  child.on('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`the SMTP sink exited with code ${code}`));
    pending.clear();
  });
  const ask = (req: Ask, timeoutMs = 10_000) =>
    new Promise<SinkCounts>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`SMTP sink: no answer to ${JSON.stringify(req)} after ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, {
        resolve: (c) => { clearTimeout(timer); pending.delete(id); resolve(c); },
        reject: (e) => { clearTimeout(timer); pending.delete(id); reject(e); },
      });
      child.send({ ...req, id });
    });
  return {
    url: `smtp://127.0.0.1:${port}`,
    reset: () => ask({ cmd: 'reset' }),
    stats: () => ask({ cmd: 'stats' }),
    waitFor: (messages, timeoutMs) => ask({ cmd: 'wait', messages }, timeoutMs),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The child: an smtp-server that accepts anything and remembers only counts. */
function serve(): void {
  const send = (m: Reply) => process.send?.(m);
  let counts: SinkCounts = { messages: 0, bytes: 0, firstAt: 0, lastAt: 0, cpuSeconds: 0 };
  let waiters: { id: number; messages: number }[] = [];
  let cpuAtReset = process.cpuUsage();
  const snapshot = (): SinkCounts => {
    const cpu = process.cpuUsage(cpuAtReset);
    return { ...counts, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  };
  const settle = () => {
    if (waiters.length === 0) return;
    const done = waiters.filter((w) => counts.messages >= w.messages);
    if (done.length === 0) return;
    waiters = waiters.filter((w) => counts.messages < w.messages);
    const c = snapshot();
    for (const w of done) send({ id: w.id, counts: c });
  };
  const server = new SMTPServer({
    // No TLS, no AUTH: nodemailer then speaks plain SMTP, as to a trusted relay on loopback.
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    disableReverseLookup: true,
    logger: false,
    onData(stream, _session, callback) {
      let bytes = 0;
      stream.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      stream.on('end', () => {
        const now = Date.now();
        counts.messages++;
        counts.bytes += bytes;
        counts.firstAt ||= now;
        counts.lastAt = now;
        callback();
        settle();
      });
    },
  });
  server.on('error', (err) => send({ error: err.message }));
  process.on('message', (m: Request) => {
    if (m.cmd === 'reset') {
      counts = { messages: 0, bytes: 0, firstAt: 0, lastAt: 0, cpuSeconds: 0 };
      cpuAtReset = process.cpuUsage();
      send({ id: m.id, counts: snapshot() });
    } else if (m.cmd === 'stats') {
      send({ id: m.id, counts: snapshot() });
    } else {
      waiters.push({ id: m.id, messages: m.messages });
      settle();
    }
  });
  process.on('SIGTERM', () => {
    server.close(() => process.exit(0));
    // Open pooled sessions would hold close() up; they carry nothing we need.
    setTimeout(() => process.exit(0), 1_000).unref();
  });
  // The parent went away (killed): do not linger.
  process.on('disconnect', () => process.exit(0));
  server.listen(0, '127.0.0.1', () => {
    const addr = server.server.address();
    send({ ready: typeof addr === 'object' && addr ? addr.port : 0 });
  });
}

if (process.argv[1] === self && process.argv.includes('--serve')) serve();
