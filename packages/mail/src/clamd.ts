import { connect, type Socket } from 'node:net';

/** What a virus scanner says about one file. */
export type ScanVerdict = { clean: true } | { clean: false; signature: string };

/** Scans one file; throws when the scanner cannot answer (the mail is then retried, never published unscanned). */
export type FileScanner = (content: Buffer) => Promise<ScanVerdict>;

/** The scanner could not be reached or gave no usable answer: a transient failure. */
export class ScannerUnavailableError extends Error {
  readonly code = 'SCANNER_UNAVAILABLE';
  constructor(message: string) {
    super(message);
    this.name = 'ScannerUnavailableError';
  }
}

/** Reads `clamd: STREAM` replies: `stream: OK`, `stream: <name> FOUND`, anything else is an error. */
export function readClamdReply(reply: string): ScanVerdict | null {
  const text = reply.replace(/\0+$/, '').trim();
  if (/^(?:stream|\d+): OK$/.test(text)) return { clean: true };
  const found = /^(?:stream|\d+): (.+) FOUND$/.exec(text);
  return found ? { clean: false, signature: found[1]!.slice(0, 200) } : null;
}

/**
 * A scanner talking to ClamAV's `clamd` over its socket (`unix:/run/clamav/clamd.ctl` or
 * `tcp://127.0.0.1:3310`, BLEND_CLAMD_URL) with the INSTREAM command: the file goes in chunks
 * of at most 64 KiB, each with its length, and a zero length ends it (clamd(8)). One
 * connection per file; `timeoutMs` bounds the whole exchange.
 */
export function clamdScanner(url: string, timeoutMs = 30_000): FileScanner {
  const target = new URL(url);
  return (content) =>
    new Promise<ScanVerdict>((resolve, reject) => {
      const socket: Socket =
        target.protocol === 'unix:' ? connect({ path: target.pathname }) : connect({ host: target.hostname, port: Number(target.port || 3310) });
      let reply = '';
      const fail = (why: string) => {
        socket.destroy();
        reject(new ScannerUnavailableError(`virus scanner ${target.protocol === 'unix:' ? target.pathname : target.host}: ${why}`));
      };
      socket.setTimeout(timeoutMs, () => fail(`no answer within ${timeoutMs} ms`));
      socket.on('error', (err) => fail(err.message));
      socket.on('data', (d) => (reply += d.toString('latin1')));
      socket.on('end', () => {
        const verdict = readClamdReply(reply);
        if (verdict) resolve(verdict);
        else fail(`unexpected answer ${JSON.stringify(reply.slice(0, 200))}`);
      });
      socket.on('connect', () => {
        socket.write('zINSTREAM\0');
        for (let i = 0; i < content.length; i += 65_536) {
          const chunk = content.subarray(i, i + 65_536);
          const size = Buffer.alloc(4);
          size.writeUInt32BE(chunk.length);
          socket.write(size);
          socket.write(chunk);
        }
        socket.write(Buffer.alloc(4));
      });
    });
}
