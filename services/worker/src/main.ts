import { runService } from '@blend/runtime';
import { startWorkerService } from './index';

await runService('worker', startWorkerService);
