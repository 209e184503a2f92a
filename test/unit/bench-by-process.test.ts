import { describe, expect, it } from 'vitest';
import { cpuByGroup, cpuSplit, partOfName, type ProcRow, type Reading } from '../../scripts/bench/process-cpu';
import { TxCounter } from '../../scripts/bench/pg-relay';
import { commitsRows, cpuTable } from '../../scripts/bench/report';
import { backendMessage } from '../support/pg-wire';

const row = (pid: number, name: string, jiffies: number, group: string | null = null): ProcRow => ({ pid, name, jiffies, group });

describe('cpuByGroup (CPU of the ingest benchmark by process)', () => {
  const cases: { what: string; readings: ProcRow[][]; want: [string, number][] }[] = [
    {
      what: 'a process alive throughout counts from the first reading',
      readings: [[row(1, 'node', 500, 'worker')], [row(1, 'node', 620, 'worker')], [row(1, 'node', 700, 'worker')]],
      want: [['worker', 200]],
    },
    {
      what: 'a process born after the first reading counts from zero',
      readings: [[], [row(2, 'postgres', 30, 'Postgres for the worker')], [row(2, 'postgres', 45, 'Postgres for the worker')]],
      want: [['Postgres for the worker', 45]],
    },
    {
      what: 'a process that exits keeps what it had at its last reading',
      readings: [[row(3, 'smtpd', 10)], [row(3, 'smtpd', 14)], []],
      want: [['Postfix', 4]],
    },
    {
      what: 'a backend first unattributed counts under the part it is given later',
      readings: [[], [row(4, 'postgres', 5)], [row(4, 'postgres', 25, 'Postgres for the poller')], [row(4, 'postgres', 40)]],
      want: [['Postgres for the poller', 40]],
    },
    {
      what: 'a service seen as the benchmark\'s child until its pid is known counts as the service',
      readings: [[row(9, 'node', 100, 'benchmark')], [row(9, 'node', 130, 'benchmark'), row(5, 'node', 40, 'benchmark')], [row(9, 'node', 150, 'benchmark'), row(5, 'node', 90, 'poller')]],
      want: [['poller', 90], ['benchmark', 50]],
    },
    {
      what: 'a reused pid (less CPU) is a new process: the old one is kept',
      readings: [[row(6, 'cleanup', 20)], [row(6, 'cleanup', 26)], [row(6, 'imap', 3)], [row(6, 'imap', 1)]],
      want: [['Postfix', 6], ['Dovecot', 4]],
    },
    {
      what: 'a process that runs another program (exec) goes on, under its new name',
      readings: [[], [row(11, 'sh', 1)], [row(11, 'smtpd', 9)]],
      want: [['Postfix', 9]],
    },
    {
      what: 'processes by name when nothing attributes them, largest first, idle ones left out',
      readings: [
        [row(7, 'redis-server', 0), row(8, 'postgres', 1000), row(10, 'bash', 7)],
        [row(7, 'redis-server', 12), row(8, 'postgres', 1003), row(10, 'bash', 7)],
      ],
      want: [['Redis', 12], ['Postgres, the rest of the server', 3]],
    },
  ];
  it.each(cases)('$what', ({ readings, want }) => {
    expect(cpuByGroup(readings, partOfName)).toEqual(want);
  });
});

describe('cpuSplit (start-up of the services apart from their work)', () => {
  const cases: { what: string; readings: Reading[]; want: { totals: [string, number][]; startup: [string, number][] } }[] = [
    {
      what: 'a service counts up to the reading that marks it ready as start-up, all of it in the total',
      readings: [{ rows: [] }, { rows: [row(1, 'node', 85, 'poller')], ready: ['poller'] }, { rows: [row(1, 'node', 120, 'poller')] }],
      want: { totals: [['poller', 120]], startup: [['poller', 85]] },
    },
    {
      what: 'each service has its own mark; a second mark of the same part is ignored',
      readings: [
        { rows: [row(1, 'node', 60, 'worker'), row(2, 'node', 10, 'poller')], ready: ['worker'] },
        { rows: [row(1, 'node', 70, 'worker'), row(2, 'node', 40, 'poller')], ready: ['poller', 'worker'] },
        { rows: [row(1, 'node', 300, 'worker'), row(2, 'node', 90, 'poller')] },
      ],
      want: { totals: [['worker', 240], ['poller', 80]], startup: [['worker', 0], ['poller', 30]] },
    },
    {
      what: "a service's Postgres backends marked with it; one found only later counts as work",
      readings: [
        { rows: [] },
        { rows: [row(1, 'node', 90, 'worker'), row(3, 'postgres', 12, 'Postgres for the worker'), row(4, 'postgres', 2)], ready: ['worker', 'Postgres for the worker'] },
        { rows: [row(1, 'node', 150, 'worker'), row(3, 'postgres', 20, 'Postgres for the worker'), row(4, 'postgres', 9, 'Postgres for the worker')] },
      ],
      want: { totals: [['worker', 150], ['Postgres for the worker', 29]], startup: [['worker', 90], ['Postgres for the worker', 12]] },
    },
    {
      what: 'a part marked before it used any CPU has a start-up of 0',
      readings: [{ rows: [], ready: ['Postgres for the poller'] }, { rows: [row(5, 'postgres', 7, 'Postgres for the poller')] }],
      want: { totals: [['Postgres for the poller', 7]], startup: [['Postgres for the poller', 0]] },
    },
    {
      what: 'without marks there is no start-up',
      readings: [{ rows: [row(1, 'node', 5, 'worker')] }, { rows: [row(1, 'node', 9, 'worker')] }],
      want: { totals: [['worker', 4]], startup: [] },
    },
  ];
  it.each(cases)('$what', ({ readings, want }) => {
    expect(cpuSplit(readings, partOfName)).toEqual(want);
  });
});

