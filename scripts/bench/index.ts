// `pnpm bench [ingest|digest|api|soak|conversion|stream]…`: run the named benchmarks one after another, each in
// a process of its own (each exits when done and owns its resources); without a name, all but
// the soak, which takes about 35 minutes and runs only when named.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const BENCHES = { ingest: 'ingest.ts', digest: 'digest.ts', api: 'api.ts', soak: 'soak.ts', conversion: 'conversion.ts', stream: 'stream.ts' } as const;
type Bench = keyof typeof BENCHES;
const isBench = (s: string): s is Bench => Object.hasOwn(BENCHES, s);

const args = process.argv.slice(2).filter((a) => a !== '--');
const unknown = args.filter((a) => !isBench(a));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown benchmark ${unknown.join(', ')}; use ${Object.keys(BENCHES).join(', ')} (none: all but soak)\n`);
  process.exit(2);
}
const chosen: Bench[] = args.length > 0 ? (args as Bench[]) : ['ingest', 'digest', 'api', 'conversion'];

function run(bench: Bench): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, BENCHES[bench])], { stdio: 'inherit', env: process.env });
    // Ctrl-C reaches the child through the terminal's process group; let it clean up.
    process.on('SIGINT', () => undefined);
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

let failed = 0;
for (const bench of chosen) {
  const code = await run(bench);
  if (code !== 0) {
    failed = code;
    process.stderr.write(`bench: ${bench} exited with code ${code}\n`);
  }
}
process.exit(failed);
