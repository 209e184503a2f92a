// A parse thread started from source (`pnpm start`, the tests): a new thread has none of the
// TypeScript loader the main thread was started with, so it registers tsx before loading the
// task. `pnpm build` bundles parse-task.ts under this same name into dist/, which needs no loader.
import { register } from 'tsx/esm/api';

register();
const task = await import('./parse-task.ts');

export default task.default;
