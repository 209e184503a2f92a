import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPgCount, pgCountEnv, readPgCounts, type PgCountFiles } from '../../scripts/bench/pg-count';
import { TxCounter } from '../../scripts/bench/pg-relay';
import { messageOfPg, TxState, zeroCounts, type TxMessage } from '../../scripts/bench/pg-tx';
import { backendMessage } from '../support/pg-wire';

const root = path.resolve(import.meta.dirname, '../..');

const complete = (tag: string): TxMessage => ({ kind: 'complete', tag });
const ready = (status: 'I' | 'T' | 'E'): TxMessage => ({ kind: 'ready', status });
const error: TxMessage = { kind: 'error' };
const answer: TxMessage = { kind: 'answer' };
const outside: TxMessage = { kind: 'outside' };

describe('TxState (transactions on one connection, from its messages)', () => {
  const cases: { what: string; messages: TxMessage[]; want: { commits: number; rollbacks: number; statements: number } }[] = [
    { what: 'start-up alone is no transaction', messages: [outside, outside, ready('I')], want: { commits: 0, rollbacks: 0, statements: 0 } },
    { what: 'a statement outside a block commits on its own', messages: [answer, complete('SELECT 1'), ready('I')], want: { commits: 1, rollbacks: 0, statements: 1 } },
    {
      what: 'a block commits once, at its COMMIT; each of its statements counts',
      messages: [complete('BEGIN'), ready('T'), complete('INSERT 0 1'), ready('T'), complete('COMMIT'), ready('I')],
      want: { commits: 1, rollbacks: 0, statements: 3 },
    },
    {
      what: 'a block ended by ROLLBACK rolls back',
      messages: [complete('BEGIN'), ready('T'), complete('UPDATE 1'), ready('T'), complete('ROLLBACK'), ready('I')],
      want: { commits: 0, rollbacks: 1, statements: 3 },
    },
    {
      what: "a failed block's COMMIT (tagged ROLLBACK by the server) rolls back",
      messages: [complete('BEGIN'), ready('T'), error, ready('E'), complete('ROLLBACK'), ready('I')],
      want: { commits: 0, rollbacks: 1, statements: 2 },
    },
    { what: 'a failed statement outside a block rolls back', messages: [answer, error, ready('I')], want: { commits: 0, rollbacks: 1, statements: 0 } },
    { what: 'a statement parsed only is a transaction', messages: [answer, ready('I')], want: { commits: 1, rollbacks: 0, statements: 0 } },
    { what: 'notices between statements are no transaction', messages: [outside, ready('I'), ready('I')], want: { commits: 0, rollbacks: 0, statements: 0 } },
    { what: 'a block in one simple query string is one transaction', messages: [complete('BEGIN'), complete('INSERT 0 1'), complete('COMMIT'), ready('I')], want: { commits: 1, rollbacks: 0, statements: 3 } },
  ];
  it.each(cases)('$what', ({ messages, want }) => {
    const state = new TxState(zeroCounts());
    for (const m of messages) state.message(m);
    expect(state.counts).toEqual({ ...want, connections: 0 });
  });
});

describe('messageOfPg (the messages of the pg package)', () => {
  const cases: [name: string, fields: { text?: string; status?: string }, want: TxMessage][] = [
    ['commandComplete', { text: 'INSERT 0 1' }, complete('INSERT 0 1')],
    ['readyForQuery', { status: 'T' }, ready('T')],
    ['error', {}, error],
    ['parseComplete', {}, answer],
    ['bindComplete', {}, answer],
    ['rowDescription', {}, answer],
    ['dataRow', {}, answer],
    ['noData', {}, answer],
    ['emptyQuery', {}, answer],
    ['portalSuspended', {}, answer],
    ['closeComplete', {}, answer],
    ['authenticationOk', {}, outside],
    ['authenticationSASLFinal', {}, outside],
    ['parameterStatus', {}, outside],
    ['backendKeyData', {}, outside],
    ['notice', {}, outside],
    ['notification', {}, outside],
  ];
  it.each(cases)('%s -> %o', (name, fields, want) => {
    expect(messageOfPg({ name, ...fields })).toEqual(want);
  });
});

const msg = backendMessage;
const wire = {
  done: (tag: string) => msg('C', `${tag}\0`),
  ready: (status: 'I' | 'T' | 'E') => msg('Z', status),
  error: msg('E', 'SERROR\0C23505\0Mduplicate key\0\0'),
  startup: Buffer.concat([msg('R', Buffer.alloc(4)), msg('S', 'client_encoding\0UTF8\0'), msg('K', Buffer.alloc(8)), msg('Z', 'I')]),
  row: msg('D', Buffer.from([0, 1, 0, 0, 0, 1, 0x31])),
  description: msg('T', Buffer.concat([Buffer.from([0, 1]), Buffer.from('n\0', 'latin1'), Buffer.alloc(18)])),
};

/**
 * A script for a Node process with the preload loaded: gives each connection's server bytes
 * (base64, in a JSON array argument) to a connection of the real `pg`, then exits.
 */
const FEED = `
import pg from 'pg';
import { PassThrough } from 'node:stream';
for (const b64 of JSON.parse(process.argv[1])) {
  const stream = new PassThrough();
  const connection = new pg.Connection({ stream });
  connection.attachListeners(stream);
  stream.write(Buffer.from(b64, 'base64'));
}
setTimeout(() => process.exit(0), 50);
`;

describe('pg-count-preload (counting inside a service, on its pg connections)', () => {
  let files: PgCountFiles;
  let dir: string;
  beforeAll(async () => {
    // Inside the checkout, as the benchmark builds it, so the preload finds pg in node_modules.
    await mkdir(path.join(root, '.blend'), { recursive: true });
    dir = await mkdtemp(path.join(root, '.blend', 'test-pg-count-'));
    files = await buildPgCount(dir);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('counts what the relay counts on the same bytes, statements too, per process and added up by service', async () => {
    const connections = [
      Buffer.concat([wire.startup, wire.description, wire.row, wire.done('SELECT 1'), wire.ready('I')]),
      Buffer.concat([
        wire.startup, wire.done('BEGIN'), wire.ready('T'), msg('1'), msg('2'), msg('n'), wire.done('INSERT 0 1'), wire.ready('T'),
        wire.done('COMMIT'), wire.ready('I'), wire.error, wire.ready('I'), wire.done('BEGIN'), wire.ready('T'), wire.error, wire.ready('E'), wire.done('ROLLBACK'), wire.ready('I'),
      ]),
    ];
    const relayed = zeroCounts();
    for (const c of connections) new TxCounter(relayed).push(c);
    expect(relayed).toMatchObject({ commits: 2, rollbacks: 2, statements: 6 });

    const run = async () => {
      const env = { ...process.env, ...pgCountEnv(files, 'worker') };
      await promisify(execFile)(process.execPath, ['--input-type=module', '-e', FEED, JSON.stringify(connections.map((c) => c.toString('base64')))], { cwd: root, env });
    };
    await run();
    await run();
    expect((await readdir(files.dir)).filter((f) => f.endsWith('.json'))).toHaveLength(2);
    const { byName } = await readPgCounts(files.dir);
    expect(byName.get('worker')).toEqual({ commits: 4, rollbacks: 4, statements: 12, connections: 4 });
  });
});
