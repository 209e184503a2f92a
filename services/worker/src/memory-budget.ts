/**
 * Bounds the bytes of memory some work holds at once in one worker process: the raw mail it
 * ingests (BLEND_INGEST_MEMORY_BYTES), the mail it composes and sends (`composedLimit` in
 * `jobs/send.ts`, which also bounds how many run at once: `maxRunning`). Parsing holds several
 * copies of a message (its source, decoded parts, attachment contents), so a few large mails at
 * the same concurrency slot count would multiply the process's peak memory. Each run takes its
 * bytes from the budget; one larger than the whole budget waits until it can run alone. Waiters
 * are served in order, so a large one is not starved by a stream of small ones (nor are they
 * held up for longer than it takes).
 *
 * A weighted semaphore of our own: async-mutex's walks every unit of its value on each
 * release, which with a budget counted in bytes (16,777,216) cost more than the conversions.
 */
export class MemoryBudget {
  private free: number;
  private running = 0;
  /** The bytes the runs asked for, uncapped (a run heavier than the budget counts in full). */
  private held = 0;
  /** The most that ran at once, and the most bytes they asked for together (for tests). */
  peak = 0;
  peakBytes = 0;
  private readonly waiting: { weight: number; bytes: number; start: () => void }[] = [];

  /**
   * @param capacity the bytes that may be held at once.
   * @param maxRunning how many may run at once, whatever their bytes. @defaultValue no limit
   */
  constructor(
    readonly capacity: number,
    readonly maxRunning: number = Number.POSITIVE_INFINITY,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`memory budget must be a positive integer, got ${capacity}`);
    if (maxRunning !== Number.POSITIVE_INFINITY && (!Number.isInteger(maxRunning) || maxRunning < 1)) throw new RangeError(`runs at once must be a positive integer, got ${maxRunning}`);
    this.free = capacity;
  }

  /** The share of the budget a message of `bytes` takes: at least 1, at most all of it. */
  weightOf(bytes: number): number {
    return Math.min(this.capacity, Math.max(1, Math.ceil(bytes)));
  }

  /** Bytes not taken right now. */
  get available(): number {
    return this.free;
  }

  /** Runs going now, and the bytes they asked for (uncapped). */
  get inUse(): { count: number; bytes: number } {
    return { count: this.running, bytes: this.held };
  }

  /** Run `fn` once `bytes` of the budget (and a run, under `maxRunning`) are free; they are given back when it settles. */
  async run<T>(bytes: number, fn: () => Promise<T>): Promise<T> {
    const weight = this.weightOf(bytes);
    const asked = Math.max(0, bytes);
    if (this.waiting.length === 0 && this.fits(weight)) this.take(weight, asked);
    else await new Promise<void>((start) => this.waiting.push({ weight, bytes: asked, start }));
    try {
      return await fn();
    } finally {
      this.free += weight;
      this.running--;
      this.held -= asked;
      this.startWaiting();
    }
  }

  /** Room for one more of `weight` (at most the capacity, so a heavy one fits when nothing runs). */
  private fits(weight: number): boolean {
    return weight <= this.free && this.running < this.maxRunning;
  }

  private take(weight: number, bytes: number): void {
    this.free -= weight;
    this.running++;
    this.held += bytes;
    this.peak = Math.max(this.peak, this.running);
    this.peakBytes = Math.max(this.peakBytes, this.held);
  }

  /** Start waiters from the head of the line while they fit. */
  private startWaiting(): void {
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!.weight)) {
      const next = this.waiting.shift()!;
      this.take(next.weight, next.bytes);
      next.start();
    }
  }
}

/**
 * Rows ingested together (a batch), in their order, cut into parts of at most `capacity` bytes
 * each, so each part can take its share of the budget; a row larger than that is a part alone.
 */
export function budgetParts<T extends { size: number }>(rows: T[], capacity: number): T[][] {
  const parts: T[][] = [];
  let bytes = 0;
  for (const r of rows) {
    const last = parts.at(-1);
    if (last && bytes + r.size <= capacity) {
      last.push(r);
      bytes += r.size;
    } else {
      parts.push([r]);
      bytes = r.size;
    }
  }
  return parts;
}
