/**
 * Splits the messages of one mailbox sync into fetch batches bounded by count and by bytes,
 * in order. A batch is downloaded, held in memory and written to Postgres in one statement,
 * so a count alone lets fifty 24 MB mails make one 1.2 GB batch: more than the poller's
 * memory and than Postgres accepts in one message (docs/SECURITY.md B2). A message larger
 * than the byte budget on its own still goes, alone in its batch; one that is not downloaded
 * (`downloads` false, e.g. over BLEND_MAX_MESSAGE_BYTES) costs nothing.
 */
export function fetchBatches<T extends { size: number }>(
  items: readonly T[],
  limits: { count: number; bytes: number },
  downloads: (item: T) => boolean = () => true,
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const cost = downloads(item) ? Math.max(0, item.size) : 0;
    if (current.length > 0 && (current.length >= limits.count || bytes + cost > limits.bytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += cost;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** What the ENVELOPE says of a mail: its Message-ID and the one it answers (both normalised). */
export interface EnvelopeIds {
  uid: number;
  messageId: string | null;
  inReplyTo: string | null;
}

/**
 * Which mails that arrived during a catch-up may be stored ahead of it, in UID order: all but
 * a reply (by its ENVELOPE In-Reply-To) to a mail the catch-up has not stored yet, or to a mail
 * held back itself. A held-back mail waits for the catch-up, so it is stored after its parent,
 * and the worker's wait for a stored parent keeps the order from there
 * (docs/ARCHITECTURE.md "Processes and the flow").
 */
export function arrivalsAhead<T extends EnvelopeIds>(arrivals: readonly T[], waiting: ReadonlySet<string>): T[] {
  const pending = new Set(waiting);
  const ahead: T[] = [];
  for (const m of [...arrivals].sort((a, b) => a.uid - b.uid)) {
    if (m.inReplyTo !== null && pending.has(m.inReplyTo)) {
      if (m.messageId !== null) pending.add(m.messageId);
    } else {
      ahead.push(m);
    }
  }
  return ahead;
}
