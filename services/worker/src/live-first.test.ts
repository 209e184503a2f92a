import { describe, expect, it } from 'vitest';
import { batchTurns, LiveFirst } from './live-first';

/** A promise's state after everything queued so far has run. */
async function settled<T>(p: Promise<T>): Promise<{ done: boolean; value?: T }> {
  let out: { done: boolean; value?: T } = { done: false };
  void p.then((value) => (out = { done: true, value }));
  await new Promise((r) => setImmediate(r));
  return out;
}

describe('LiveFirst', () => {
  it('gives the turn at once when no live ingest runs', async () => {
    const lf = new LiveFirst();
    expect(await settled(lf.turn())).toEqual({ done: true, value: true });
  });

  it('holds a turn until every live ingest has ended', async () => {
    const lf = new LiveFirst(60_000);
    const ends: (() => void)[] = [];
    const live = () => lf.run(() => new Promise<void>((r) => ends.push(r)));
    const a = live();
    const b = live();
    const turn = lf.turn();
    expect(lf.live).toBe(2);
    ends[0]!();
    await a;
    expect(await settled(turn)).toEqual({ done: false });
    ends[1]!();
    await b;
    expect(await settled(turn)).toEqual({ done: true, value: true });
    expect(lf.live).toBe(0);
  });

  it('counts a live ingest that failed as ended', async () => {
    const lf = new LiveFirst(60_000);
    await expect(lf.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(lf.live).toBe(0);
    expect(await settled(lf.turn())).toEqual({ done: true, value: true });
  });

  it('ends a turn that waited maxWaitMs with false', async () => {
    const lf = new LiveFirst(1);
    let end = () => undefined as void;
    const live = lf.run(() => new Promise<void>((r) => (end = r)));
    expect(await lf.turn()).toBe(false);
    end();
    await live;
  });
});

describe('LiveFirst.gate (the statement gate of the pool for work other than live mail)', () => {
  it('lets a statement go at once (no promise) when no live ingest runs, and waits while one runs', async () => {
    const lf = new LiveFirst(60_000);
    expect(lf.gate()).toBeUndefined();
    let end = () => undefined as void;
    const live = lf.run(() => new Promise<void>((r) => (end = r)));
    const wait = lf.gate();
    expect(wait).toBeInstanceOf(Promise);
    expect(await settled(wait!)).toEqual({ done: false });
    end();
    await live;
    expect(await settled(wait!)).toEqual({ done: true, value: true });
    expect(lf.gate()).toBeUndefined();
  });

  it('gives false when the live ingest outlasts maxWaitMs', async () => {
    const lf = new LiveFirst(1);
    let end = () => undefined as void;
    const live = lf.run(() => new Promise<void>((r) => (end = r)));
    expect(await lf.gate()).toBe(false);
    end();
    await live;
  });
});

describe('batchTurns', () => {
  it('waits for each turn until one runs out, then no more', async () => {
    const answers = [true, true, false, true];
    const asked: number[] = [];
    const turn = batchTurns({ turn: async () => (asked.push(asked.length), answers[asked.length - 1]!) });
    for (let i = 0; i < 5; i++) await turn();
    expect(asked).toEqual([0, 1, 2]);
  });
});
