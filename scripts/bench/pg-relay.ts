/**
 * A counting relay between one of Blend's services and Postgres, so the ingest benchmark can say
 * how many transactions each service commits: the service's DATABASE_URL points at the relay,
 * which passes the bytes through unchanged both ways and reads the server's side of the
 * protocol (PostgreSQL frontend/backend protocol v3: a type byte, a 4-byte length, the body).
 * Postgres counts per database only (pg_stat_database), not per client.
 */
import net from 'node:net';

export interface TxCounts {
  /** Transactions committed: each COMMIT of a block, and each statement run outside one. */
  commits: number;
  /** Transactions rolled back (a ROLLBACK, a failed block's COMMIT, a failed statement). */
  rollbacks: number;
  /** Connections opened through the relay. */
  connections: number;
}

/**
 * Counts the transactions in the server → client bytes of one connection. Each ReadyForQuery
 * ('Z') carries the transaction status (I idle, T in a block, E in a failed block): a block that
 * ends (T or E, then I) committed when its last command was COMMIT; between two idle ones, the
 * commands the server answered ran in a transaction of their own, committed unless an error came.
 */
export class TxCounter {
  private pending: Buffer = Buffer.alloc(0);
  private status = 'I';
  private commands = 0;
  private failed = false;
  private lastTag = '';
  /** Bytes to pass over before the first message (the one-byte answer to an SSLRequest). */
  skip = 0;
  /** The stream cannot be read (TLS was agreed): nothing more is counted. */
  opaque = false;

  constructor(readonly counts: TxCounts) {}

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
      this.message(buf[at]!, buf.subarray(at + 5, at + 1 + length));
      at += 1 + length;
    }
    this.pending = Buffer.from(buf.subarray(at));
  }

  private message(type: number, body: Buffer): void {
    const t = String.fromCharCode(type);
    switch (t) {
      case 'C':
        this.commands++;
        this.lastTag = body.toString('latin1', 0, Math.max(0, body.indexOf(0)));
        break;
      case 'E':
        this.failed = true;
        break;
      default:
        // Any answer to a command (ParseComplete, BindComplete, RowDescription, DataRow,
        // PortalSuspended, CloseComplete…) means the server started a transaction for it, even
        // when no CommandComplete follows (a statement parsed only, a portal read in part).
        if (!OUTSIDE_COMMANDS.has(t)) this.commands++;
        break;
      case 'Z': {
        const now = String.fromCharCode(body[0] ?? 0x49);
        if (now === 'I') {
          if (this.status !== 'I') {
            if (this.lastTag === 'COMMIT') this.counts.commits++;
            else this.counts.rollbacks++;
          } else if (this.failed) this.counts.rollbacks++;
          else if (this.commands > 0) this.counts.commits++;
        }
        this.status = now;
        this.commands = 0;
        this.failed = false;
        break;
      }
    }
  }
}

/**
 * Messages that are no answer to a command: authentication, backend key, parameter status,
 * protocol negotiation, notices and notifications (and ReadyForQuery itself).
 */
const OUTSIDE_COMMANDS = new Set(['R', 'K', 'S', 'v', 'N', 'A', 'Z']);

/** SSLRequest and GSSENCRequest: a length of 8 and these codes, answered by one byte. */
const ENCRYPTION_REQUESTS = new Set([80877103, 80877104]);

export interface PgRelay {
  /** The relay's port on 127.0.0.1. */
  port: number;
  counts: TxCounts;
  /** The local ports of the relay's open connections to Postgres (pg_stat_activity.client_port). */
  upstreamPorts(): Set<number>;
  stop(): Promise<void>;
}

/** Start a relay on a free port of 127.0.0.1 to Postgres at `host`:`port`. */
export async function startPgRelay(host: string, port: number): Promise<PgRelay> {
  const counts: TxCounts = { commits: 0, rollbacks: 0, connections: 0 };
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