describe('cpuTable', () => {
  it("with the services' start-up: per mail after ready, Blend in all from those, totals kept", () => {
    const table = cpuTable(
      {
        wallSeconds: 20,
        machineBusyPct: 90,
        groups: [['worker', 6], ['Postgres for the worker', 2], ['poller', 2], ['Redis', 1], ['other (the rest of the machine)', 1]],
        startup: [['worker', 1.5], ['Postgres for the worker', 0.5], ['poller', 1]],
        readyAt: { worker: 1.2, poller: 1.4 },
      },
      100,
      'CPU during (c)',
      2,
    );
    expect(table).toContain('| CPU during (c) | CPU seconds | … of it until the service was ready | per mail (services: after ready) | share |');
    expect(table).toContain('| poller (`node dist/poller.mjs`) | 2.0 | 1.0 | 10.0 ms | 17 % |');
    expect(table).toContain('| worker (`node dist/worker.mjs`, its parse threads included) | 6.0 | 1.5 | 45.0 ms | 50 % |');
    expect(table).toContain("| … Postgres backends serving the worker's connections | 2.0 | 0.5 | 15.0 ms | 17 % |");
    expect(table).toContain('| Redis (the queues; shared with anything else on the machine) | 1.0 | | 10.0 ms | 8 % |');
    expect(table).toContain('| **Blend in all** (poller, worker and the Postgres backends serving them) | **10.0** | 3.0 | **70.0 ms** | 83 % |');
    expect(table).toContain("| all processes (per mail: less the services' start-up) | 12.0 | 3.0 | 90.0 ms | 100 % |");
    expect(table).toContain('| for scale: (b) bare mailparser on one core, time per mail | | | 2.0 ms | |');
    expect(table).toContain('the worker after 1.2 s, the poller after 1.4 s');
  });


  it('lists Blend\'s processes first, adds up Blend and all, per mail and share', () => {
    const table = cpuTable(
      {
        wallSeconds: 10,
        machineBusyPct: 80,
        groups: [['other (the rest of the machine)', 6], ['worker', 5], ['Postgres for the worker', 3], ['poller', 1], ['Postgres for the poller', 1], ['Dovecot', 0.5], ['benchmark', 0.5], ['something new', 3]],
      },
      1000,
      'CPU during (c)',
      2.5,
    );
    const lines = table.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| ---'));
    expect(lines.map((l) => l.split(' | ')[0]!.replace('| ', ''))).toEqual([
      'CPU during (c)',
      'poller (`node dist/poller.mjs`)',
      "… Postgres backends serving the poller's connections",
      'worker (`node dist/worker.mjs`, its parse threads included)',
      "… Postgres backends serving the worker's connections",
      'Dovecot (IMAP)',
      'the benchmark (progress queries, probes, the SMTP sink; with BENCH_PG_RELAY=1 the Postgres relays; the API of the single probes)',
      "other processes on the machine (not this run's)",
      'something new',
      '**Blend in all** (poller, worker and the Postgres backends serving them)',
      'all processes',
      'for scale: (b) bare mailparser on one core, time per mail',
    ]);
    expect(table).toContain('| **Blend in all** (poller, worker and the Postgres backends serving them) | **10.0** | **10.0 ms** | 50 % |');
    expect(table).toContain('| all processes | 20.0 | 20.0 ms | 100 % |');
    expect(table).toContain('| worker (`node dist/worker.mjs`, its parse threads included) | 5.0 | 5.0 ms | 25 % |');
    expect(table).toContain('| 2.5 ms |');
    expect(table).toContain('80 % busy over these 10.0 s');
  });
});

const msg = backendMessage;
const done = (tag: string) => msg('C', `${tag}\0`);
const ready = (status: 'I' | 'T' | 'E') => msg('Z', status);
const error = msg('E', 'SERROR\0C23505\0Mduplicate key\0\0');
const startup = Buffer.concat([msg('R', Buffer.alloc(4)), msg('S', 'client_encoding\0UTF8\0'), msg('K', Buffer.alloc(8)), ready('I')]);

