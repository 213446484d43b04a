import { HardkmsError } from '../../errors.js';
import type { SqlDatabase, SqlRunResult, SqlStatement, SqlTransaction } from '../sql.js';
import { instanceLockKey, StoreDbError, SyncPgClient, type ConnectionState, type QueryResult } from './sync-client.js';

/**
 * The store's SQL interface (sql.ts) over PostgreSQL. Statements are written once, in the
 * SQL both engines accept; `?` and `@name` parameters become `$n` here.
 *
 * Writers are kept apart like SQLite's BEGIN IMMEDIATE keeps them: a write transaction takes
 * one transaction-scoped advisory lock first, so every instance's writes to the vault
 * (journal claims, signatures, spend rows, audit head, row-set record) are serialized in one
 * order, and the row-set record every write updates stays a single consistent chain. A read
 * transaction (the row-set check) is REPEATABLE READ: the record and the rows it sums come
 * from one snapshot.
 */
const WRITER_LOCK = 0x68_6b_6d_73; // 'hkms'

interface Translated {
  text: string;
  /** Named parameters in $n order; undefined for positional `?`. */
  names: string[] | undefined;
  count: number;
}

const cache = new Map<string, Translated>();

/** Rewrites `?` / `@name` (outside string literals and quoted names) to `$1…`. */
function translateSql(sql: string): Translated {
  const hit = cache.get(sql);
  if (hit) return hit;
  let out = '';
  const names: string[] = [];
  let positional = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      const stop = end === -1 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '?') {
      out += `$${++positional}`;
    } else if (c === '@' && /[A-Za-z_]/.test(sql[i + 1] ?? '')) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i + 1))!;
      let n = names.indexOf(m[0]);
      if (n === -1) n = names.push(m[0]) - 1;
      out += `$${n + 1}`;
      i += m[0].length;
    } else {
      out += c;
    }
  }
  if (positional > 0 && names.length > 0) throw new Error('a statement mixes ? and @name parameters');
  const t = { text: out, names: names.length > 0 ? names : undefined, count: positional };
  cache.set(sql, t);
  return t;
}

class PgStatement implements SqlStatement {
  private plucked = false;
  constructor(
    private readonly db: PgDatabase,
    private readonly t: Translated,
  ) {}

  private params(args: unknown[]): unknown[] {
    if (this.t.names) {
      const o = (args[0] ?? {}) as Record<string, unknown>;
      return this.t.names.map((n) => {
        if (!(n in o)) throw new Error(`missing named parameter @${n}`);
        return o[n];
      });
    }
    const flat = args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
    if (flat.length !== this.t.count)
      throw new Error(`statement takes ${this.t.count} parameter(s), got ${flat.length}`);
    return flat;
  }

  private rows(args: unknown[]): unknown[] {
    const r = this.db.query(this.t.text, this.params(args));
    return this.plucked ? r.rows.map((row) => Object.values(row)[0]) : r.rows;
  }

  get(...args: unknown[]): unknown {
    return this.rows(args)[0];
  }

  all(...args: unknown[]): unknown[] {
    return this.rows(args);
  }

  iterate(...args: unknown[]): IterableIterator<unknown> {
    return this.rows(args)[Symbol.iterator]();
  }

  run(...args: unknown[]): SqlRunResult {
    return { changes: this.db.query(this.t.text, this.params(args)).rowCount };
  }

  pluck(toggle = true): SqlStatement {
    this.plucked = toggle;
    return this;
  }
}

export class PgDatabase implements SqlDatabase {
  private readonly client: SyncPgClient;
  private depth = 0;
  private locked = false;
  /** The connection a transaction began on: an answer from another one means the transaction is gone. */
  private txGeneration: number | undefined;
  private isOpen = true;
  readonly display: string;

  constructor(location: string) {
    this.client = new SyncPgClient(location);
    this.display = this.client.display;
  }

  get open(): boolean {
    return this.isOpen;
  }

  /** Whether the last round trip reached PostgreSQL (read by /healthz without a query). */
  get connection(): Readonly<ConnectionState> {
    return this.client.state;
  }

  /** Whether a transaction is open on this connection (the audit trail copies a host's file only outside one). */
  get inTransaction(): boolean {
    return this.depth > 0;
  }

  /** This connection's instance id (journal claims carry it). */
  get instanceId(): string {
    return this.client.instanceId;
  }

  /** Whether the instance `id` holds its session lock, i.e. is connected now (pg_locks is readable by every role). */
  instanceAlive(id: string): boolean {
    const [cls, key] = instanceLockKey(id);
    const r = this.query(
      "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::bigint::oid AND objid = $2::bigint::oid AND objsubid = 2 AND granted) AS alive",
      [cls, key],
    );
    return r.rows[0]?.alive === true;
  }

  query(text: string, params: readonly unknown[] = []): QueryResult {
    const r = this.client.query(text, params);
    if (this.txGeneration !== undefined && r.generation !== this.txGeneration) {
      throw new StoreDbError(
        'STORE_UNAVAILABLE',
        `The connection to ${this.display} was lost inside a transaction; the transaction was rolled back by the server.`,
        'Nothing of it was committed; the operation is retried from the start.',
      );
    }
    return r;
  }

  prepare(sql: string): SqlStatement {
    return new PgStatement(this, translateSql(sql));
  }

  exec(sql: string): void {
    this.query(sql);
  }

  /** Takes the writer lock inside the current transaction (held until it ends). */
  lockWriters(): void {
    if (this.locked) return;
    this.query('SELECT pg_advisory_xact_lock($1)', [WRITER_LOCK]);
    this.locked = true;
  }

  transaction<T>(fn: () => T): SqlTransaction<T> {
    const run = (immediate: boolean): T => {
      if (this.depth > 0) {
        const sp = `hk_sp${this.depth}`;
        this.query(`SAVEPOINT ${sp}`);
        this.depth++;
        try {
          if (immediate) this.lockWriters();
          const out = fn();
          rejectPromise(out);
          this.query(`RELEASE SAVEPOINT ${sp}`);
          return out;
        } catch (e) {
          try {
            this.query(`ROLLBACK TO SAVEPOINT ${sp}`);
            this.query(`RELEASE SAVEPOINT ${sp}`);
          } catch {
            // the outer transaction fails too
          }
          throw e;
        } finally {
          this.depth--;
        }
      }
      const begin = this.client.query(immediate ? 'BEGIN' : 'BEGIN ISOLATION LEVEL REPEATABLE READ');
      this.txGeneration = begin.generation;
      this.depth = 1;
      try {
        if (immediate) this.lockWriters();
        const out = fn();
        rejectPromise(out);
        this.query('COMMIT');
        return out;
      } catch (e) {
        try {
          this.client.query('ROLLBACK');
        } catch {
          // a lost connection rolled it back already
        }
        throw e;
      } finally {
        this.depth = 0;
        this.locked = false;
        this.txGeneration = undefined;
      }
    };
    const tx = (() => run(false)) as SqlTransaction<T>;
    tx.immediate = () => run(true);
    return tx;
  }

  close(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.client.close();
  }
}

function rejectPromise(v: unknown): void {
  if (v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function') {
    throw new HardkmsError(
      'STORE_ASYNC_TRANSACTION',
      'A store transaction returned a promise; transactions are synchronous.',
    );
  }
}
