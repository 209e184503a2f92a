import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, processMetrics } from '@blend/runtime';
import { parseImapUrl } from '@blend/mail';
import { MailboxPoller } from '@blend/poller';
import { createProducerRedis, createQueues, type Queues } from '@blend/queue';
import type { Redis } from 'ioredis';
import { createTestDatabase, type TestDatabase } from './support/database';

// A login the server refuses for now (Exchange Online's `NO [THROTTLED]`, Gmail's "Too many
// simultaneous connections") is throttling, not a wrong password: the poller says `throttled`,
// counts no auth failure and waits longer. Against a scripted IMAP server that answers the
// login the way those servers do, through imapflow's real error objects.
let t: TestDatabase;
let redis: Redis;
let queues: Queues;
const servers: net.Server[] = [];
const pollers: MailboxPoller[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  redis = createProducerRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  redis.on('error', () => undefined);
  queues = createQueues(redis, `blend-throttle-${process.pid}`);
});
afterEach(async () => {
  for (const p of pollers.splice(0)) await p.stop();
  for (const s of servers.splice(0)) s.close();
});
afterAll(async () => {
  await queues?.close();
  redis?.disconnect();
  await t?.drop();
});

/** An IMAP server whose every login gets `answer` (`TAG` replaced by the command's tag). */
async function scriptedImap(answer: string): Promise<number> {
  const server = net.createServer((socket) => {
    socket.write('* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n');
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      for (let nl = buffer.indexOf('\r\n'); nl >= 0; nl = buffer.indexOf('\r\n')) {
        const [tag = '*', command = ''] = buffer.slice(0, nl).split(' ');
        buffer = buffer.slice(nl + 2);
        switch (command.toUpperCase()) {
          case 'CAPABILITY':
            socket.write(`* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n${tag} OK done\r\n`);
            break;
          case 'LOGIN':
          case 'AUTHENTICATE':
            socket.write(`${answer.replace('TAG', tag)}\r\n`);
            break;
          case 'LOGOUT':
            socket.end(`* BYE\r\n${tag} OK\r\n`);
            break;
          default:
            socket.write(`${tag} OK done\r\n`);
        }
      }
    });
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as net.AddressInfo).port;
}

async function pollerAgainst(answer: string) {
  const port = await scriptedImap(answer);
  const target = parseImapUrl(`imap://bridge%40corp.test:secret@127.0.0.1:${port}/INBOX`);
  const poller = new MailboxPoller({
    target,
    db: t.db,
    ingestQueue: queues.ingest,
    backlogQueue: queues.ingestBacklog,
    log: createLogger('test', 'silent'),
    metrics: processMetrics(),
    pollIntervalMs: 60_000,
    idleRestartMs: 60_000,
    maxMessageBytes: 1_000_000,
    doneFlag: '$BlendDone',
  });
  pollers.push(poller);
  await poller.start(); // resolves after the first connection attempt
  return { poller, key: target.key };
}

const authFailures = async (key: string) => (await processMetrics().imapAuthFailures.get()).values.find((v) => v.labels.mailbox === key)?.value ?? 0;

describe('a throttled IMAP login', () => {
  it.each([
    ['Exchange Online: NO [THROTTLED]', 'TAG NO [THROTTLED] Request is throttled', /Request is throttled/],
    ['Exchange Online: NO [UNAVAILABLE]', 'TAG NO [UNAVAILABLE] Temporary authentication failure', /Temporary authentication failure/],
    ['Gmail: too many connections', 'TAG NO [ALERT] Too many simultaneous connections. (Failure)', /Too many simultaneous connections/],
  ])('%s -> throttled, no auth failure counted', async (_what, answer, text) => {
    const { poller, key } = await pollerAgainst(answer);
    expect(poller.state).toBe('throttled');
    expect(poller.lastError).toMatch(text);
    expect(poller.status()).toMatchObject({ state: 'throttled' });
    expect(await authFailures(key)).toBe(0);
  });

  it('a refused password is still a failed login', async () => {
    const { poller, key } = await pollerAgainst('TAG NO [AUTHENTICATIONFAILED] Authentication failed.');
    expect(poller.state).toBe('auth_failed');
    expect(await authFailures(key)).toBe(1);
  });
});
