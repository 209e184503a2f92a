/**
 * The two baselines of `pnpm bench`: (a) a bare imapflow FETCH of every full source and
 * (b) bare mailparser over those sources, sequentially on this one core.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { parseMail } from '@blend/mail';
import { withImap } from '../../test/support/mail-server';

// mailparser is a dependency of @blend/mail, not of the workspace root: load that copy, the
// very one Blend's parseMail uses, so (b) and Blend parse with the same code.
const requireFromMail = createRequire(new URL('../../packages/mail/package.json', import.meta.url));
const { simpleParser } = requireFromMail('mailparser') as {
  simpleParser: (source: Buffer, options?: Record<string, unknown>) => Promise<unknown>;
};

export interface FetchResult {
  sources: Buffer[];
  bytes: number;
  /** Connect + LOGIN + SELECT + FETCH 1:* (BODY.PEEK[]) + LOGOUT. */
  seconds: number;
  /** The FETCH alone. */
  fetchSeconds: number;
}

/** (a) A fresh connection fetching `1:*` with the full source of each message. */
export async function measureFetch(imapUrl: string): Promise<FetchResult> {
  const started = performance.now();
  let fetchSeconds = 0;
  const sources = await withImap(imapUrl, async (client, target) => {
    const lock = await client.getMailboxLock(target.mailbox, { readOnly: true });
    try {
      const out: Buffer[] = [];
      const t = performance.now();
      for await (const msg of client.fetch('1:*', { source: true })) {
        if (msg.source) out.push(msg.source);
      }
      fetchSeconds = (performance.now() - t) / 1000;
      return out;
    } finally {
      lock.release();
    }
  });
  return {
    sources,
    bytes: sources.reduce((n, s) => n + s.length, 0),
    seconds: (performance.now() - started) / 1000,
    fetchSeconds,
  };
}

export type ParserName = 'simpleParser (defaults)' | 'parseMail (Blend options)';

/**
 * (b) Parse every source one after the other in this process. `simpleParser(source)` with
 * default options is the baseline; `parseMail` is what Blend's worker runs (limits check
 * and mailparser without text-to-HTML and linkification, plus header normalisation).
 */
export async function measureParse(sources: Buffer[], parser: ParserName): Promise<number> {
  const parse = parser === 'parseMail (Blend options)' ? (s: Buffer) => parseMail(s) : (s: Buffer) => simpleParser(s);
  const started = performance.now();
  for (const s of sources) await parse(s);
  return (performance.now() - started) / 1000;
}

/** Median of `rounds` runs of `fn`, which returns seconds; all runs are returned too. */
export async function medianOf(rounds: number, fn: () => Promise<number>): Promise<{ median: number; runs: number[] }> {
  const runs: number[] = [];
  for (let i = 0; i < rounds; i++) runs.push(await fn());
  const sorted = [...runs].sort((a, b) => a - b);
  return { median: sorted[Math.floor((sorted.length - 1) / 2)]!, runs };
}
