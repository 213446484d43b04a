/**
 * The part of a SQL connection the store and its table modules use: better-sqlite3's
 * synchronous API (prepare → get/all/run/iterate, transaction(fn).immediate()). SQLite's
 * Database satisfies it as it is; the PostgreSQL store (pg/database.ts) implements it over a
 * synchronous bridge to `pg`, so every MAC, row-set and journal check runs the same code
 * whichever backend holds the rows.
 */
export interface SqlRunResult {
  changes: number;
}

export interface SqlStatement {
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): SqlRunResult;
  iterate(...params: unknown[]): IterableIterator<unknown>;
  pluck(toggle?: boolean): SqlStatement;
}

export interface SqlTransaction<T> {
  (): T;
  /** Takes the writer lock at BEGIN (SQLite BEGIN IMMEDIATE; PostgreSQL an advisory lock). */
  immediate(): T;
}

export interface SqlDatabase {
  prepare(sql: string): SqlStatement;
  transaction<T>(fn: () => T): SqlTransaction<T>;
  exec(sql: string): unknown;
  readonly open: boolean;
  close(): unknown;
}

/** A primary-key (unique) violation, from either engine. */
export function isDuplicateKey(e: unknown): boolean {
  const x = e as { code?: string; sqlState?: string };
  return x.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || x.sqlState === '23505';
}
