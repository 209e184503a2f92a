import { getPriority } from 'node:os';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { lowerPriority } from './worker';

const quiet = { info: () => undefined, warn: () => undefined };

describe('lowerPriority (BLEND_WORKER_NICE)', () => {
  it('does nothing at 0', () => {
    const set: number[] = [];
    lowerPriority(0, quiet, (p) => set.push(p), () => [7]);
    expect(set).toEqual([]);
  });

  it('logs a refusal and goes on', () => {
    const warned: unknown[] = [];
    lowerPriority(5, { info: () => undefined, warn: (o: unknown) => warned.push(o) }, () => {
      throw new Error('EACCES');
    }, () => []);
    expect(warned).toHaveLength(1);
  });

  it("sets the nice value on the calling thread, then on each of the process's threads", () => {
    const set: [number, number][] = [];
    lowerPriority(10, quiet, (p, t) => set.push([p, t]), () => [101, 102]);
    expect(set).toEqual([[10, 0], [10, 101], [10, 102]]);
  });

  it('goes on past a thread that ended meanwhile', () => {
    const set: number[] = [];
    lowerPriority(10, quiet, (_p, t) => {
      if (t === 101) throw new Error('ESRCH');
      set.push(t);
    }, () => [101, 102]);
    expect(set).toEqual([0, 102]);
  });

  it.runIf(process.platform === 'linux')('a thread lowered so, and the threads it starts afterwards, run at that nice value', async () => {
    // In a thread of its own, so this test process keeps its priority: the thread lowers
    // itself as the worker does at start, then starts a thread (as the parse pool does) that
    // reports its own nice value.
    const code = `
      const { parentPort, workerData, Worker } = require('node:worker_threads');
      const os = require('node:os');
      os.setPriority(0, workerData.nice);
      const child = new Worker("require('node:worker_threads').parentPort.postMessage(require('node:os').getPriority(0))", { eval: true });
      child.once('message', (childNice) => { parentPort.postMessage({ own: os.getPriority(0), childNice }); child.terminate(); });
    `;
    const nice = Math.min(19, getPriority(0) + 7);
    const w = new Worker(code, { eval: true, workerData: { nice } });
    const got = await new Promise<{ own: number; childNice: number }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await w.terminate();
    expect(got).toEqual({ own: nice, childNice: nice });
    // This thread kept its own.
    expect(getPriority(0)).toBeLessThan(nice);
  });
});
