import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { ParseResult, ParseSettings, ParseTask } from './parse-task';

/**
 * A mail that parsing could not finish within its limits: `parse_timeout` (BLEND_PARSE_TIMEOUT_MS)
 * or `parse_memory` (the thread's heap). Retrying it would do the same, so ingest ends it
 * `failed` with this reason for IT, who can replay it (docs/SECURITY.md F9).
 */
export class ParseLimitError extends Error {
  constructor(
    readonly reason: 'parse_timeout' | 'parse_memory',
    message: string,
  ) {
    super(message);
    this.name = 'ParseLimitError';
  }
}

/** BLEND_PARSE_TIMEOUT_MS's default: far above what any real mail takes (milliseconds). */
export const DEFAULT_PARSE_TIMEOUT_MS = 30_000;

/**
 * Each parse thread's V8 heap, in MiB: the old space README "Memory" gives the whole worker
 * process (`--max-old-space-size=160`), now per thread. The young generation here is a ceiling
 * only: a `--max-semi-space-size` the process is started with (4 in docker-compose.yml) sizes
 * the threads' young generation too (measured: their heaps went from 37 to 30 MiB with it from 8
 * to 4, and did not change with 8 here instead of 24). Mail contents are Buffers outside this
 * heap; the process-wide BLEND_INGEST_MEMORY_BYTES still bounds how much raw mail is ingested at once.
 */
export const PARSE_THREAD_HEAP = { maxOldGenerationSizeMb: 160, maxYoungGenerationSizeMb: 24 } as const;

/**
 * Parse threads when BLEND_PARSE_THREADS is unset: one fewer than the cores, at least one. The
 * main thread does most of a mail's work (statements, sender authentication, sends), so parsing
 * (a few milliseconds a typical mail) needs fewer cores than it: on two cores one thread kept
 * the ingest rate of two, and each thread holds about 40 MiB of heap (docs/BENCHMARKS.md).
 */
export function defaultParseThreads(cores: number): number {
  return Math.max(1, Math.floor(cores) - 1);
}

/** Whose mail is parsed: live mail's, or a catch-up's, which waits behind it for a thread. */
export type ParseLane = 'live' | 'backlog';

export interface ParsePoolOptions {
  settings: ParseSettings;
  /** BLEND_PARSE_TIMEOUT_MS: the most one mail may take once its thread has started on it. */
  timeoutMs: number;
  /** BLEND_PARSE_THREADS. @defaultValue {@link defaultParseThreads} */
  threads?: number;
  /** The thread's module. Tests give one with an injected slow step. @defaultValue parse-thread.mjs beside this file */
  threadModule?: URL;
  /** The longest a live mail's {@link ParsePool.expectLive} holds catch-up mails back. @defaultValue 1000 */
  holdMs?: number;
}

/** A live mail expected to ask for a thread ({@link ParsePool.expectLive}). */
interface Expected {
  timer: NodeJS.Timeout;
}

/**
 * Runs parse and conversion (`parseAndConvert`) in a pool of worker threads, so that a mail
 * that makes them run away is stopped: past the time limit its thread is terminated (piscina
 * aborts a running task by ending the thread) and a new one takes its place. The mail fails
 * alone with a {@link ParseLimitError} (`parse_timeout`, or `parse_memory` when its thread reached
 * its heap limit; docs/SECURITY.md F9); the other threads' mails go on.
 */
export class ParsePool {
  private readonly pool: Piscina<ParseTask, ParseResult>;
  readonly timeoutMs: number;
  private readonly size: number;
  /** Mails handed to piscina and not finished: at most one per thread, the rest wait in `queued`. */
  private inFlight = 0;
  private readonly queued: { live: (() => void)[]; backlog: { order: number; start: () => void }[] } = { live: [], backlog: [] };
  private orders = 0;
  /** Live mails that will ask for a thread soon: while there are any, no catch-up mail takes a free one. */
  private readonly expected = new Set<Expected>();

