import { runService } from '@blend/runtime';
import { startApiService } from './index';

await runService('api', startApiService);
