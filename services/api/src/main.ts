import { runService } from '@blend/config';
import { startApiService } from './index';

await runService('api', startApiService);
