import { spawn } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

/**
 * Run one of the project's entry points from source, collecting its output. One Node process
 * with tsx as its loader (`node --import tsx`), not the `tsx` command: that one runs the
 * program in a second process and, when the program does not acknowledge a relayed SIGTERM
 * within 30 ms (a busy machine), SIGKILLs it and exits 143, so a graceful stop would fail at
 * random.
 */
export function run(args: string[], env: Record<string, string>, opts: { timeoutMs?: number; tsx?: boolean; direct?: boolean } = {}) {
  // `tsx: false` runs built JavaScript (dist/) as production does, without the loader;
  // `direct` runs args[0] itself, as a shell runs a command (its shebang picks the interpreter).
  const [command, ...rest] = opts.direct ? args : [process.execPath, ...(opts.tsx === false ? args : ['--import', 'tsx', ...args])];
  const child = spawn(command!, rest, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  // Signal the process group: the program and anything it started.
  const kill = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    const timer = setTimeout(() => kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      stderr += `spawn failed: ${err.message}`;
      resolve({ code: null, signal: null });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
  return { child, done, kill, out: () => stdout, err: () => stderr };
}

