/**
 * Transactions on one Postgres connection, from the messages the server sends on it
 * (PostgreSQL frontend/backend protocol v3). Both ways the ingest benchmark counts a service's
 * transactions use it: inside the service, on the messages its `pg` client reads
 * (pg-count-preload.ts), or in a relay between the service and Postgres, on the bytes
 * (pg-relay.ts). Postgres itself counts per database only (pg_stat_database), not per client.
 */

export interface TxCounts {
  /** Transactions committed: each COMMIT of a block, and each statement run outside one. */
  commits: number;
  /** Transactions rolled back (a ROLLBACK, a failed block's COMMIT, a failed statement). */
  rollbacks: number;
  /** Connections counted. */
  connections: number;
}

/** {@link TxCounts} and the statements the server completed (CommandComplete; BEGIN and COMMIT included). */
export interface PgCounts extends TxCounts {
  statements: number;
}

export const zeroCounts = (): PgCounts => ({ commits: 0, rollbacks: 0, connections: 0, statements: 0 });

/**
 * What a server message means for the transaction state:
 * - `complete`: CommandComplete, with its tag (`COMMIT`, `INSERT 0 1`…)
 * - `error`: ErrorResponse
 * - `ready`: ReadyForQuery, with the transaction status (I idle, T in a block, E in a failed block)
 * - `answer`: any other answer to a command (ParseComplete, BindComplete, RowDescription,
 *   DataRow, PortalSuspended, CloseComplete…): the server started a transaction for it, even
 *   when no CommandComplete follows (a statement parsed only, a portal read in part)
 * - `outside`: no answer to a command (authentication, backend key, parameter status, notices,
 *   notifications)
 */
export type TxMessage =
  | { kind: 'complete'; tag: string }
  | { kind: 'error' }
  | { kind: 'ready'; status: string }
  | { kind: 'answer' }
  | { kind: 'outside' };

const ERROR: TxMessage = { kind: 'error' };
const ANSWER: TxMessage = { kind: 'answer' };
const OUTSIDE: TxMessage = { kind: 'outside' };

/** Message type bytes that are no answer to a command: R, K, S, v, N, A (ReadyForQuery apart). */
const OUTSIDE_TYPES = new Set(['R', 'K', 'S', 'v', 'N', 'A']);

/** A message by its type byte and body, as it comes over the wire. */
export function messageOfBytes(type: number, body: Buffer): TxMessage {
  const t = String.fromCharCode(type);
  switch (t) {
    case 'C':
      return { kind: 'complete', tag: body.toString('latin1', 0, Math.max(0, body.indexOf(0))) };
    case 'E':
      return ERROR;
    case 'Z':
      return { kind: 'ready', status: String.fromCharCode(body[0] ?? 0x49) };
    default:
      return OUTSIDE_TYPES.has(t) ? OUTSIDE : ANSWER;
  }
}

/** The fields of a message as the `pg` package's connection emits it (pg-protocol's parser). */
export interface PgMessage {
  name: string;
  /** CommandComplete's tag. */
  text?: string;
  /** ReadyForQuery's transaction status. */
  status?: string;
}

/**
 * A message as pg-protocol names it. Its parser names a type byte it does not know `error`
 * (and pg then fails the connection).
 */
export function messageOfPg(m: PgMessage): TxMessage {
  switch (m.name) {
    case 'commandComplete':
      return { kind: 'complete', tag: m.text ?? '' };
    case 'error':
      return ERROR;
    case 'readyForQuery':
      return { kind: 'ready', status: m.status ?? 'I' };
    case 'parameterStatus':
    case 'backendKeyData':
    case 'notice':
    case 'notification':
      return OUTSIDE;
    default:
      return m.name.startsWith('authentication') ? OUTSIDE : ANSWER;
  }
}

/**
 * The transaction state of one connection. Each ReadyForQuery carries the transaction status: a
 * block that ends (T or E, then I) committed when its last command was COMMIT; between two idle
 * ones, the commands the server answered ran in a transaction of their own, committed unless an
 * error came.
 */
export class TxState {
  private status = 'I';
  private commands = 0;
  private failed = false;
  private lastTag = '';
  readonly counts: PgCounts;

  constructor(counts: PgCounts) {
    this.counts = counts;
  }

  message(m: TxMessage): void {
    switch (m.kind) {
      case 'complete':
        this.commands++;
        this.counts.statements++;
        this.lastTag = m.tag;
        break;
      case 'error':
        this.failed = true;
        break;
      case 'answer':
        this.commands++;
        break;
      case 'outside':
        break;
      case 'ready':
        if (m.status === 'I') {
          if (this.status !== 'I') {
            if (this.lastTag === 'COMMIT') this.counts.commits++;
            else this.counts.rollbacks++;
          } else if (this.failed) this.counts.rollbacks++;
          else if (this.commands > 0) this.counts.commits++;
        }
        this.status = m.status;
        this.commands = 0;
        this.failed = false;
        break;
    }
  }
}

/** Add `b` into `a`. */
export function addCounts(a: PgCounts, b: PgCounts): PgCounts {
  a.commits += b.commits;
  a.rollbacks += b.rollbacks;
  a.connections += b.connections;
  a.statements += b.statements;
  return a;
}