describe('TxCounter (transactions on one Postgres connection, from the server side)', () => {
  const cases: { what: string; stream: Buffer[]; skip?: number; want: { commits: number; rollbacks: number } }[] = [
    { what: 'start-up alone is no transaction', stream: [startup], want: { commits: 0, rollbacks: 0 } },
    { what: 'a statement outside a block commits on its own', stream: [startup, done('SELECT 1'), ready('I')], want: { commits: 1, rollbacks: 0 } },
    {
      what: 'pipelined statements (parse, bind, execute, sync) each commit',
      stream: [Buffer.concat([msg('1'), msg('2'), done('INSERT 0 1'), ready('I'), msg('1'), msg('2'), done('UPDATE 3'), ready('I')])],
      want: { commits: 2, rollbacks: 0 },
    },
    {
      what: 'a block commits once, at its COMMIT',
      stream: [done('BEGIN'), ready('T'), done('INSERT 0 1'), ready('T'), done('UPDATE 1'), ready('T'), done('COMMIT'), ready('I')],
      want: { commits: 1, rollbacks: 0 },
    },
    {
      what: 'a failed block rolls back, whether it ends with ROLLBACK or COMMIT',
      stream: [done('BEGIN'), ready('T'), error, ready('E'), done('ROLLBACK'), ready('I'), done('BEGIN'), ready('T'), error, ready('E'), done('ROLLBACK'), ready('I')],
      want: { commits: 0, rollbacks: 2 },
    },
    { what: 'a failed statement outside a block rolls back', stream: [error, ready('I')], want: { commits: 0, rollbacks: 1 } },
    { what: 'a statement parsed only, or a portal read in part and closed, is a transaction too', stream: [msg('1'), ready('I'), msg('2'), msg('D', Buffer.alloc(2)), msg('s'), msg('3'), ready('I')], want: { commits: 2, rollbacks: 0 } },
    { what: 'notices and notifications between statements are no transaction', stream: [msg('N', 'SNOTICE\0\0'), msg('A', Buffer.alloc(8)), ready('I')], want: { commits: 0, rollbacks: 0 } },
    { what: 'a sync with nothing run is no transaction', stream: [ready('I'), ready('I')], want: { commits: 0, rollbacks: 0 } },
    { what: 'a block in one simple query string is one transaction', stream: [done('BEGIN'), done('INSERT 0 1'), done('COMMIT'), ready('I')], want: { commits: 1, rollbacks: 0 } },
    {
      what: 'messages split anywhere across chunks',
      stream: (() => {
        const all = Buffer.concat([startup, done('BEGIN'), ready('T'), done('COMMIT'), ready('I'), done('SELECT 1'), ready('I')]);
        return [all.subarray(0, 3), all.subarray(3, 20), all.subarray(20, 21), all.subarray(21)];
      })(),
      want: { commits: 2, rollbacks: 0 },
    },
    { what: "after an SSLRequest, the server's one-byte 'N' is passed over", skip: 1, stream: [Buffer.from('N'), startup, done('SELECT 1'), ready('I')], want: { commits: 1, rollbacks: 0 } },
    { what: 'after TLS was agreed nothing is counted', skip: 1, stream: [Buffer.from('S'), done('SELECT 1'), ready('I')], want: { commits: 0, rollbacks: 0 } },
  ];
  it.each(cases)('$what', ({ stream, skip, want }) => {
    const counter = new TxCounter({ commits: 0, rollbacks: 0, connections: 0, statements: 0 });
    counter.skip = skip ?? 0;
    for (const chunk of stream) counter.push(chunk);
    expect({ commits: counter.counts.commits, rollbacks: counter.counts.rollbacks }).toEqual(want);
  });
});

describe('commitsRows', () => {
  const pg = { commits: 900, rollbacks: 3, walBytes: 0, walSyncs: 0, sessions: 14, autovacuums: 2 };
  const cases: { what: string; r: Parameters<typeof commitsRows>[0]; want: string[] }[] = [
    {
      what: 'by service from the relays, with the check against the database',
      r: {
        pg, benchCommits: 120,
        commitsByProcess: {
          poller: { commits: 100, rollbacks: 0, connections: 2 }, worker: { commits: 600, rollbacks: 3, connections: 10 }, benchmark: 120,
          check: { counted: 830, database: 846, sessions: 14, autovacuums: 2 },
        },
      },
      want: ['| **3.50**: poller 0.50, worker 3.00 (100 and 600; rolled back: 0 and 3); the benchmark\'s own 120 |', '| 830 counted on the connections (services and benchmark), 846 by the database, which also counts one per new connection (14) and the server\'s background work on it (autovacuum: 2 table runs) |'],
    },
    {
      what: "without relays, the database's count less the benchmark's",
      r: { pg, benchCommits: 120 },
      want: ['| **4.50 per message** (900: the run database\'s 1,020 less the benchmark\'s own 120) |'],
    },
  ];
  it.each(cases)('$what', ({ r, want }) => {
    const text = commitsRows(r, 200);
    for (const w of want) expect(text).toContain(w);
  });
});
