/**
 * The live ingests running in this worker process, and the turns the rest of its work gives
 * them: a catch-up's batch starts its next mail, a send batch its next mail, and a send,
 * webhook, digest or sweep job starts, only when no live ingest runs; and the statements of
 * that other work wait for {@link LiveFirst.gate} (its pool's gate), so a live mail's statements,
 * event-loop turns and Postgres's cores do not queue behind theirs
 * (docs/ARCHITECTURE.md "Processes and the flow").
 *
 * A turn waits at most `maxWaitMs`: a live mail may be waiting for a lock that the batch's own
 * transaction holds (a reply on a thread the batch wrote), so a batch whose wait ran out goes
 * on without waiting again, and a steady stream of live mail cannot stop a backlog.
 */
export class LiveFirst {
  private running = 0;
  private readonly waiting = new Set<() => void>();

  constructor(readonly maxWaitMs = 1_000) {}

  /** Live ingests in flight now. */
  get live(): number {
    return this.running;
  }

  /** Run one live ingest: other work waits for its turn until it, and every other live one, ended. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await work();
    } finally {
      if (--this.running === 0) {
        const woken = [...this.waiting];
        this.waiting.clear();
        for (const wake of woken) wake();
      }
    }
  }

  /**
   * A statement gate (`createDb`'s `gate`) for the process's work other than live mail:
   * `undefined` (send now) when no live ingest runs, else {@link turn}.
   */
  gate(): Promise<boolean> | undefined {
    return this.running === 0 ? undefined : this.turn();
  }

  /**
   * Resolves true at once when no live ingest runs, or when the last one ends; false when
   * `maxWaitMs` passed first.
   */
  turn(): Promise<boolean> {
    if (this.running === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiting.delete(wake);
        resolve(false);
      }, this.maxWaitMs);
      this.waiting.add(wake);
    });
  }
}

/**
 * A batch's turns for its mails, one after another: each waits for {@link LiveFirst.turn} until
 * one wait runs out; from then on the batch goes on without waiting (its transaction may hold
 * what the live mail waits for).
 */
export function batchTurns(liveFirst: Pick<LiveFirst, 'turn'>): () => Promise<void> {
  let giving = true;
  return async () => {
    if (giving && !(await liveFirst.turn())) giving = false;
  };
}

/**
 * `work(i)` for every index below `count`, at most `atOnce` at a time, each started after
 * `turn` when one is given (a catch-up's parses, a send batch's mails): each lane takes the next
 * index as it frees.
 */
export async function inLanes(count: number, atOnce: number, work: (i: number) => Promise<void>, turn?: () => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) {
      if (turn) await turn();
      const i = next++;
      if (i >= count) return;
      await work(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(atOnce, count) }, lane));
}
