import { ConfigError, loadConfig, type Config } from '@blend/config';
import { createLogger, type Logger } from './logger';

/**
 * A service that has not stopped this long after SIGTERM exits anyway. Deployments give it
 * more (docker-compose.yml's stop_grace_period, the pods' terminationGracePeriodSeconds).
 */
export const STOP_TIMEOUT_MS = 20_000;

export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * The body of every service's `main.ts`: read the configuration once, start, and stop
 * cleanly on SIGTERM/SIGINT. A bad setting exits with code 2 and a message naming it.
 */
export async function runService(
  name: string,
  start: (config: Config, log: Logger) => Promise<Stoppable>,
  env: Record<string, string | undefined> = process.env,
): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`blend ${name}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(name, config.LOG_LEVEL);
  let service: Stoppable;
  try {
    service = await start(config, log);
  } catch (err) {
    log.fatal({ err }, `${name} could not start`);
    process.stderr.write(`blend ${name}: could not start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    const force = setTimeout(() => {
      log.error(`did not stop within ${STOP_TIMEOUT_MS / 1000} s; exiting`);
      process.exit(1);
    }, STOP_TIMEOUT_MS);
    force.unref();
    service.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
