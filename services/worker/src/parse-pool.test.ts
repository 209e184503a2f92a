import { afterEach, describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { defaultParseThreads, ParseLimitError, ParsePool } from './parse-pool';
import { COLLECT_AFTER_BYTES } from './parse-task';

// The real thread module, with a test-only mail that never finishes (test/support/runaway-parse-thread.mjs).
const threadModule = new URL('../../../test/support/runaway-parse-thread.mjs', import.meta.url);
const mail = (extra = '') => Buffer.from(`From: alice@corp.test\r\nTo: status@bridge.test\r\nSubject: Numbers\r\nMessage-ID: <n1@corp.test>\r\n${extra}\r\nThey are in. Card 4111 1111 1111 1111.\r\n`);

let pool: ParsePool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe('defaultParseThreads', () => {
  it.each([
    [1, 1],
    [2, 1],
    [4, 3],
    [16, 15],
    [0, 1],
  ])('%i cores: %i threads', (cores, threads) => expect(defaultParseThreads(cores)).toBe(threads));
});

describe('ParsePool', () => {
  it('without BLEND_PARSE_THREADS runs one thread fewer than the cores, at least one', async () => {
    pool = new ParsePool({ settings: { redact: '' }, timeoutMs: 30_000, threadModule });
    await pool.warm();
    expect(pool.threads).toBe(Math.max(1, availableParallelism() - 1));
  }, 60_000);

  it('parses and converts in a thread: the same result as in process, files as Buffers', async () => {
    pool = new ParsePool({ settings: { redact: 'card' }, timeoutMs: 30_000, threads: 1, threadModule });
    const raw = Buffer.from(
      'From: alice@corp.test\r\nSubject: Plan\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee the plan.\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=plan.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n',
    );
    const r = await pool.parse(raw);
    if (!r.ok) throw new Error(`not parsed: ${r.message}`);
    expect(r.content.bodyText).toBe('See the plan.');
    expect(r.files).toHaveLength(1);
    expect(Buffer.isBuffer(r.files[0]!.content)).toBe(true);
    expect(r.files[0]!.content.toString()).toBe('%PDF-1.4\n');
  });

  it('runs as many threads as it is given (BLEND_PARSE_THREADS), and refuses none', async () => {
    pool = new ParsePool({ settings: { redact: '' }, timeoutMs: 30_000, threads: 3, threadModule });
    await pool.warm();
    expect(pool.threads).toBe(3);
    const results = await Promise.all([1, 2, 3, 4].map((i) => pool!.parse(mail(`X-N: ${i}\r\n`))));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(pool.threads).toBe(3);
    expect(() => new ParsePool({ settings: { redact: '' }, timeoutMs: 30_000, threads: 0, threadModule })).toThrow(RangeError);
  }, 60_000);

  it('a mail the parser refuses is a result with its code, not a thrown error', async () => {
    pool = new ParsePool({ settings: { redact: '', mimeLimits: { maxHeaderBytes: 64, maxParts: 500, maxMultiparts: 32, maxHtmlChars: 1000 } }, timeoutMs: 30_000, threads: 1, threadModule });
    expect(await pool.parse(mail())).toMatchObject({ ok: false, code: 'MIME_LIMITS' });
  });

  it('a mail of COLLECT_AFTER_BYTES or more is parsed, its thread collects after it, and the next mail goes through that thread', async () => {
    pool = new ParsePool({ settings: { redact: '' }, timeoutMs: 30_000, threads: 1, threadModule });
    const content = Buffer.alloc(COLLECT_AFTER_BYTES, 7);
    const raw = Buffer.from(
      `From: alice@corp.test\r\nSubject: Figures\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nThe figures.\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=figures.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n${content.toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n--b--\r\n`,
    );
    const big = await pool.parse(raw);
    if (!big.ok) throw new Error(`not parsed: ${big.message}`);
    expect(big.files[0]!.content.equals(content)).toBe(true);
    // The same source in shared memory (as ingest reads a large one): the thread reads it in place.
    const shared = Buffer.from(new SharedArrayBuffer(raw.length));
    raw.copy(shared);
    const again = await pool.parse(shared);
    if (!again.ok) throw new Error(`not parsed: ${again.message}`);
    expect(again.files[0]!.content.equals(content)).toBe(true);
    expect(shared.equals(raw)).toBe(true);
    expect(await pool.parse(mail())).toMatchObject({ ok: true, content: { bodyText: 'They are in. Card 4111 1111 1111 1111.' } });
    expect(pool.threads).toBe(1);
    // The flag that gives the thread its `gc` does not put one in this thread's global.
    expect('gc' in globalThis).toBe(false);
  }, 30_000);

  it('a runaway mail is stopped at the time limit with parse_timeout; the pool goes on with the next mail', async () => {
    pool = new ParsePool({ settings: { redact: 'card' }, timeoutMs: 2_000, threads: 1, threadModule });
    await pool.warm();
    const err = await pool.parse(mail('X-Test-Runaway: spin\r\n')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ParseLimitError);
    expect(err).toMatchObject({ reason: 'parse_timeout' });
    // Its thread was ended and replaced: the next mail, in the only thread, goes through.
    const next = await pool.parse(mail());
    expect(next).toMatchObject({ ok: true, content: { bodyText: 'They are in. Card [redacted card].' } });
  }, 30_000);

  it('the limit counts from when a thread takes the mail, not while it waits for one', async () => {
    pool = new ParsePool({ settings: { redact: '' }, timeoutMs: 2_000, threads: 1, threadModule });
    await pool.warm();
    // The second mail waits behind the first's whole time limit; waiting does not use its own.
    const [first, second] = await Promise.allSettled([pool.parse(mail('X-Test-Runaway: spin\r\n')), pool.parse(mail())]);
    expect(first).toMatchObject({ status: 'rejected', reason: { reason: 'parse_timeout' } });
    expect(second).toMatchObject({ status: 'fulfilled', value: { ok: true } });
  }, 30_000);

  it('a mail that fills its thread heap fails with parse_memory', async () => {
    pool = new ParsePool({ settings: { redact: '' }, timeoutMs: 60_000, threads: 1, threadModule });
    const err = await pool.parse(mail('X-Test-Runaway: memory\r\n')).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ParseLimitError', reason: 'parse_memory' });
    expect(await pool.parse(mail())).toMatchObject({ ok: true });
  }, 60_000);
  it('gives a free thread to live mail before a catch-up\'s mails that waited longer', async () => {
    pool = new ParsePool({ settings: { redact: 'card' }, timeoutMs: 2_000, threads: 1, threadModule });
    await pool.warm();
    const done: string[] = [];
    const track = (name: string, p: Promise<unknown>) => p.then(() => done.push(name), () => done.push(name));
    // The runaway mail holds the only thread until its time limit; the others wait meanwhile.
    const all = [
      track('runaway', pool.parse(mail('X-Test-Runaway: spin\r\n'), 'backlog')),
      track('backlog 1', pool.parse(mail(), 'backlog')),
      track('backlog 2', pool.parse(mail(), 'backlog')),
      track('live', pool.parse(mail())),
    ];
    await Promise.all(all);
    expect(done).toEqual(['runaway', 'live', 'backlog 1', 'backlog 2']);
  }, 20_000);

  it('gives a free thread to the catch-up batch that took its order first, whichever of its mails asked later', async () => {
    pool = new ParsePool({ settings: { redact: 'card' }, timeoutMs: 2_000, threads: 1, threadModule });
    await pool.warm();
    const first = pool.nextOrder();
    const second = pool.nextOrder();
    expect(second).toBeGreaterThan(first);
    const done: string[] = [];
    const track = (name: string, p: Promise<unknown>) => p.then(() => done.push(name), () => done.push(name));
    // The runaway mail holds the only thread; the two batches' mails ask in turns meanwhile.
    const all = [
      track('runaway', pool.parse(mail('X-Test-Runaway: spin\r\n'), 'backlog', first)),
      track('second a', pool.parse(mail(), 'backlog', second)),
      track('first a', pool.parse(mail(), 'backlog', first)),
      track('second b', pool.parse(mail(), 'backlog', second)),
      track('first b', pool.parse(mail(), 'backlog', first)),
      track('live', pool.parse(mail())),
    ];
    await Promise.all(all);
    expect(done).toEqual(['runaway', 'live', 'first a', 'first b', 'second a', 'second b']);
  }, 20_000);

  describe('expectLive: a live mail counting its try', () => {
    // The runaway mail holds the only thread until its time limit; a catch-up mail waits behind it.
    const setup = async (holdMs?: number) => {
      pool = new ParsePool({ settings: { redact: '' }, timeoutMs: 1_000, threads: 1, threadModule, ...(holdMs ? { holdMs } : {}) });
      await pool.warm();
      const done: string[] = [];
      const track = (name: string, p: Promise<unknown>) => p.then(() => done.push(name), () => done.push(name));
      const runaway = pool.parse(mail('X-Test-Runaway: spin\r\n'), 'backlog');
      const backlog = track('backlog', pool.parse(mail(), 'backlog'));
      return { done, track, runaway, backlog };
    };

    it('keeps a freed thread from the catch-up until the live mail asks, then gives it the live mail first', async () => {
      const { done, track, runaway, backlog } = await setup(10_000);
      const expected = pool!.expectLive();
      await runaway.catch(() => done.push('runaway'));
      // The thread is free and the catch-up's mail waits: the live mail asks only now.
      const live = track('live', pool!.parse(mail()));
      await Promise.all([live, backlog]);
      expected();
      expect(done).toEqual(['runaway', 'live', 'backlog']);
    }, 20_000);

    it('without it, the catch-up mail takes the thread the live mail would have had', async () => {
      const { done, track, runaway, backlog } = await setup();
      await runaway.catch(() => done.push('runaway'));
      await Promise.all([track('live', pool!.parse(mail())), backlog]);
      expect(done).toEqual(['runaway', 'backlog', 'live']);
    }, 20_000);

    it('lets the catch-up go on when the live mail ends without a parse, or after holdMs', async () => {
      const { done, runaway, backlog } = await setup(10_000);
      const release = pool!.expectLive();
      await runaway.catch(() => done.push('runaway'));
      expect(done).toEqual(['runaway']);
      release();
      release();
      await backlog;
      expect(done).toEqual(['runaway', 'backlog']);

      await pool!.close();
      const again = await setup(300);
      pool!.expectLive();
      await again.runaway.catch(() => again.done.push('runaway'));
      // Never released: the catch-up's mail starts once the hold ran out.
      await again.backlog;
      expect(again.done).toEqual(['runaway', 'backlog']);
    }, 20_000);
  });
});
