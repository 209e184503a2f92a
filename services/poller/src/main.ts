import { runService } from '@blend/config';
import { startPollerService } from './index';

await runService('poller', startPollerService);
