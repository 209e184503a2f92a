import { runService } from '@blend/runtime';
import { startPollerService } from './index';

await runService('poller', startPollerService);
