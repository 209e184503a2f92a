import pg from 'pg';

/** The channel migration 0013's triggers notify on every change to what a feed page shows. */
export const FEED_CHANNEL = 'blend_feed';

export interface FeedChangeHandlers {
  /** Something a feed page shows changed (sent when the writing transaction committed). */
  onChange(): void;
  /**
   * Whether changes are being heard: true once LISTEN is in place, false when the connection is
   * lost (changes made meanwhile are not heard, so a cache must not be trusted until true again).
   */
  onListening(listening: boolean): void;
  onError?(err: Error): void;
}

export interface FeedChangeListener {
  stop(): Promise<void>;
}

/**
 * Listen on {@link FEED_CHANNEL} with a connection of its own, reconnecting (1 s, doubling up to
 * 30 s) whenever it is lost.
 */
export function listenForFeedChanges(url: string, h: FeedChangeHandlers, opts: { retryMs?: number; maxRetryMs?: number } = {}): FeedChangeListener {
  const first = opts.retryMs ?? 1_000;
  const most = opts.maxRetryMs ?? 30_000;
  let delay = first;
  let stopped = false;
  let client: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;

  const lost = (c: pg.Client, err?: Error) => {
    if (client !== c) return; // already handled (error then end)
    client = undefined;
    h.onListening(false);
    if (err) h.onError?.(err);
    c.removeAllListeners('notification');
    void c.end().catch(() => undefined);
    if (stopped) return;
    timer = setTimeout(connect, delay);
    delay = Math.min(delay * 2, most);
  };

  async function connect(): Promise<void> {
    timer = undefined;
    if (stopped) return;
    const c = new pg.Client({ connectionString: url, keepAlive: true, application_name: 'blend-feed-listener', connectionTimeoutMillis: 5_000 });
    client = c;
    c.on('error', (err) => lost(c, err));
    c.on('end', () => lost(c));
    c.on('notification', (n) => {
      if (n.channel === FEED_CHANNEL) h.onChange();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${FEED_CHANNEL}`);
    } catch (err) {
      lost(c, err as Error);
      return;
    }
    if (client !== c || stopped) return;
    delay = first;
    h.onListening(true);
  }

  void connect();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = undefined;
      if (c) {
        h.onListening(false);
        c.removeAllListeners();
        c.on('error', () => undefined);
        await c.end().catch(() => undefined);
      }
    },
  };
}
