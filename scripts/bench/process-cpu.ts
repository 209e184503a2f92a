/**
 * CPU by process over a stretch of a benchmark, read from /proc once a second: Blend's
 * services (each a process of its own, see services.ts), the Postgres backends each of them
 * holds (found in pg_stat_activity by the client port of the connection, which is one of the
 * service's own sockets), the mail servers, the benchmark and the rest of the machine.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type pg from 'pg';
import { cpuSnapshot, groupOfName, HZ, pids, procStat, type CpuUse } from './machine';

/**
 * CPU by part, and the start-up of the services apart: `startup` is each marked part's CPU up to
 * the reading at which its service was ready (see {@link CpuLedger.add}), in the same unit as
 * `groups`; `readyAt` the seconds after the first reading at which each service was ready.
 */
export interface ProcessCpuUse extends CpuUse {
  startup?: [string, number][];
  readyAt?: Record<string, number>;
}

/** One process in one reading: its CPU so far and, when known, the part it is counted under. */
export interface ProcRow {
  pid: number;
  name: string;
  jiffies: number;
  /** null: not known at this reading (the part then comes from the last reading that knew, else the name). */
  group: string | null;
}

interface Entry {
  name: string;
  base: number;
  last: number;
  group: string | null;
}

/**
 * Adds up CPU per part from successive readings. A process in the first reading counts from
 * what it had then; one that appears later was born since and counts from zero; one that
 * disappears keeps what it had at its last reading (what it used after that is missed, so
 * short-lived processes are a lower bound). A pid whose CPU goes down is a new process under a
 * reused id; one whose name changes has run another program (exec), its CPU going on.
 */
export class CpuLedger {
  private readonly live = new Map<number, Entry>();
  private readonly banked = new Map<string, number>();
  /** Part → its CPU at the reading that marked it ready (the first such reading only). */
  private readonly readyMarks = new Map<string, number>();
  private readings = 0;

  constructor(private readonly fallback: (name: string) => string) {}

  /**
   * Add one reading. `ready`: parts whose start-up ends with this reading; what they have used
   * so far is their start-up, what they use after it their work (a part marked again keeps
   * its first mark).
   */
  add(rows: readonly ProcRow[], ready: readonly string[] = []): void {
    const first = this.readings++ === 0;
    for (const r of rows) {
      const e = this.live.get(r.pid);
      if (e && r.jiffies >= e.last) {
        e.name = r.name;
        e.last = r.jiffies;
        if (r.group !== null) e.group = r.group;
        continue;
      }
      if (e) this.bank(e);
      this.live.set(r.pid, { name: r.name, base: first ? r.jiffies : 0, last: r.jiffies, group: r.group });
    }
    if (ready.length === 0) return;
    const now = this.byPart();
    for (const part of ready) if (!this.readyMarks.has(part)) this.readyMarks.set(part, now.get(part) ?? 0);
  }

  /** Jiffies per part, largest first. */
  totals(): [string, number][] {
    return [...this.byPart()].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
  }

  /**
   * Jiffies per marked part up to its ready mark, in the order marked. A process put under a part
   * after its mark (a Postgres backend found late) counts as that part's work, all of it; a part
   * that lost CPU since its mark (a process moved to another part) keeps no more than its total.
   */
  startup(): [string, number][] {
    const now = this.byPart();
    return [...this.readyMarks].map(([part, v]) => [part, Math.min(v, now.get(part) ?? 0)]);
  }

  private byPart(): Map<string, number> {
    const out = new Map(this.banked);
    for (const e of this.live.values()) {
      const g = e.group ?? this.fallback(e.name);
      out.set(g, (out.get(g) ?? 0) + e.last - e.base);
    }
    return out;
  }

  private bank(e: Entry): void {
    const g = e.group ?? this.fallback(e.name);
    this.banked.set(g, (this.banked.get(g) ?? 0) + e.last - e.base);
  }
}

/** Jiffies per part over `readings` (see {@link CpuLedger}). */
export function cpuByGroup(readings: readonly (readonly ProcRow[])[], fallback: (name: string) => string): [string, number][] {
  return cpuSplit(readings.map((rows) => ({ rows })), fallback).totals;
}

/** One reading, and the parts whose start-up ends with it. */
export interface Reading {
  rows: readonly ProcRow[];
  ready?: readonly string[];
}

/** Jiffies per part over `readings`, and each marked part's start-up (see {@link CpuLedger}). */
export function cpuSplit(readings: readonly Reading[], fallback: (name: string) => string): { totals: [string, number][]; startup: [string, number][] } {
  const ledger = new CpuLedger(fallback);
  for (const r of readings) ledger.add(r.rows, r.ready);
  return { totals: ledger.totals(), startup: ledger.startup() };
}

/** The part names the report uses; a service's Postgres backends are `Postgres for <service>`. */
export const BENCH_PART = 'benchmark';
export const pgPartOf = (owner: string): string => `Postgres for the ${owner}`;
export const PG_RUN_DB_OTHER = 'Postgres, other work on the run\'s database';
const FALLBACK: Record<string, string> = {
  postgres: 'Postgres, the rest of the server',
  redis: 'Redis',
  dovecot: 'Dovecot',
  postfix: 'Postfix',
  other: 'other (the rest of the machine)',
};
export const partOfName = (name: string): string => FALLBACK[groupOfName(name)] ?? groupOfName(name);

