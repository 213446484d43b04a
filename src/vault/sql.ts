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

/**
 * `db` with its prepared statements kept, by SQL text. Preparing parses and plans the SQL
 * again, and the daemon runs the same few statements (journal rows, meta, row sets) several
 * times per pending transaction: about a fifth of its store CPU went to prepare(). A cached
 * statement is never plucked (pluck() gets a fresh one), so every caller sees row objects
 * unless it asked otherwise.
 */
export function withStatementCache(db: SqlDatabase, limit = 512): SqlDatabase {
  const cache = new Map<string, SqlStatement>();
  const cached = (sql: string): SqlStatement => {
    let s = cache.get(sql);
    if (s === undefined) {
      // Statements built with varying text (none today) must not grow the cache without bound.
      if (cache.size >= limit) cache.clear();
      const stmt = db.prepare(sql);
      s = {
        get: (...p) => stmt.get(...p),
        all: (...p) => stmt.all(...p),
        run: (...p) => stmt.run(...p),
        iterate: (...p) => stmt.iterate(...p),
        pluck: (toggle = true) => db.prepare(sql).pluck(toggle),
      };
      cache.set(sql, s);
    }
    return s;
  };
  return {
    prepare: cached,
    transaction: (fn) => db.transaction(fn),
    exec: (sql) => db.exec(sql),
    get open() {
      return db.open;
    },
    close: () => {
      cache.clear();
      return db.close();
    },
  };
}
