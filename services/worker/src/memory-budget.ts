/**
 * Bounds the bytes of raw mail one worker process ingests at once (BLEND_INGEST_MEMORY_BYTES).
 * Parsing holds several copies of a message (its source, decoded parts, attachment contents),
 * so a few large mails at the same concurrency slot count would multiply the process's peak
 * memory. Each conversion takes its message's size from the budget; one larger than the whole
 * budget waits until it can run alone. Waiters are served in order, so a large message is not
 * starved by a stream of small ones.
 *
 * A weighted semaphore of our own: async-mutex's walks every unit of its value on each
 * release, which with a budget counted in bytes (16,777,216) cost more than the conversions.
 */
export class MemoryBudget {
  private free: number;
  private readonly waiting: { weight: number; start: () => void }[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`memory budget must be a positive integer, got ${capacity}`);
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

  /** Run `fn` once `bytes` of the budget are free; they are given back when it settles. */
  async run<T>(bytes: number, fn: () => Promise<T>): Promise<T> {
    const weight = this.weightOf(bytes);
    if (this.waiting.length === 0 && weight <= this.free) this.free -= weight;
    else await new Promise<void>((start) => this.waiting.push({ weight, start }));
    try {
      return await fn();
    } finally {
      this.free += weight;
      this.startWaiting();
    }
  }

  /** Start waiters from the head of the line while they fit. */
  private startWaiting(): void {
    while (this.waiting.length > 0 && this.waiting[0]!.weight <= this.free) {
      const next = this.waiting.shift()!;
      this.free -= next.weight;
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
