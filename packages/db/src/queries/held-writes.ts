import type { Tx } from '../client';

/** Where a transaction's held rows stand: before a savepoint ({@link HeldWrites}). */
export interface HeldMark {
  held: number;
  written: number;
}

/**
 * Rows a transaction holds and writes together (docs/ARCHITECTURE.md "Ingest, one mail at a
 * time": a batch's created events and notifications), kept in step with its savepoints.
 */
export interface HeldWrites {
  /** Where the list stands: before a savepoint. */
  mark(): HeldMark;
  /** The list as it stood at `mark`, after a rollback to that savepoint: rows added since are dropped, those written since are held again. */
  restore(mark: HeldMark): void;
  /** Write the rows held and not written yet. */
  flush(): Promise<void>;
}

/**
 * Hold rows for `tx` from now on: `add` (found again through `registry` by whoever writes
 * through `tx`) appends them in order, `flush` hands those not written yet to `write`.
 */
export function holdWrites<T>(tx: Tx, registry: WeakMap<Tx, Holder<T>>, write: (rows: T[]) => Promise<void>): HeldWrites {
  const held: T[] = [];
  let written = 0;
  const flush = async () => {
    if (written === held.length) return;
    const next = held.slice(written);
    await write(next);
    written += next.length;
  };
  registry.set(tx, { add: (rows) => void held.push(...rows), flush });
  return {
    mark: () => ({ held: held.length, written }),
    restore(m) {
      held.length = m.held;
      written = Math.min(written, m.written);
    },
    flush,
  };
}

/** What {@link holdWrites} registers for a transaction. */
export interface Holder<T> {
  add(rows: T[]): void;
  flush(): Promise<void>;
}
