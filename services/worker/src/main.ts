import { runService } from '@blend/config';
import { startWorkerService } from './index';

await runService('worker', startWorkerService);
