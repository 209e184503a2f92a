/**
 * Vitest global setup of the end-to-end project: make sure the local servers and programs the
 * tests use are there before the first test file starts. When all of them answer this is a
 * probe of six loopback ports and a few files (well under a second); otherwise, as root on
 * Debian, it runs `scripts/services.sh install` and `up` (as `pnpm demo` does), and anywhere
 * else it stops the run at once with the command that fixes it ({@link planServices}).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_PATH } from './support/browser';
import { ADMIN_DATABASE_URL } from './support/database';
import { IMAP_PORT, LMTP_PORT, SCRIPTED_SMTP_PORT, SMTP_PORT } from './support/mail-server';
import { LABEL, planServices, type Server, type ServicesProbe } from './support/services-plan';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export default async function setup(): Promise<void> {
  const plan = planServices(await probe());
  if (plan.kind === 'ready') return;
  if (plan.kind === 'stop') stopRun(plan.message);

  if (plan.install.length > 0) {
    say(`installing ${plan.install.map((n) => LABEL[n]).join(', ')} (scripts/services.sh install, Debian packages)...`);
    services('install');
  }
  if (plan.start.length > 0) {
    say(`starting ${plan.start.map((n) => LABEL[n]).join(', ')} (scripts/services.sh up)...`);
    services('up');
  }
  const after = planServices(await probe());
  if (after.kind !== 'ready') {
    const what = after.kind === 'stop' ? after.message : `still missing: ${[...after.install, ...after.start].map((n) => LABEL[n]).join(', ')}`;
    stopRun(`scripts/services.sh did not provide what the tests need. ${what}`);
  }
}

/** End the run before any test file starts: the message is the whole story, a stack trace would bury it. */
function stopRun(message: string): never {
  process.stderr.write(`\ntest services: ${message}\n\n`);
  process.exit(1);
}

function say(msg: string): void {
  process.stderr.write(`test services: ${msg}\n`);
}

function services(command: 'install' | 'up'): void {
  const res = spawnSync(path.join(root, 'scripts/services.sh'), [command], { stdio: 'inherit' });
  if (res.status !== 0) stopRun(`scripts/services.sh ${command} failed (exit ${res.status ?? res.signal}); its output is above.`);
}

async function probe(): Promise<ServicesProbe> {
  const db = new URL(ADMIN_DATABASE_URL);
  const dbPort = Number(db.port || 5432);
  const ports: Record<Server, [string, number][]> = {
    postgres: [[db.hostname, dbPort]],
    redis: [['127.0.0.1', 6379]],
    dovecot: [
      ['127.0.0.1', IMAP_PORT],
      ['127.0.0.1', LMTP_PORT],
    ],
    postfix: [
      ['127.0.0.1', SMTP_PORT],
      ['127.0.0.1', SCRIPTED_SMTP_PORT],
    ],
  };
  const entries = await Promise.all(
    Object.entries(ports).map(async ([server, list]) => [server, (await Promise.all(list.map(([h, p]) => answers(h, p)))).every(Boolean)] as const),
  );
  const external: ServicesProbe['external'] = {};
  if (!LOOPBACK.has(db.hostname)) external.postgres = `BLEND_TEST_ADMIN_DATABASE_URL names ${db.hostname}:${dbPort}`;
  if (process.env.BLEND_CHROMIUM) external.chromium = `BLEND_CHROMIUM=${process.env.BLEND_CHROMIUM}`;
  return {
    nodeMajor: Number(process.versions.node.split('.')[0]),
    installed: {
      postgres: postgresCluster(),
      redis: existsSync('/usr/bin/redis-server'),
      dovecot: existsSync('/usr/sbin/dovecot'),
      postfix: existsSync('/usr/sbin/postfix'),
      chromium: executable(CHROMIUM_PATH),
      swaks: existsSync('/usr/bin/swaks'),
    },
    running: Object.fromEntries(entries) as Record<Server, boolean>,
    external,
    root: process.getuid?.() === 0,
    debian: existsSync('/etc/debian_version') && existsSync('/usr/bin/apt-get'),
  };
}

/** Debian's PostgreSQL with a cluster `main` to start (what scripts/services.sh starts). */
function postgresCluster(): boolean {
  if (!existsSync('/etc/postgresql')) return false;
  return readdirSync('/etc/postgresql').some((v) => existsSync(`/etc/postgresql/${v}/main/postgresql.conf`));
}

function executable(file: string): boolean {
  const st = statSync(file, { throwIfNoEntry: false });
  return st !== undefined && st.isFile() && (st.mode & 0o111) !== 0;
}

/** Whether something accepts TCP connections on host:port within a second. */
function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: host.replace(/^\[|\]$/g, ''), port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
