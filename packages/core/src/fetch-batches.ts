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
