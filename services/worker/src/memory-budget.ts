import { Semaphore } from 'async-mutex';

/**
 * Bounds the bytes of raw mail one worker process converts at once (BLEND_INGEST_MEMORY_BYTES).
 * Parsing holds several copies of a message (its source, decoded parts, attachment contents),
 * so a few large mails at the same concurrency slot count would multiply the process's peak
 * memory. Each conversion takes its message's size from the budget; one larger than the whole
 * budget waits until it can run alone. Waiters are served in order, so a large message is not
 * starved by a stream of small ones.
 */
export class MemoryBudget {
  private readonly semaphore: Semaphore;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`memory budget must be a positive integer, got ${capacity}`);
    this.semaphore = new Semaphore(capacity);
  }

  /** The share of the budget a message of `bytes` takes: at least 1, at most all of it. */
  weightOf(bytes: number): number {
    return Math.min(this.capacity, Math.max(1, Math.ceil(bytes)));
  }

  /** Bytes not taken right now. */
  get available(): number {
    return this.semaphore.getValue();
  }

  /** Run `fn` once `bytes` of the budget are free; they are given back when it settles. */
  run<T>(bytes: number, fn: () => Promise<T>): Promise<T> {
    return this.semaphore.runExclusive(fn, this.weightOf(bytes));
  }
}
