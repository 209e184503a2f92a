import type { Logger } from '@blend/runtime';
import { endedStreamCredentials, streamEventsAfter, streamVisibility, latestEventPosition, type Database, type StreamEvent } from '@blend/db';

/**
 * The live stream's fan-out (docs/ARCHITECTURE.md "Live updates"): one reader of the events
 * outbox per API process. On a change (the feed's NOTIFY, or a slow poll while anyone listens)
 * it reads the events placed after the last position it saw, asks once per batch which of the
 * connected readers may see which event (docs/SECURITY.md B41: filtered per reader), and
 * writes each reader only theirs.
 */

export interface StreamClient {
  personId: string;
  /** The credential it came with: a bearer token's id, else the web session's (checked again while open). */
  credential?: { tokenId: string } | { sessionId: string };
  /** The last position written to this reader (set by the hub). */
  cursor?: number;
  /** Frames held while the reader's missed events are replayed (set by the hub). */
  held?: Array<{ position: number; frame: string }> | null;
  /** Writes one SSE frame; returns false when the connection is gone. */
  send(frame: string): boolean;
  close(): void;
}

export class StreamLimitError extends Error {
  constructor(readonly scope: 'total' | 'person') {
    super(scope === 'total' ? 'too many live connections on this server; try again later' : 'too many live connections for this person; close another tab first');
    this.name = 'StreamLimitError';
  }
}

/** How many connections one person may hold (tabs, devices). */
export const STREAM_PER_PERSON = 10;
export const STREAM_HEARTBEAT_MS = 25_000;

/** One SSE frame for an event: its id lets a reconnecting browser resume with Last-Event-ID. */
export const sseFrame = (e: StreamEvent): string => `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e.payload)}\n\n`;

export class StreamHub {
  private readonly clients = new Set<StreamClient>();
  private readonly perPerson = new Map<string, number>();
  private last: number | null = null;
  private running = false;
  private again = false;
  private poll: NodeJS.Timeout | undefined;
  private beat: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: { db: Database; log: Logger },
    private readonly opts: { maxConnections: number; perPerson?: number; pollMs?: number; heartbeatMs?: number },
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** Take a connection, or throw {@link StreamLimitError} over a cap. Returns its removal. */
  add(c: StreamClient): () => void {
    if (this.clients.size >= this.opts.maxConnections) throw new StreamLimitError('total');
    const mine = this.perPerson.get(c.personId) ?? 0;
    if (mine >= (this.opts.perPerson ?? STREAM_PER_PERSON)) throw new StreamLimitError('person');
    this.clients.add(c);
    this.perPerson.set(c.personId, mine + 1);
    this.timers();
    let gone = false;
    return () => {
      if (gone) return;
      gone = true;
      this.clients.delete(c);
      const n = (this.perPerson.get(c.personId) ?? 1) - 1;
      if (n <= 0) this.perPerson.delete(c.personId);
      else this.perPerson.set(c.personId, n);
      this.timers();
    };
  }

  private write(c: StreamClient, position: number, frame: string): void {
    if (c.held) c.held.push({ position, frame });
    else if (position > (c.cursor ?? 0)) {
      c.cursor = position;
      c.send(frame);
    }
  }

  /**
   * Bring a reader that resumes (`Last-Event-ID`) up to date: what it may see after `from`, up
   * to where the hub is, while newer frames wait; then those in order, none twice.
   */
  async resume(c: StreamClient, from: number): Promise<void> {
    c.held = [];
    c.cursor = from;
    try {
      const upTo = await this.position();
      let after = from;
      while (after < upTo) {
        const batch = (await streamEventsAfter(this.deps.db, after, 500)).filter((e) => e.position <= upTo);
        if (batch.length === 0) break;
        after = batch[batch.length - 1]!.position;
        const ok = new Set((await streamVisibility(this.deps.db, batch.map((e) => e.id), [c.personId])).map((p) => p.eventId));
        for (const e of batch) if (ok.has(e.id) && e.position > c.cursor) {
          c.cursor = e.position;
          c.send(sseFrame(e));
        }
        if (batch.length < 500) break;
      }
    } finally {
      const held = c.held;
      c.held = null;
      for (const h of held) this.write(c, h.position, h.frame);
    }
  }

  /** Where a new reader without Last-Event-ID starts: the hub's own position, or the latest. */
  async position(): Promise<number> {
    if (this.last === null) this.last = await latestEventPosition(this.deps.db);
    return this.last;
  }

  /** Something changed: read and fan out (coalescing calls made while a read runs). */
  changed(): void {
    if (this.clients.size === 0) {
      this.last = null; // nobody listens: the next reader starts from the latest
      return;
    }
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.drain()
      .catch((err: Error) => this.deps.log.warn({ err: { message: err.message } }, 'live stream read failed'))
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.changed();
        }
      });
  }

  private async drain(): Promise<void> {
    if (this.last === null) this.last = await latestEventPosition(this.deps.db);
    for (;;) {
      const batch = await streamEventsAfter(this.deps.db, this.last, 500);
      if (batch.length === 0) return;
      this.last = batch[batch.length - 1]!.position;
      const readers = [...this.clients];
      const pairs = await streamVisibility(this.deps.db, batch.map((e) => e.id), [...new Set(readers.map((c) => c.personId))]);
      const seen = new Set(pairs.map((p) => `${p.eventId} ${p.viewer}`));
      for (const e of batch) {
        const frame = sseFrame(e);
        for (const c of readers) if (seen.has(`${e.id} ${c.personId}`)) this.write(c, e.position, frame);
      }
      if (batch.length < 500) return;
    }
  }

  private timers(): void {
    const on = this.clients.size > 0;
    if (on && !this.poll) {
      this.poll = setInterval(() => {
        this.changed();
        void this.recheck().catch((err: Error) => this.deps.log.warn({ err: { message: err.message } }, 'live stream credential check failed'));
      }, this.opts.pollMs ?? 5_000);
      this.beat = setInterval(() => {
        for (const c of this.clients) c.send(': keep-alive\n\n');
      }, this.opts.heartbeatMs ?? STREAM_HEARTBEAT_MS);
      this.poll.unref();
      this.beat.unref();
    } else if (!on && this.poll) {
      clearInterval(this.poll);
      clearInterval(this.beat);
      this.poll = undefined;
      this.beat = undefined;
    }
  }

  /** Close the streams whose token was revoked or expired, or whose web session ended (docs/SECURITY.md B41). */
  async recheck(): Promise<number> {
    const tokenIds = new Set<string>();
    const sessionIds = new Set<string>();
    for (const c of this.clients) {
      if (c.credential && 'tokenId' in c.credential) tokenIds.add(c.credential.tokenId);
      else if (c.credential) sessionIds.add(c.credential.sessionId);
    }
    if (tokenIds.size + sessionIds.size === 0) return 0;
    const ended = await endedStreamCredentials(this.deps.db, { tokenIds: [...tokenIds], sessionIds: [...sessionIds] });
    let n = 0;
    for (const c of [...this.clients]) {
      const id = c.credential ? ('tokenId' in c.credential ? c.credential.tokenId : c.credential.sessionId) : undefined;
      if (id && ended.has(id)) {
        c.close();
        n++;
      }
    }
    return n;
  }

  /** Close every connection (server shutdown). */
  close(): void {
    for (const c of [...this.clients]) c.close();
    this.clients.clear();
    this.perPerson.clear();
    this.timers();
  }
}
