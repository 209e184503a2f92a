// `pnpm start`: api, worker and poller in one foreground process, from the environment.
// Each still runs as its own service object; in production run them as separate
// processes (`pnpm start:api`, `start:worker`, `start:poller`) and scale workers out.
import { runService, type Config, type Logger } from '@blend/config';
import { startApiService } from '@blend/api';
import { startPollerService } from '@blend/poller';
import { startWorkerService } from '@blend/worker';

async function startAll(config: Config, log: Logger) {
  // The worker first: it migrates the schema and runs the reconciler.
  const worker = await startWorkerService(config, log.child({ service: 'worker' }));
  const api = await startApiService(config, log.child({ service: 'api' }));
  const poller = await startPollerService(config, log.child({ service: 'poller' }));
  log.info({ url: api.url }, 'blend is running');
  return {
    stop: async () => {
      // Stop taking in mail first, then the API, then finish the jobs in flight.
      await poller.stop();
      await api.stop();
      await worker.stop();
    },
  };
}

await runService('blend', startAll);
