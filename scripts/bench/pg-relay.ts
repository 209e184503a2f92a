/**
 * A counting relay between one of Blend's services and Postgres (`BENCH_PG_RELAY=1`), the other
 * way the ingest benchmark can say how many transactions each service commits besides counting
 * inside the service (pg-count-preload.ts): the service's DATABASE_URL points at the relay,
 * which passes the bytes through unchanged both ways and reads the server's side of the
 * protocol (PostgreSQL frontend/backend protocol v3). It sees the wire whatever client a
 * service uses, but every statement crosses the benchmark process twice.
 */
import net from 'node:net';
import { messageOfBytes, TxState, zeroCounts, type PgCounts } from './pg-tx';

export type { TxCounts } from './pg-tx';

/**
 * Counts the transactions in the server → client bytes of one connection: splits them into
 * messages (a type byte, a 4-byte length, the body) for a {@link TxState}.
 */
export class TxCounter {
  private pending: Buffer = Buffer.alloc(0);
  private readonly state: TxState;
  /** Bytes to pass over before the first message (the one-byte answer to an SSLRequest). */
  skip = 0;
  /** The stream cannot be read (TLS was agreed): nothing more is counted. */
  opaque = false;

  constructor(readonly counts: PgCounts) {
    this.state = new TxState(counts);
  }

  push(chunk: Buffer): void {
    if (this.opaque) return;
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    if (this.skip > 0 && buf.length > 0) {
      // 'S': the server agreed to TLS, and the rest is encrypted.
      if (buf[0] === 0x53) {
        this.opaque = true;
        return;
      }
      buf = buf.subarray(1);
      this.skip = 0;
    }
    let at = 0;
    while (buf.length - at >= 5) {
      const length = buf.readUInt32BE(at + 1);
      if (buf.length - at < 1 + length) break;
      this.state.message(messageOfBytes(buf[at]!, buf.subarray(at + 5, at + 1 + length)));
      at += 1 + length;
    }
    this.pending = Buffer.from(buf.subarray(at));
  }
}

/** SSLRequest and GSSENCRequest: a length of 8 and these codes, answered by one byte. */
const ENCRYPTION_REQUESTS = new Set([80877103, 80877104]);

export interface PgRelay {
  /** The relay's port on 127.0.0.1. */
  port: number;
  counts: PgCounts;
  /** The local ports of the relay's open connections to Postgres (pg_stat_activity.client_port). */
  upstreamPorts(): Set<number>;
  stop(): Promise<void>;
}

/** Start a relay on a free port of 127.0.0.1 to Postgres at `host`:`port`. */
export async function startPgRelay(host: string, port: number): Promise<PgRelay> {
  const counts = zeroCounts();
  const sockets = new Set<net.Socket>();
  const ports = new Set<number>();
  const server = net.createServer((client) => {
    counts.connections++;
    const counter = new TxCounter(counts);
    const upstream = net.connect({ host, port });
    // Small messages both ways: no Nagle delay on either leg, as on a direct connection.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    sockets.add(client);
    sockets.add(upstream);
    let localPort: number | undefined;
    upstream.once('connect', () => {
      localPort = upstream.localPort;
      if (localPort) ports.add(localPort);
    });
    const close = () => {
      if (localPort) ports.delete(localPort);
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.once('data', (first: Buffer) => {
      if (first.length >= 8 && first.readUInt32BE(0) === 8 && ENCRYPTION_REQUESTS.has(first.readUInt32BE(4))) counter.skip = 1;
    });
    upstream.on('data', (chunk: Buffer) => counter.push(chunk));
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    counts,
    upstreamPorts: () => ports,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