  constructor(private readonly opts: ParsePoolOptions) {
    if (!Number.isInteger(opts.timeoutMs) || opts.timeoutMs < 1) throw new RangeError(`parse time limit must be a positive integer, got ${opts.timeoutMs}`);
    this.timeoutMs = opts.timeoutMs;
    const threads = opts.threads ?? defaultParseThreads(availableParallelism());
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`parse threads must be a positive integer, got ${threads}`);
    this.size = threads;
    this.pool = new Piscina({
      filename: (opts.threadModule ?? new URL('./parse-thread.mjs', import.meta.url)).href,
      minThreads: threads,
      maxThreads: threads,
      // One mail per thread, so ending a thread ends only the mail that ran away.
      concurrentTasksPerWorker: 1,
      // A thread's event loop runs between mails (piscina's default blocks it until the next
      // task), so it can collect after a large mail once the result is sent (`runParseTask`).
      atomics: 'async',
      idleTimeout: 60_000,
      resourceLimits: PARSE_THREAD_HEAP,
      // The thread module brings its own loader when run from source (parse-thread.mjs); the
      // main thread's flags (a loader, heap sizes) are not for it.
      execArgv: [],
    });
  }

  /**
   * Parse and convert one mail in a thread. A mail waits for a free thread here rather than in
   * piscina's queue, live mail first: a catch-up's mails (`backlog`) take a thread only when no
   * live mail waits, so new mail never queues behind a backlog's parsing
   * (docs/ARCHITECTURE.md "Processes and the flow"), and among those the mails of the lowest
   * `order` ({@link nextOrder}) first.
   * @throws ParseLimitError past the time limit or the thread's heap; anything else the thread threw, as is.
   */
  async parse(raw: Buffer, lane: ParseLane = 'live', order = 0): Promise<ParseResult> {
    if (this.inFlight < this.size && (lane === 'live' || this.expected.size === 0)) {
      this.inFlight++;
      if (lane === 'live') this.arrived();
    } else if (lane === 'live') {
      const waiting = new Promise<void>((resolve) => this.queued.live.push(resolve));
      this.arrived();
      await waiting;
    } else {
      // After the waiting mails of the same or an earlier order, before those of a later one.
      const queue = this.queued.backlog;
      let at = queue.length;
      while (at > 0 && queue[at - 1]!.order > order) at--;
      await new Promise<void>((start) => queue.splice(at, 0, { order, start }));
    }
    try {
      return await this.run(raw);
    } finally {
      // The thread goes to the next mail waiting (the count stays), or is free; a catch-up's
      // mail waits while a live one is expected.
      const next = this.queued.live.shift() ?? (this.expected.size === 0 ? this.queued.backlog.shift()?.start : undefined);
      if (next) next();
      else this.inFlight--;
    }
  }

  /**
   * A live mail will ask for a thread in a moment (its try is being counted): until it asks, or
   * the returned release is called (it ended without a parse), or `holdMs` passed, no catch-up
   * mail takes a thread that frees, so the live mail waits at most for the parse under way when
   * it came (docs/ARCHITECTURE.md "Processes and the flow"). Releasing twice does nothing.
   */
  expectLive(): () => void {
    const e: Expected = { timer: setTimeout(() => this.release(e), this.opts.holdMs ?? 1_000) };
    this.expected.add(e);
    return () => this.release(e);
  }

  /** A live mail asked for a thread (and has it, or waits first in line): the expectation it came with (the oldest) ends. */
  private arrived(): void {
    const first = this.expected.values().next();
    if (!first.done) this.release(first.value);
  }

  private release(e: Expected): void {
    clearTimeout(e.timer);
    if (!this.expected.delete(e) || this.expected.size > 0) return;
    // The catch-up's mails held back take the threads that are free.
    while (this.inFlight < this.size && this.queued.live.length === 0 && this.queued.backlog.length > 0) {
      this.inFlight++;
      this.queued.backlog.shift()!.start();
    }
  }

  /**
   * A new place in the backlog lane's line, later than every one given before: a catch-up's batch
   * takes one, so a free thread goes to the mails of the batch that started first
   * (docs/ARCHITECTURE.md "Ingest, one mail at a time").
   */
  nextOrder(): number {
    return ++this.orders;
  }

  private async run(raw: Buffer): Promise<ParseResult> {
    const { port1, port2 } = new MessageChannel();
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // The clock starts when a thread takes the mail, so waiting behind other mails (or for a
    // thread to start) never counts against it.
    port1.once('message', () => {
      timer = setTimeout(() => abort.abort(), this.timeoutMs);
    });
    try {
      // piscina derives its TransferList type from MessagePort.postMessage's last overload, which
      // current @types/node makes an options object: the list itself is what Node takes.
      // The source is not in the list: the main thread still needs it. A source in shared memory
      // (ingest reads a large one so) reaches the thread without a copy; files come back moved.
      const transferList = [port2] as never;
      const result = await this.pool.run({ raw, settings: this.opts.settings, started: port2 }, { signal: abort.signal, transferList });
      return result.ok ? { ...result, files: result.files.map((f) => ({ ...f, content: asBuffer(f.content) })) } : result;
    } catch (err) {
      if (abort.signal.aborted) {
        throw new ParseLimitError('parse_timeout', `parsing and converting the mail took longer than ${this.timeoutMs} ms (BLEND_PARSE_TIMEOUT_MS); its thread was stopped`);
      }
      if ((err as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
        throw new ParseLimitError('parse_memory', `parsing the mail exceeded a parse thread's heap (${PARSE_THREAD_HEAP.maxOldGenerationSizeMb} MiB); its thread was stopped`);
      }
      throw err;
    } finally {
      clearTimeout(timer);
      port1.close();
    }
  }

  /** Start the threads and load their modules, so the first mails do not wait for that. */
  async warm(): Promise<void> {
    const tiny = Buffer.from('From: warm@blend.invalid\r\nSubject: warm\r\n\r\nwarm\r\n');
    await Promise.all(Array.from({ length: this.pool.maxThreads }, () => this.parse(tiny)));
  }

  /** Threads alive now (for tests and health). */
  get threads(): number {
    return this.pool.threads.length;
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

/** A file's bytes come back from a thread as a Uint8Array; the rest of ingest expects a Buffer. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
