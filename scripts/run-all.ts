import type { Config } from '@blend/config';
import type { Logger } from '@blend/runtime';
import { startApiService } from '@blend/api';
import { startPollerService } from '@blend/poller';
import { startWorkerService } from '@blend/worker';

/**
 * api, worker and poller in one process. Each is still its own service object; in
 * production run them as separate processes and scale workers out.
 */
export async function startAll(config: Config, log: Logger): Promise<{ url: string; stop(): Promise<void> }> {
  // The worker first: it migrates the schema and runs the reconciler.
  const worker = await startWorkerService(config, log.child({ service: 'worker' }));
  const api = await startApiService(config, log.child({ service: 'api' }));
  const poller = await startPollerService(config, log.child({ service: 'poller' }));
  log.info({ url: api.url }, 'blend is running');
  return {
    url: api.url,
    stop: async () => {
      // Stop taking in mail first, then the API, then let the jobs in flight finish.
      await poller.stop();
      await api.stop();
      await worker.stop();
    },
  };
}
