import { ensureGroup, upsertPerson, type Database } from '@blend/db';
import { ingest, ingestBatch, type IngestDeps, type IngestOutcome } from '@blend/worker';
import { benchPeople, CorpusGenerator } from './corpus';

/** The people of the benchmark's corpus, opted in, the default group, and `count` of its mails (seeded, so every run gets the same ones). */
export async function seedBenchCorpus(db: Database, seed: number, count: number) {
  const people = benchPeople(seed);
  await ensureGroup(db, 'general');
  for (const p of people) await upsertPerson(db, { email: p.email, name: p.name, optIn: true });
  const corpus = new CorpusGenerator({ seed, people, bridgeAddress: 'status@example.test' });
  const mails = [];
  for (let i = 0; i < count; i++) mails.push(await corpus.next({ deliveredTo: true }));
  return mails;
}

/**
 * Ingest stored rows in order, as the worker's jobs would: one job each (`batch` 1), or `batch`
 * rows per batch ingest, a mail the batch hands back going alone as its own job would.
 */
export async function ingestRows(ids: string[], deps: IngestDeps, batch: number, seen: (o: IngestOutcome) => void): Promise<void> {
  if (batch === 1) {
    for (const id of ids) seen(await ingest({ inboundId: id }, deps));
    return;
  }
  for (let i = 0; i < ids.length; i += batch) {
    const r = await ingestBatch(ids.slice(i, i + batch), deps);
    for (const o of r.outcomes) seen(o.outcome);
    for (const id of r.alone) seen(await ingest({ inboundId: id }, deps));
  }
}