/**
 * The local TCP ports of a process's connections to `remotePort` (its open socket inodes,
 * looked up in its network namespace's socket tables), or none once it has exited.
 */
export function clientPortsOf(pid: number, remotePort: number): Set<number> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return new Set();
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl, local_address, rem_address, st, tx:rx, tr:when, retrnsmt, uid, timeout, inode
      if (f.length < 10 || !inodes.has(f[9]!)) continue;
      const remote = parseInt(f[2]!.split(':')[1] ?? '', 16);
      if (remote === remotePort) ports.add(parseInt(f[1]!.split(':')[1] ?? '', 16));
    }
  }
  return ports;
}

export interface CpuSampler {
  /**
   * Take a reading now that `service` is ready (the first call per service counts): its CPU and
   * its Postgres backends' so far are its start-up, the rest its work.
   */
  ready(service: string): Promise<void>;
  /** Take a last reading and add up. */
  stop(): Promise<ProcessCpuUse>;
}

/**
 * Read every process's CPU once per `everyMs` until stopped. `services` names Blend's
 * processes (their child processes count with them; the object may be filled in later); this process and its children are the
 * benchmark. Postgres backends of `database` are given to the process whose connection they
 * serve; the other Postgres processes (WAL writer, checkpointer, other databases) are "the rest".
 * A service that reaches Postgres through a relay of this process (pg-relay.ts) has its
 * backends found by the relay's ports (`relayedPorts`), which then are not the benchmark's.
 */
export function sampleProcessCpu(o: {
  services: Record<string, number>;
  pool: pg.Pool;
  database: string;
  pgPort: number;
  /** Client ports of connections made on a process's behalf (a relay's), by the process's name. */
  relayedPorts?: () => Map<number, string>;
  everyMs?: number;
}): CpuSampler {
  const ledger = new CpuLedger(partOfName);
  // Read afresh each time: the services may start after the sampler (until then they count as
  // the benchmark's children, and the part a process had last is the one it counts under).
  const parts = () => new Map<number, string>([[process.pid, BENCH_PART], ...Object.entries(o.services).map(([name, pid]) => [pid, name] as [number, string])]);
  /** Backend pid → part, once its connection's owner is known. */
  const backends = new Map<number, string>();
  const before = cpuSnapshot();
  let stopped = false;
  let failure: Error | null = null;

  const readBackends = async () => {
    const { rows } = await o.pool.query<{ pid: number; port: number | null }>(
      'select pid, client_port as port from pg_stat_activity where datname = $1',
      [o.database],
    );
    const unknown = rows.filter((r) => !backends.has(r.pid));
    if (unknown.length === 0) return;
    const portOwner = new Map<number, string>();
    for (const [pid, name] of parts()) for (const port of clientPortsOf(pid, o.pgPort)) portOwner.set(port, name);
    for (const [port, name] of o.relayedPorts?.() ?? []) portOwner.set(port, name);
    for (const r of unknown) {
      const owner = r.port === null ? undefined : portOwner.get(r.port);
      if (owner) backends.set(r.pid, pgPartOf(owner));
      // Autovacuum and the like have no client; a connection of a process not named here stays unknown.
      else if (r.port === null) backends.set(r.pid, PG_RUN_DB_OTHER);
    }
  };
  const read = (ready: readonly string[] = []) => {
    const rows: ProcRow[] = [];
    const partOf = parts();
    for (const pid of pids()) {
      const p = procStat(pid);
      if (!p) continue;
      rows.push({ pid, name: p.name, jiffies: p.jiffies, group: partOf.get(pid) ?? partOf.get(p.ppid) ?? backends.get(pid) ?? null });
    }
    ledger.add(rows, ready);
  };
  const readyAt: Record<string, number> = {};
  read();
  const loop = (async () => {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, o.everyMs ?? 1000));
      try {
        await readBackends();
      } catch (err) {
        failure ??= err as Error;
      }
      read();
    }
  })();
  return {
    ready: async (service) => {
      if (service in readyAt) return;
      readyAt[service] = Math.round((Date.now() - before.atMs) / 100) / 10;
      // Its backends first, so the ones it has opened count under it at this reading.
      await readBackends().catch((err: unknown) => void (failure ??= err as Error));
      read([service, pgPartOf(service)]);
    },
    stop: async () => {
      stopped = true;
      await loop;
      await readBackends().catch(() => undefined);
      read();
      if (failure) process.stderr.write(`bench: reading pg_stat_activity failed (${failure.message}); some Postgres CPU is "the rest"\n`);
      const after = cpuSnapshot();
      const total = after.machineTotal - before.machineTotal;
      return {
        wallSeconds: (after.atMs - before.atMs) / 1000,
        machineBusyPct: total > 0 ? Math.round(((after.machineBusy - before.machineBusy) / total) * 1000) / 10 : 0,
        groups: ledger.totals().map(([g, j]) => [g, Math.round((j / HZ) * 100) / 100]),
        ...(Object.keys(readyAt).length > 0 ? { startup: ledger.startup().map(([g, j]) => [g, Math.round((j / HZ) * 100) / 100]), readyAt } : {}),
      };
    },
  };
}
