/**
 * What the benchmark ran on, and where the CPU time went while it ran. Linux only: the
 * figures come from /proc, which is what the 2-core CI machines are.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineFacts {
  cpuModel: string;
  cores: number;
  ramGiB: number;
  node: string;
  os: string;
  kernel: string;
  dovecot: string;
  postfix: string;
}

/** CPU model, cores, RAM, Node, OS and mail server versions. */
export async function machineFacts(): Promise<MachineFacts> {
  const cpuinfo = readText('/proc/cpuinfo');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const osRelease = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(readText('/etc/os-release'))?.[1] ?? `${os.type()} ${os.release()}`;
  return {
    cpuModel: model,
    cores: os.availableParallelism(),
    ramGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    os: osRelease,
    kernel: os.release(),
    dovecot: await commandOutput('dovecot', ['--version']),
    postfix: (await commandOutput('postconf', ['-h', 'mail_version'])) || 'unknown',
  };
}

/**
 * The Blend revision measured: the commit, plus how many tracked files differ from it
 * (other work in progress changes the figures too). `BENCH_REVISION` overrides it, for runs
 * from an exported tree without .git.
 */
export async function blendRevision(root: string): Promise<string> {
  if (process.env.BENCH_REVISION) return process.env.BENCH_REVISION;
  const commit = await commandOutput('git', ['-C', root, 'log', '-1', '--format=%h %s']);
  if (commit === 'unknown') return 'unknown (not a git checkout)';
  const dirty = await commandOutput('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], true);
  const changed = dirty.split('\n').filter(Boolean).length;
  return changed > 0 ? `${commit} + uncommitted changes in ${changed} tracked files` : commit;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    // Not Linux, or a sandbox without /proc: the facts say "unknown" instead.
    return '';
  }
}

/** First line of a command's output (all of it with `all`), or "unknown" when it fails. */
function commandOutput(file: string, args: string[], all = false): Promise<string> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 5_000 }, (err, stdout) => {
      if (err) resolve('unknown');
      else resolve(all ? stdout : (stdout.trim().split('\n')[0] ?? ''));
    });
  });
}

/** Process names (from /proc/PID/stat) grouped into the parts of the stack. */
const GROUPS: [string, RegExp][] = [
  ['postgres', /^postgres$/],
  ['redis', /^redis-server$/],
  ['dovecot', /^(dovecot|imap|imap-login|auth|config|anvil|log|stats|indexer|indexer-worker|lmtp|dict)$/],
  ['postfix', /^(master|smtpd|qmgr|cleanup|trivial-rewrite|pickup|tlsmgr|proxymap|smtp|bounce)$/],
];

/** The part of the stack a process belongs to by its name (postgres, redis, dovecot, postfix), else `other`. */
export const groupOfName = (name: string): string => GROUPS.find(([, re]) => re.test(name))?.[0] ?? 'other';

export interface CpuSnapshot {
  atMs: number;
  /** Jiffies (user+system) per group; this process is its own group. */
  groups: Map<string, number>;
  machineBusy: number;
  machineTotal: number;
}

/**
 * Sums user+system CPU of every process, by group. Processes that exit between two
 * snapshots are missed (short-lived Postfix/Dovecot helpers), so the groups are a lower bound.
 */
export function cpuSnapshot(): CpuSnapshot {
  const groups = new Map<string, number>();
  for (const pid of pids()) {
    const p = procStat(pid);
    if (!p) continue;
    const group = pid === process.pid ? 'bench process' : groupOfName(p.name);
    groups.set(group, (groups.get(group) ?? 0) + p.jiffies);
  }
  const cpu = readText('/proc/stat').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  const total = cpu.reduce((a, b) => a + b, 0);
  return { atMs: Date.now(), groups, machineBusy: total - idle, machineTotal: total };
}

/** The ids of the running processes. */
export function pids(): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number);
}

/**
 * A process's name, its parent, and its user + system CPU in jiffies (proc(5) stat fields 4,
 * 14 and 15), or null once it has exited.
 */
export function procStat(pid: number): { name: string; ppid: number; jiffies: number } | null {
  const stat = readText(`/proc/${pid}/stat`);
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  const fields = stat.slice(close + 2).split(' ');
  // After the name, ppid is at index 1, utime and stime at indexes 11 and 12.
  return { name: stat.slice(stat.indexOf('(') + 1, close), ppid: Number(fields[1]), jiffies: Number(fields[11]) + Number(fields[12]) };
}

/** User + system CPU seconds a process has used; 0 once it has exited. */
export function cpuSecondsOf(pid: number): number {
  return (procStat(pid)?.jiffies ?? 0) / HZ;
}

/**
 * CPU jiffies of each process called `name`, by pid. Per process, not summed as
 * {@link cpuSnapshot} does: one that exits between two readings (a pool closing an idle
 * connection) would otherwise take its whole past CPU out of the total.
 */
export function jiffiesByProcess(name: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids()) {
    const p = procStat(pid);
    if (p?.name === name) out.set(pid, p.jiffies);
  }
  return out;
}

export interface CpuUse {
  wallSeconds: number;
  /** Busy share of all cores over the interval, 0–100. */
  machineBusyPct: number;
  /** CPU seconds per group, largest first. */
  groups: [string, number][];
}

/** USER_HZ is 100 on every Linux architecture Node runs on. */
export const HZ = 100;

export function cpuUse(before: CpuSnapshot, after: CpuSnapshot): CpuUse {
  const groups: [string, number][] = [];
  for (const [name, v] of after.groups) {
    const d = (v - (before.groups.get(name) ?? 0)) / HZ;
    if (d > 0) groups.push([name, Math.round(d * 100) / 100]);
  }
  groups.sort((a, b) => b[1] - a[1]);
  const total = after.machineTotal - before.machineTotal;
  return {
    wallSeconds: (after.atMs - before.atMs) / 1000,
    machineBusyPct: total > 0 ? Math.round(((after.machineBusy - before.machineBusy) / total) * 1000) / 10 : 0,
    groups,
  };
}
