// A parse thread for tests (ParsePool's `threadModule`): Blend's own task, except that a mail
// carrying `X-Test-Runaway: spin` never finishes (a loop that yields nothing, as a pathological
// parse would), and one with `X-Test-Runaway: memory` keeps allocating until the thread's heap
// limit ends it. Everything else is parsed as in production.
import { register } from 'tsx/esm/api';

register();
const task = await import('../../services/worker/src/parse-task.ts');

export default async function runawayOrParse(t) {
  const raw = Buffer.from(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength);
  const mode = /^X-Test-Runaway: (\w+)/m.exec(raw.toString('latin1'))?.[1];
  if (mode === 'spin' || mode === 'memory') {
    t.started?.postMessage('started');
    t.started?.close();
    const hoard = [];
    for (let i = 0; ; i++) if (mode === 'memory') hoard.push(`${i}`.repeat(64));
  }
  return task.default(t);
}
