import { createHash, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { HardkmsError, type ErrorCode } from '../../errors.js';
import { displayStoreUrl, parseStoreUrl } from './url.js';
import { WORKER_SOURCE } from './worker-source.js';
import { readEnv } from '../../config/env.js';

/**
 * A synchronous PostgreSQL client: each query is posted to a worker thread that runs it
 * with `pg` and the calling thread blocks (Atomics.wait) until the answer is back.
 *
 * Why synchronous, and not an async store interface: WalletStore's contract is
 * better-sqlite3's, and the security checks are written against it. A write transaction is
 * a synchronous callback (verify meta, check a row MAC, compute and bind new MACs, append
 * the audit record, commit) in which no other code of the process can run; the journal's
 * "claim before unwrap" and "raw tx committed before it leaves" steps, re-keying's one
 * transaction over every table, and the row-set sums all rely on that. An async store would
 * turn every one of those callbacks (journal, OTP, policy, vault, audit appends: several
 * lanes' code) into await chains where another task can interleave mid-transaction, and
 * it would give PostgreSQL a second copy of each check. The bridge keeps ONE code path:
 * the PostgreSQL store runs exactly the MAC, counter, row-set and re-keying code that the
 * file does, so a database admin's edit is detected exactly like a file edit.
 *
 * The price: the event loop waits for each round trip (about 0.1-0.5 ms on a LAN, as a
 * SQLite fsync already makes it wait), and the health server answers between queries,
 * not during one. The daemon's work per pending transaction is a handful of statements.
 */
export interface QueryResult {
  rows: Array<Record<string, unknown>>;
  rowCount: number;
  /** Which connection ran the query (changes after a reconnect). */
  generation: number;
}

interface Answer {
  id: number;
  ok: boolean;
  generation: number;
  rows?: Array<Record<string, unknown>>;
  rowCount?: number;
  error?: { message: string; code?: string; constraint?: string };
}

/** How long one statement may wait for the writer lock (SQLite's busy timeout is 15 s). */
const LOCK_TIMEOUT_MS = 15_000;
/** A round trip that takes longer than this is a database that is gone. */
const ANSWER_TIMEOUT_MS = 60_000;

export class StoreDbError extends HardkmsError {
  readonly sqlState: string | undefined;
  readonly constraint: string | undefined;
  constructor(code: ErrorCode, message: string, hint: string, sqlState?: string, constraint?: string) {
    super(code, message, { hint });
    this.sqlState = sqlState;
    this.constraint = constraint;
  }
}

/** Whether the last round trip reached the server (for /healthz; no query of its own). */
export interface ConnectionState {
  connected: boolean;
  /** Why the last round trip failed to reach the server; undefined while connected. */
  error: string | undefined;
  /** When the state last changed, ms since the epoch. */
  since: number;
}

/** The advisory lock class of the instances' liveness locks (the writer lock is a one-key lock, another space). */
const INSTANCE_LOCK_CLASS = 0x686b_6d73;

/** The (class, key) of the session lock an instance named `instanceId` holds while it is connected. */
export function instanceLockKey(instanceId: string): [number, number] {
  return [INSTANCE_LOCK_CLASS, createHash('sha256').update(instanceId, 'utf8').digest().readUInt32BE(0) & 0x7fff_ffff];
}

export class SyncPgClient {
  /** This connection's instance id: its journal claims carry it, and its session lock says it is alive. */
  readonly instanceId = randomUUID();
  private readonly worker: Worker;
  readonly state: ConnectionState = { connected: true, error: undefined, since: Date.now() };
  private readonly port: MessagePort;
  private readonly flag: Int32Array;
  private seq = 0;
  private closed = false;
  readonly display: string;

  constructor(location: string) {
    const config = parseStoreUrl(location);
    this.display = displayStoreUrl(location);
    const shared = new SharedArrayBuffer(4);
    this.flag = new Int32Array(shared);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const pgUrl = pathToFileURL(createRequire(import.meta.url).resolve('pg')).href;
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        shared,
        port: port2,
        pgUrl,
        config,
        lockTimeoutMs: LOCK_TIMEOUT_MS,
        passFile: readEnv('PGPASSFILE') ?? '',
        sessionLock: instanceLockKey(this.instanceId),
      },
      transferList: [port2],
      // The worker gets no environment: the password is read from the pgpass file at each connect.
      env: {},
    });
    this.worker.unref();
    this.port.unref();
  }

  query(sql: string, params: readonly unknown[] = []): QueryResult {
    if (this.closed) throw new StoreDbError('STORE_CLOSED', `The store ${this.display} is closed.`, 'Open it again.');
    const id = ++this.seq;
    this.port.postMessage({ id, op: 'query', sql, params: params.map(toParam) });
    let answer: Answer;
    try {
      answer = this.wait(id);
    } catch (e) {
      this.note(e as StoreDbError);
      throw e;
    }
    if (!answer.ok) {
      const f = this.failure(answer.error!);
      this.note(f);
      throw f;
    }
    this.note(undefined);
    return { rows: (answer.rows ?? []).map(toBuffers), rowCount: answer.rowCount ?? 0, generation: answer.generation };
  }

  /** A statement the server answered (even with an error of its own) means it is reachable. */
  private note(failure: StoreDbError | undefined): void {
    const down = failure !== undefined && failure.code === 'STORE_UNAVAILABLE';
    if (down === !this.state.connected && (!down || this.state.error === failure?.message)) return;
    this.state.connected = !down;
    this.state.error = down ? failure.message : undefined;
    this.state.since = Date.now();
  }

  close(): void {
    if (this.closed) return;
    try {
      const id = ++this.seq;
      this.port.postMessage({ id, op: 'close' });
      this.wait(id, 5_000);
    } catch {
      // closing anyway
    } finally {
      this.closed = true;
      void this.worker.terminate();
      this.port.close();
    }
  }

  private wait(id: number, timeoutMs = ANSWER_TIMEOUT_MS): Answer {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const seen = Atomics.load(this.flag, 0);
      const msg = receiveMessageOnPort(this.port);
      if (msg !== undefined) {
        const answer = msg.message as Answer;
        if (answer.id === id) return answer;
        continue; // the late answer of a request that timed out
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new StoreDbError(
          'STORE_UNAVAILABLE',
          `The store ${this.display} did not answer within ${Math.round(timeoutMs / 1000)} s.`,
          'Check that PostgreSQL is up and reachable; hardkms signs nothing until it answers.',
        );
      }
      Atomics.wait(this.flag, 0, seen, left);
    }
  }

  private failure(e: NonNullable<Answer['error']>): StoreDbError {
    const code = e.code;
    if (code === '55P03') {
      return new StoreDbError(
        'STORE_BUSY',
        `The store ${this.display} stayed locked by another writer for ${LOCK_TIMEOUT_MS / 1000} s.`,
        'Retry; another hardkms holds a long transaction (a re-key, a migration).',
        code,
      );
    }
    if (
      code !== undefined &&
      /^[0-9A-Z]{5}$/.test(code) &&
      !code.startsWith('08') &&
      !code.startsWith('57P') &&
      code !== '28P01' &&
      code !== '28000' &&
      code !== '3D000'
    ) {
      return new StoreDbError(
        'STORE_QUERY_FAILED',
        `The store ${this.display} refused a statement: ${e.message} (SQLSTATE ${code}).`,
        'This is a bug or a schema changed by hand; see the message.',
        code,
        e.constraint,
      );
    }
    const tls = /certificate|self[- ]signed|altnames|SSL|TLS/i.test(e.message);
    if (tls) {
      return new StoreDbError(
        'STORE_TLS_FAILED',
        `The TLS connection to ${this.display} failed its certificate check: ${e.message}.`,
        'Check sslrootcert (the CA that signed the server certificate) and that the host in the URL is in the certificate.',
        code,
      );
    }
    if (code === '28P01' || code === '28000') {
      return new StoreDbError(
        'STORE_AUTH_FAILED',
        `PostgreSQL refused the login to ${this.display}: ${e.message}.`,
        'Check the pgpass file PGPASSFILE names (HOST:PORT:DATABASE:USER:PASSWORD, mode 0600) or the client certificate.',
        code,
      );
    }
    if (code === '3D000') {
      return new StoreDbError(
        'STORE_UNAVAILABLE',
        `The database of ${this.display} does not exist: ${e.message}.`,
        'Create it (CREATE DATABASE … OWNER …) or fix the URL.',
        code,
      );
    }
    return new StoreDbError(
      'STORE_UNAVAILABLE',
      `The store ${this.display} cannot be reached: ${e.message}.`,
      'Check that PostgreSQL is up and reachable; hardkms signs nothing until it is, and reconnects by itself.',
      code,
    );
  }
}

function toParam(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

/** bytea values come back as Uint8Array (structured cloning); the store's checks want Buffers. */
function toBuffers(row: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(row)) {
    if (v instanceof Uint8Array && !Buffer.isBuffer(v)) row[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }
  return row;
}
