// `pnpm start`: api, worker and poller together in the foreground, from the environment.
import { runService } from '@blend/runtime';
import { startAll } from './run-all';

await runService('blend', startAll);
