import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
} from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { HardkmsError } from '../errors.js';
import { check, jsonSyntaxPlace, parseOrThrow, type v } from '../validate.js';
import { authenticatedHeadRecord, publicDataRecord } from './meta-records.js';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deriveMacKey, macFields, macMatches } from './row-mac.js';
import {
  BOUND_TABLES,
  digestOf,
  emptyRowSets,
  parseRowSets,
  updated,
  type BoundTable,
  type RowSets,
} from './row-set.js';
import { AUTHENTICATED_META_KEYS, META, META_MAC_V2_PREFIX, metaMacFields } from './meta-auth.js';
import { FORMAT_VERSION, MIGRATIONS } from './schema.js';
import { isDuplicateKey, withStatementCache, type SqlDatabase } from './sql.js';
import { PgDatabase } from './pg/database.js';
import { PG_MIGRATIONS } from './pg/schema.js';
import { displayStoreUrl, isStoreUrl } from './pg/url.js';
import type { EntryKind, NewWalletEntry, PublicData, WalletEntry } from './entries.js';

type Row = {
  signature_id: string;
  chain: string;
  testnet: number;
  kind: EntryKind;
  public_data: string;
  wrapped_secret: Buffer;
  mechanism: string;
  created: string;
  mac: Buffer;
};

const ROW_SETS = 'row_sets';
const ROW_SETS_MAC = 'row_sets_mac';
/** Set by the migration that introduced row sets: the first unsealed open builds them. */
export const ROW_SETS_ADOPT = 'row_sets_adopt';
/**
 * A table whose rows carry a MAC under the row key: what re-keying (rekey.ts) re-MACs.
 * `fields` must list the MAC input exactly as the table's own writer computes it.
 */
export interface MacTable {
  table: string;
  /** The tag passed to macFields (the domain of the MAC). */
  tag: string;
  /** Primary-key columns, to update a row in place. */
  key: readonly string[];
  fields(row: Record<string, unknown>): Array<string | number | Buffer>;
}

export const WALLETS_MAC_TABLE: MacTable = {
  table: 'wallets',
  tag: 'wallets',
  key: ['signature_id'],
  fields: (r) => [
    r.signature_id as string,
    r.chain as string,
    r.testnet as number,
    r.kind as string,
    r.public_data as string,
    r.wrapped_secret as Buffer,
    r.mechanism as string,
    r.created as string,
  ],
};

/**
 * What differs between the two stores: where the schema version lives, how migrations run,
 * and whether a check can be cached. Everything else (MACs, row sets, counter, re-keying)
 * is the same code over the same SQL (sql.ts).
 */
interface StoreEngine {
  readonly kind: 'sqlite' | 'postgres';
  /** The schema version (SQLite user_version); 0 for a store with no hardkms schema. */
  version(): number;
  migrate(): void;
  /** Changes only when ANOTHER connection committed; undefined when that cannot be known (re-check every time). */
  foreignVersion(): number | undefined;
  /** Changes whenever anyone (this connection too) wrote; undefined: do not cache. */
  changeStamp(): string | undefined;
}

function sqliteEngine(db: Database.Database): StoreEngine {
  // Prepared once: db.pragma() prepares its statement on every call, and the daemon asks for
  // data_version before every claim and every new pending id.
  const dataVersion = db.prepare('PRAGMA data_version').pluck();
  const totalChanges = db.prepare('SELECT total_changes()').pluck();
  return {
    kind: 'sqlite',
    version: () => db.pragma('user_version', { simple: true }) as number,
    migrate() {
      const current = db.pragma('user_version', { simple: true }) as number;
      for (let v = current; v < MIGRATIONS.length; v++) {
        db.transaction(() => {
          db.exec(MIGRATIONS[v]!);
          db.pragma(`user_version = ${v + 1}`);
        }).immediate();
      }
    },
    foreignVersion: () => dataVersion.get() as number,
    changeStamp: () => `${String(dataVersion.get())}:${String(totalChanges.get())}`,
  };
}

/**
 * PostgreSQL: other instances commit at any time and a database admin can write without
 * any trace this connection could see, so nothing is cached: every row-set check re-sums
 * the rows.
 */
function pgEngine(db: PgDatabase): StoreEngine {
  const version = (): number => {
    const t = db.prepare("SELECT to_regclass('hardkms_schema') IS NOT NULL AS present").get() as { present: boolean };
    if (!t.present) return 0;
    const row = db.prepare('SELECT version FROM hardkms_schema').get() as { version: number } | undefined;
    return row?.version ?? 0;
  };
  return {
    kind: 'postgres',
    version,
    migrate() {
      // One transaction under the writer lock: instances starting together migrate once.
      db.transaction(() => {
        db.exec('CREATE TABLE IF NOT EXISTS hardkms_schema (version INTEGER NOT NULL)');
        if (db.prepare('SELECT version FROM hardkms_schema').get() === undefined)
          db.prepare('INSERT INTO hardkms_schema (version) VALUES (0)').run();
        for (let v = version(); v < PG_MIGRATIONS.length; v++) {
          db.exec(PG_MIGRATIONS[v]!);
          db.prepare('UPDATE hardkms_schema SET version = ?').run(v + 1);
        }
      }).immediate();
    },
    foreignVersion: () => undefined,
    changeStamp: () => undefined,
  };
}

/** How long a writer waits for another (the daemon, a CLI command) to finish its transaction. */
const BUSY_TIMEOUT_MS = 15_000;

/**
 * wallet.dat: one SQLite database (the choice Bitcoin Core made for its own wallet.dat).
 * SQLite gives what Tatum's single encrypted JSON file lacks: atomic, durable commits
 * (WAL, synchronous=FULL), O(log n) updates and a writer lock (BEGIN IMMEDIATE + busy
 * timeout) so the daemon and a CLI command never interleave their writes.
 *
 * The store itself holds no secret in clear. Reading or writing wallet rows needs the
 * store key (from the unsealed vault secret) to check and produce row MACs.
 */
export class WalletStore {
  /** wallet.dat's path, or the store URL (postgres://…). */
  readonly path: string;
  private readonly db: SqlDatabase;
  /** The PostgreSQL connection itself (this.db wraps it), for its connection state and instance id. */
  private readonly pg: PgDatabase | undefined;
  private readonly engine: StoreEngine;
  private macKey: Buffer | undefined;
  /** data_version at which `verifiedTables` were last found to match their row sets. */
  private verifiedVersion: number | undefined;
  private readonly verifiedTables = new Set<BoundTable>();
  /** The row-set record as last checked or written, with the MAC key it was checked under (readRowSets). */
  private rowSetsSeen: { key: Buffer | undefined; text: string; mac: string; sets: RowSets } | undefined;
  /**
   * The row sets as changed by the open transaction() and not yet written: written once, when
   * the outermost transaction's function returns (one record and MAC per commit instead of one
   * per row written; the daemon's group commit writes dozens of journal rows per commit).
   */
  private rowSetsDirty: RowSets | undefined;
  /** How deep this connection is in transaction() (0: none open). */
  private transactionDepth = 0;
  private pidKey: Buffer | undefined;
  private vaultId: string | undefined;
  /** Set once the meta verified under this process's key: a later mismatch of the key check then means "re-keyed". */
  private metaVerified = false;

  /**
   * wallet.dat: ONE better-sqlite3 transaction function that runs the function it is given
   * (BEGIN IMMEDIATE, or a savepoint when one is open), instead of a new one per call:
   * db.transaction() builds four wrapped functions each time, and the daemon opens about
   * fifteen transactions and savepoints per pending transaction.
   */
  private readonly sqliteTransaction: ((fn: () => unknown) => unknown) | undefined;

  private constructor(path: string, db: Database.Database | PgDatabase) {
    this.path = path;
    if (!(db instanceof PgDatabase)) {
      const run = db.transaction((fn: () => unknown) => fn());
      this.sqliteTransaction = (fn) => run.immediate(fn);
    }
    this.db = withStatementCache(db);
    this.engine = db instanceof PgDatabase ? pgEngine(db) : sqliteEngine(db);
    this.pg = db instanceof PgDatabase ? db : undefined;
  }

  /** 'postgres' for a store named by URL (several signers), 'sqlite' for wallet.dat. */
  get kind(): 'sqlite' | 'postgres' {
    return this.engine.kind;
  }

  /** Whether a store is there: a file, or a database holding the hardkms schema (a database that cannot be reached throws). */
  static exists(path: string): boolean {
    if (!isStoreUrl(path)) return existsSync(path);
    const db = new PgDatabase(path);
    try {
      return pgEngine(db).version() > 0;
    } finally {
      db.close();
    }
  }

  /** Throws VAULT_EXISTS if a store is at `path`: init checks this before it touches anything. */
  static refuseExisting(path: string): void {
    if (isStoreUrl(path)) {
      if (WalletStore.exists(path)) {
        throw new HardkmsError(
          'VAULT_EXISTS',
          `The database ${displayStoreUrl(path)} already holds a hardkms store; hardkms init never overwrites one.`,
          {
            hint: 'Name an empty database in --store, or drop this one yourself if you really mean to replace it.',
          },
        );
      }
      return;
    }
    if (existsSync(path)) {
      throw new HardkmsError('VAULT_EXISTS', `A store already exists at ${path}; hardkms init never overwrites one.`, {
        hint: 'Use --path to create a new store elsewhere, or move the existing file away yourself if you really mean to replace it.',
      });
    }
  }

  /** Creates a new, empty store; refuses to touch an existing file. */
  static create(path: string): WalletStore {
    WalletStore.refuseExisting(path);
    if (isStoreUrl(path)) {
      const store = new WalletStore(path, new PgDatabase(path));
      store.migrate();
      return store;
    }
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Create the file 0600 before SQLite opens it; the -wal and -shm side files inherit
    // the main file's mode in SQLite's unix VFS.
    closeSync(openSync(path, 'wx', 0o600));
    const store = WalletStore.openFile(path);
    store.migrate();
    return store;
  }

  static open(path: string): WalletStore {
    if (isStoreUrl(path)) return WalletStore.openUrl(path, true);
    if (!existsSync(path)) {
      throw new HardkmsError('VAULT_NOT_FOUND', `No such wallet file: ${path}.`, {
        hint: 'Create one with `hardkms init`, or point --path at your wallet.dat.',
      });
    }
    const store = WalletStore.openFile(path);
    store.checkFormat();
    return store;
  }

  /**
   * Opens wallet.dat for reading only, writing nothing beside it: no mode change, no
   * migration, and for a store no process has open (no -wal file: an auditor's copy, a
   * backup) no -wal/-shm files either, since SQLite reads an in-memory copy of the file.
   * A live store (its -wal holds commits not yet in the main file) is read through SQLite's
   * read-only mode, which uses the side files that already exist.
   */
  static openReadOnly(path: string): WalletStore {
    if (isStoreUrl(path)) return WalletStore.openUrl(path, false);
    if (!existsSync(path)) {
      throw new HardkmsError('VAULT_NOT_FOUND', `No such wallet file: ${path}.`, {
        hint: 'Create one with `hardkms init`, or point --path at your wallet.dat.',
      });
    }
    const wal = `${path}-wal`;
    if (existsSync(wal) && statSync(wal).size > 0) return WalletStore.openReadOnlyLive(path);
    const before = statSync(path);
    const image = readFileSync(path);
    const after = statSync(path);
    if (
      existsSync(wal) ||
      after.mtimeMs !== before.mtimeMs ||
      after.size !== before.size ||
      image.length !== after.size
    ) {
      // A writer opened the store while it was read: read it through SQLite instead.
      return WalletStore.openReadOnlyLive(path);
    }
    // Bytes 18-19 of the header say "WAL" (2); an in-memory database cannot use a WAL,
    // and the copy has none to read: mark the copy (only the copy) as rollback-journal.
    if (image.length >= 20 && image[18] === 2 && image[19] === 2) image[18] = image[19] = 1;
    let db: Database.Database;
    try {
      db = new Database(image, { readonly: true });
    } catch (e) {
      throw notAStore(path, e);
    }
    const store = new WalletStore(path, db);
    store.checkFormat(false);
    return store;
  }

  private static openUrl(path: string, migrate: boolean): WalletStore {
    const db = new PgDatabase(path);
    const store = new WalletStore(path, db);
    try {
      if (store.engine.version() === 0) {
        throw new HardkmsError('VAULT_NOT_FOUND', `The database ${displayStoreUrl(path)} holds no hardkms store.`, {
          hint: 'Create one with `hardkms init --store URL`, or move a vault there with `hardkms store migrate --from wallet.dat --to URL`.',
        });
      }
      store.checkFormat(migrate);
    } catch (e) {
      db.close();
      throw e;
    }
    return store;
  }

  private static openReadOnlyLive(path: string): WalletStore {
    let db: Database.Database;
    try {
      db = new Database(path, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    } catch (e) {
      throw notAStore(path, e);
    }
    const store = new WalletStore(path, db);
    store.checkFormat(false);
    return store;
  }

  /** Writers need the file and its directory (SQLite's -wal/-shm and the audit log live there). */
  private static requireWritable(path: string): void {
    for (const [target, what] of [
      [dirname(path), 'directory'],
      [path, 'file'],
    ] as const) {
      try {
        accessSync(target, constants.W_OK);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EACCES' && code !== 'EROFS' && code !== 'EPERM') continue;
        throw new HardkmsError(
          'VAULT_READ_ONLY',
          `The wallet ${what} ${target} is read-only for this user (${code}): hardkms writes wallet.dat, its -wal/-shm files and audit.log in ${dirname(path)}.`,
          {
            hint: 'Run hardkms as the user owning the store, or make the directory and its files writable. To check a read-only copy (an auditor’s), `hardkms audit verify` and `hardkms audit report` read it without writing.',
          },
        );
      }
    }
  }

  private static openFile(path: string): WalletStore {
    WalletStore.requireWritable(path);
    let db: Database.Database;
    try {
      db = new Database(path, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma('secure_delete = ON');
    } catch (e) {
      throw notAStore(path, e);
    }
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
    return new WalletStore(path, db);
  }

  private migrate(): void {
    this.engine.migrate();
  }

  private checkFormat(migrate = true): void {
    let version: number;
    try {
      version = this.engine.version();
    } catch (e) {
      if (e instanceof HardkmsError) throw e;
      throw new HardkmsError(
        'VAULT_UNREADABLE',
        `${this.path} is not a hardkms wallet store: ${(e as Error).message}.`,
        {
          hint: 'A Tatum KMS wallet.dat is imported with `hardkms import-legacy FILE`, not opened directly.',
        },
      );
    }
    if (version === 0) {
      throw new HardkmsError('VAULT_UNREADABLE', `${this.path} is not a hardkms wallet store.`, {
        hint: 'A Tatum KMS wallet.dat is imported with `hardkms import-legacy FILE`, not opened directly.',
      });
    }
    if (version > FORMAT_VERSION) {
      throw new HardkmsError(
        'VAULT_TOO_NEW',
        `${this.path} has format ${version}; this hardkms reads up to ${FORMAT_VERSION}.`,
        {
          hint: 'Upgrade hardkms.',
        },
      );
    }
    if (migrate) this.migrate();
  }

  close(): void {
    this.lock();
    if (this.db.open) this.db.close();
  }

  /** Runs fn in one write transaction that holds SQLite's writer lock from the start. */
  transaction<T>(fn: () => T): T {
    const body = (): T => {
      const outermost = this.transactionDepth === 0;
      const dirty = this.rowSetsDirty;
      this.transactionDepth += 1;
      try {
        const result = fn();
        // Inside the transaction, before COMMIT: the record commits with the rows it binds.
        if (outermost) this.flushRowSets();
        return result;
      } catch (e) {
        // This transaction (or savepoint) is rolled back: so are the row-set changes made in it.
        this.rowSetsDirty = dirty;
        throw e;
      } finally {
        this.transactionDepth -= 1;
      }
    };
    return this.sqliteTransaction !== undefined
      ? (this.sqliteTransaction(body) as T)
      : this.db.transaction(body).immediate();
  }

  // ------------------------------------------------------------------ meta

  getMeta(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  /**
   * A JSON record of the meta table, checked against its schema (meta-records.ts): most are
   * read before the meta MAC can be, so a hand-edited one must fail here, naming the field.
   */
  getMetaJson<T>(key: string, schema: v.GenericSchema<unknown, T>): T | undefined {
    const value = this.getMeta(key);
    if (value === undefined) return undefined;
    const malformed = (what: string): HardkmsError =>
      new HardkmsError('VAULT_META_TAMPERED', `The "${key}" record in ${this.path} is malformed: ${what}.`, {
        hint: 'Someone edited wallet.dat, or it is damaged: restore it from a backup. Nothing was changed.',
      });
    let json: unknown;
    try {
      json = JSON.parse(value);
    } catch (e) {
      const place = jsonSyntaxPlace(value, e);
      throw malformed(place === undefined ? 'it is not JSON' : `it is not JSON (${place})`);
    }
    return parseOrThrow(schema, json, malformed);
  }

  setMeta(key: string, value: string): void {
    this.db
      .prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
      .run(key, value);
  }

  deleteMeta(key: string): void {
    this.db.prepare('DELETE FROM meta WHERE key = ?').run(key);
  }

  setMetaJson(key: string, value: unknown): void {
    this.setMeta(key, JSON.stringify(value));
  }

  // ------------------------------------------------------------------ keys

  /** Enables row access; called once the vault secret is known. */
  unlock(storeKey: Buffer, vaultId: string): void {
    this.lock();
    this.macKey = deriveMacKey(storeKey, vaultId, 'row');
    this.vaultId = vaultId;
    this.pidKey = this.unwrapPidKey(storeKey, vaultId);
    this.metaVerified = false;
  }

  lock(): void {
    this.macKey?.fill(0);
    this.pidKey?.fill(0);
    this.macKey = undefined;
    this.pidKey = undefined;
    this.verifiedTables.clear();
  }

  private key(): Buffer {
    if (!this.macKey) {
      throw new HardkmsError('VAULT_SEALED', 'The vault is sealed.', { hint: 'Unseal it first.' });
    }
    return this.macKey;
  }

  /** MAC of arbitrary vault-level data (token binding, OTP counters) under the row key. */
  macOf(table: string, fields: ReadonlyArray<string | number | Buffer>): Buffer {
    return macFields(this.key(), table, fields);
  }

  /** The MAC of the authenticated audit head (meta audit_head_mac): the last signed record. */
  auditHeadMac(head: { seq: number; hash: string }): string {
    return this.macOf('audit_head', [this.vaultId!, head.seq, head.hash]).toString('hex');
  }

  /** Whether audit_head_mac is present and authentic under the current row key. */
  private auditHeadAuthentic(): { seq: number; hash: string } | undefined {
    const stored = this.getMeta(META.auditHeadAuth);
    // Malformed is not authentic: the head is then rebuilt from the log (audit/checker.ts).
    const head = stored === undefined ? undefined : check(authenticatedHeadRecord, jsonOrUndefined(stored));
    if (!head?.ok) return undefined;
    const h = { seq: head.value.seq, hash: head.value.hash };
    return macMatches(Buffer.from(this.auditHeadMac(h)), Buffer.from(head.value.mac)) ? h : undefined;
  }

  /**
   * The keyed hash of an OTP private id. Its key must survive re-keying (the private id
   * itself is not stored, so the hash cannot be recomputed under a new key): it is the row
   * key of the store key the vault had before its first re-key, carried from then on
   * encrypted under the current store key (meta otp_pid_key).
   */
  privateIdMac(fields: ReadonlyArray<string | number | Buffer>): Buffer {
    return macFields(this.pidKey ?? this.key(), 'otp-private-id', fields);
  }

  private unwrapPidKey(storeKey: Buffer, vaultId: string): Buffer | undefined {
    const stored = this.getMeta(META.otpPidKey);
    if (stored === undefined) return undefined;
    const blob = Buffer.from(stored, 'hex');
    const wrap = deriveMacKey(storeKey, vaultId, 'otp-pid-wrap');
    try {
      const d = createDecipheriv('aes-256-gcm', wrap, blob.subarray(0, 12));
      d.setAAD(Buffer.from(`hardkms otp pid key|${vaultId}`));
      d.setAuthTag(blob.subarray(blob.length - 16));
      return Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()]);
    } catch {
      return undefined; // a wrong store key: verifyMeta reports it
    } finally {
      wrap.fill(0);
    }
  }

  private wrapPidKey(pidKey: Buffer, storeKey: Buffer, vaultId: string): string {
    const wrap = deriveMacKey(storeKey, vaultId, 'otp-pid-wrap');
    try {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', wrap, iv);
      c.setAAD(Buffer.from(`hardkms otp pid key|${vaultId}`));
      return Buffer.concat([iv, c.update(pidKey), c.final(), c.getAuthTag()]).toString('hex');
    } finally {
      wrap.fill(0);
    }
  }

  // ------------------------------------------------------------------ authenticated meta

  private keyCheck(): string {
    return this.macOf('key-check', [this.vaultId ?? '']).toString('hex');
  }

  private computeMetaMac(): string {
    return (
      META_MAC_V2_PREFIX +
      this.macOf(
        'meta v2',
        metaMacFields((k) => this.getMeta(k)),
      ).toString('hex')
    );
  }

  /** The v1 MAC (before the one mechanism): [vaultId, binding, seal, testnetOnly]. */
  private legacyMetaMacMatches(stored: string): boolean {
    const fields = [
      this.getMeta(META.vaultId) ?? '',
      this.getMeta(META.token) ?? '',
      this.getMeta(META.seal) ?? '',
      this.getMeta(META.testnetOnly) === 'true' ? 1 : 0,
    ];
    return macMatches(this.macOf('meta', fields), Buffer.from(stored, 'hex'));
  }

  /**
   * Checks the MAC over every authenticated meta value (meta-auth.ts). A store written by
   * an older build (v1 MAC over fewer fields) is checked the old way and upgraded in place.
   * Throws VAULT_REKEYED when another process has re-keyed the store since this one
   * unsealed, VAULT_META_TAMPERED otherwise.
   */
  verifyMeta(): void {
    const stored = this.getMeta(META.metaMac);
    if (stored !== undefined && stored.startsWith(META_MAC_V2_PREFIX)) {
      if (macMatches(Buffer.from(this.computeMetaMac()), Buffer.from(stored))) {
        this.metaVerified = true;
        return;
      }
    } else if (stored !== undefined && this.legacyMetaMacMatches(stored)) {
      // v1 left previous_seal and the rest unauthenticated; from here on they are covered.
      this.transaction(() => {
        this.setMeta(META.keyCheck, this.keyCheck());
        this.setMeta(META.metaMac, this.computeMetaMac());
      });
      this.metaVerified = true;
      return;
    }
    throw this.metaFailure();
  }

  /**
   * Throws VAULT_REKEYED when another process re-keyed the store since this one unsealed
   * (the stored key check is not this key's). Call inside a write transaction, before writing
   * anything MAC'd under this process's key: the audit head of an append committed after a
   * concurrent rotate would otherwise carry the old key's MAC, which every later unseal reads
   * as AUDIT_HEAD_MISMATCH. One meta read; the writer lock keeps a rotate out until the commit.
   */
  assertNotRekeyed(): void {
    const check = this.getMeta(META.keyCheck);
    if (check !== undefined && check !== this.keyCheck()) throw this.metaFailure();
  }

  private metaFailure(): HardkmsError {
    const check = this.getMeta(META.keyCheck);
    if (this.metaVerified && check !== undefined && check !== this.keyCheck()) return rekeyedError(this.path);
    return new HardkmsError(
      'VAULT_META_TAMPERED',
      `The token binding or seal parameters of ${this.path} fail their integrity check.`,
      {
        hint: 'Someone without the vault secret changed wallet.dat. Restore it from a backup.',
      },
    );
  }

  /**
   * Sets (string) or deletes (undefined) authenticated meta values and re-MACs the meta, in
   * one transaction (nested in the caller's, if any). The current meta is verified first,
   * under the writer lock: a value someone changed behind our back is never re-MAC'd.
   */
  writeAuthenticatedMeta(updates: Readonly<Record<string, string | undefined>>): void {
    for (const k of Object.keys(updates)) {
      if (!AUTHENTICATED_META_KEYS.includes(k)) throw new Error(`meta key '${k}' is not in AUTHENTICATED_META_KEYS`);
    }
    this.transaction(() => {
      this.verifyMeta();
      for (const [k, v] of Object.entries(updates)) {
        if (v === undefined) this.deleteMeta(k);
        else this.setMeta(k, v);
      }
      if (this.getMeta(META.keyCheck) === undefined) this.setMeta(META.keyCheck, this.keyCheck());
      this.setMeta(META.metaMac, this.computeMetaMac());
    });
  }

  /** Writes the meta of a new vault: the values and their first MAC. */
  initAuthenticatedMeta(values: Readonly<Record<string, string>>): void {
    this.transaction(() => {
      for (const [k, v] of Object.entries(values)) this.setMeta(k, v);
      this.setMeta(META.storeCounter, '0');
      this.setMeta(META.keyCheck, this.keyCheck());
      this.setMeta(META.metaMac, this.computeMetaMac());
    });
  }

  /** The authenticated store counter (0 for a new vault); verifies the meta first. */
  storeCounter(): number {
    this.verifyMeta();
    return Number(this.getMeta(META.storeCounter) ?? '0');
  }

  /**
   * Increments the monotonic store counter and returns the new value, in one transaction
   * (nested in the caller's, if any). Use it to bind a set of rows to a point in the
   * store's history: call it inside the same transaction that writes rows (journal,
   * spend ledger, …) and put the returned value into those rows' MACs; a check then
   * compares a row set's counter with storeCounter(). An old copy of wallet.dat restored
   * whole carries its old counter, so a restore is visible as "counter went back" to
   * anyone who remembers a later value (the audit log records it).
   */
  bumpCounter(): number {
    return this.transaction(() => {
      this.verifyMeta();
      const next = Number(this.getMeta(META.storeCounter) ?? '0') + 1;
      this.setMeta(META.storeCounter, String(next));
      if (this.getMeta(META.keyCheck) === undefined) this.setMeta(META.keyCheck, this.keyCheck());
      this.setMeta(META.metaMac, this.computeMetaMac());
      return next;
    });
  }

  /**
   * Re-keys the store: every row of `tables` is verified under the current key and re-MAC'd
   * under the key of `newStoreKey`, the meta gets `updates` and a new MAC, all in ONE
   * transaction, so a crash leaves the old or the new state, never a mix. The OTP
   * private-id hash key is carried over, encrypted under the new store key.
   */
  rekey(newStoreKey: Buffer, tables: readonly MacTable[], updates: Readonly<Record<string, string | undefined>>): void {
    const vaultId = this.vaultId;
    if (!vaultId) throw new HardkmsError('VAULT_SEALED', 'The vault is sealed.', { hint: 'Unseal it first.' });
    const oldMac = Buffer.from(this.key());
    const oldPid = this.pidKey ? Buffer.from(this.pidKey) : undefined;
    const newMac = deriveMacKey(newStoreKey, vaultId, 'row');
    const pid = Buffer.from(oldPid ?? oldMac);
    let switched = false;
    try {
      this.transaction(() => {
        this.verifyMeta();
        // Checked under the old key; a head that fails it stays as it is (and keeps failing).
        const head = this.auditHeadAuthentic();
        const progress = this.onRekeyProgress;
        const total = progress
          ? tables.reduce(
              (n, t) => n + (this.db.prepare(`SELECT count(*) AS n FROM ${t.table}`).get() as { n: number }).n,
              0,
            )
          : 0;
        let done = 0;
        for (const t of tables)
          this.remacTable(t, oldMac, newMac, progress ? () => progress(++done, total) : undefined);
        this.macKey!.fill(0);
        this.macKey = Buffer.from(newMac);
        this.pidKey?.fill(0);
        this.pidKey = Buffer.from(pid);
        switched = true;
        for (const [k, v] of Object.entries(updates)) {
          if (!AUTHENTICATED_META_KEYS.includes(k))
            throw new Error(`meta key '${k}' is not in AUTHENTICATED_META_KEYS`);
          if (v === undefined) this.deleteMeta(k);
          else this.setMeta(k, v);
        }
        // The row-set digests are sums over row MACs: rebuilt from the re-MAC'd rows, under the new key.
        if (!this.rowSetsPending) this.rebuildRowSets();
        if (head) this.setMetaJson(META.auditHeadAuth, { ...head, mac: this.auditHeadMac(head) });
        this.setMeta(META.otpPidKey, this.wrapPidKey(pid, newStoreKey, vaultId));
        this.setMeta(META.keyCheck, this.keyCheck());
        this.setMeta(META.metaMac, this.computeMetaMac());
      });
    } catch (e) {
      if (switched) {
        // Rolled back: the store on disk is still under the old key.
        this.macKey?.fill(0);
        this.macKey = Buffer.from(oldMac);
        this.pidKey?.fill(0);
        this.pidKey = oldPid ? Buffer.from(oldPid) : undefined;
      }
      throw e;
    } finally {
      oldMac.fill(0);
      oldPid?.fill(0);
      newMac.fill(0);
      pid.fill(0);
    }
  }

  /** Told of each row re-keyed (the CLI's progress line); no row content is passed. */
  onRekeyProgress: ((done: number, total: number) => void) | undefined;

  private remacTable(t: MacTable, oldKey: Buffer, newKey: Buffer, onRow?: () => void): void {
    const where = t.key.map((k) => `${k} = @${k}`).join(' AND ');
    const update = this.db.prepare(`UPDATE ${t.table} SET mac = @mac WHERE ${where}`);
    for (const row of this.db.prepare(`SELECT * FROM ${t.table}`).all() as Array<Record<string, unknown>>) {
      const fields = t.fields(row);
      if (!Buffer.isBuffer(row.mac) || !macMatches(macFields(oldKey, t.tag, fields), row.mac)) {
        const id = t.key.map((k) => String(row[k])).join('/');
        throw new HardkmsError(
          'VAULT_ROW_TAMPERED',
          `The ${t.table} row '${id}' in ${this.path} fails its integrity check; nothing was re-keyed.`,
          {
            hint: 'Restore wallet.dat from a backup and investigate who had write access to it, then run the rotation again.',
          },
        );
      }
      const keys = Object.fromEntries(t.key.map((k) => [k, row[k]]));
      update.run({ ...keys, mac: macFields(newKey, t.tag, fields) });
      onRow?.();
    }
  }

  // ------------------------------------------------------------------ wallets

  private rowMac(row: Omit<Row, 'mac'>): Buffer {
    return macFields(this.key(), WALLETS_MAC_TABLE.tag, WALLETS_MAC_TABLE.fields(row));
  }

  /** A row that fails its MAC: re-keyed by another process since this one unsealed, or tampered. */
  rowFailure(tampered: HardkmsError): HardkmsError {
    const check = this.getMeta(META.keyCheck);
    return this.metaVerified && check !== undefined && check !== this.keyCheck() ? rekeyedError(this.path) : tampered;
  }

  private toEntry(row: Row): WalletEntry {
    const { mac, ...rest } = row;
    if (!macMatches(this.rowMac(rest), mac)) {
      throw this.rowFailure(
        new HardkmsError(
          'VAULT_ROW_TAMPERED',
          `The wallet entry '${row.signature_id}' in ${this.path} fails its integrity check: it was edited, swapped or injected without the vault secret.`,
          {
            hint: 'Do not use this store for that wallet. Restore wallet.dat from a backup and investigate who had write access to it.',
          },
        ),
      );
    }
    return {
      signatureId: row.signature_id,
      chain: row.chain,
      testnet: row.testnet === 1,
      kind: row.kind,
      publicData: this.publicDataOf(row),
      wrappedSecret: row.wrapped_secret,
      mechanism: row.mechanism,
      created: row.created,
    };
  }

  /** The row's public data, its MAC already checked: only a holder of the vault secret wrote it. */
  private publicDataOf(row: Row): PublicData {
    const malformed = (what: string): HardkmsError =>
      new HardkmsError(
        'VAULT_ROW_TAMPERED',
        `The wallet entry '${row.signature_id}' in ${this.path} holds public data this hardkms cannot read: ${what}.`,
        {
          hint: 'It passed its integrity check, so a hardkms holding the vault secret wrote it: use the hardkms version that did, or restore wallet.dat from a backup.',
        },
      );
    let json: unknown;
    try {
      json = JSON.parse(row.public_data);
    } catch (e) {
      const place = jsonSyntaxPlace(row.public_data, e);
      throw malformed(place === undefined ? 'not JSON' : `not JSON (${place})`);
    }
    return parseOrThrow(publicDataRecord, json, malformed, 'publicData');
  }

  private toRow(entry: NewWalletEntry, created: string): Row {
    const base = {
      signature_id: entry.signatureId,
      chain: entry.chain,
      testnet: entry.testnet ? 1 : 0,
      kind: entry.kind,
      public_data: JSON.stringify(entry.publicData),
      wrapped_secret: entry.wrappedSecret,
      mechanism: entry.mechanism,
      created,
    };
    return { ...base, mac: this.rowMac(base) };
  }

  /** Adds entries in one transaction: all of them are stored, or none. */
  addEntries(entries: readonly NewWalletEntry[]): void {
    const insert = this.db.prepare(
      'INSERT INTO wallets (signature_id, chain, testnet, kind, public_data, wrapped_secret, mechanism, created, mac) VALUES (@signature_id, @chain, @testnet, @kind, @public_data, @wrapped_secret, @mechanism, @created, @mac)',
    );
    const created = new Date().toISOString();
    const rows = entries.map((e) => this.toRow(e, created));
    try {
      this.transaction(() => {
        for (const row of rows) insert.run(row);
        this.bindRows(
          'wallets',
          rows.map((r) => r.mac),
          [],
        );
      });
    } catch (e) {
      if (isDuplicateKey(e)) {
        throw new HardkmsError(
          'VAULT_DUPLICATE_ID',
          'A wallet with one of these signature ids already exists; nothing was stored.',
        );
      }
      throw e;
    }
  }

  /**
   * Replaces the stored secret of existing entries (inner-layer migration), re-MACing each
   * row; every other column stays. One transaction (or the caller's).
   */
  replaceSecrets(updates: ReadonlyArray<{ signatureId: string; wrappedSecret: Buffer; mechanism: string }>): void {
    const update = this.db.prepare(
      'UPDATE wallets SET wrapped_secret = @wrapped_secret, mechanism = @mechanism, mac = @mac WHERE signature_id = @signature_id',
    );
    this.transaction(() => {
      for (const u of updates) {
        const current = this.requireEntry(u.signatureId);
        const old = (
          this.db.prepare('SELECT mac FROM wallets WHERE signature_id = ?').get(u.signatureId) as { mac: unknown }
        ).mac;
        const row = this.toRow({ ...current, wrappedSecret: u.wrappedSecret, mechanism: u.mechanism }, current.created);
        update.run({
          signature_id: row.signature_id,
          wrapped_secret: row.wrapped_secret,
          mechanism: row.mechanism,
          mac: row.mac,
        });
        this.bindRows('wallets', [row.mac], [old]);
      }
    });
  }

  getEntry(signatureId: string): WalletEntry | undefined {
    const row = this.db.prepare('SELECT * FROM wallets WHERE signature_id = ?').get(signatureId) as Row | undefined;
    return row ? this.toEntry(row) : undefined;
  }

  requireEntry(signatureId: string): WalletEntry {
    const entry = this.getEntry(signatureId);
    if (!entry) {
      throw new HardkmsError('WALLET_NOT_FOUND', `No such wallet for signatureId '${signatureId}'.`, {
        hint: 'See the stored wallets and their ids with `hardkms list` (no secret shown), or check the id.',
      });
    }
    return entry;
  }

  hasEntry(signatureId: string): boolean {
    return this.db.prepare('SELECT 1 FROM wallets WHERE signature_id = ?').get(signatureId) !== undefined;
  }

  removeEntry(signatureId: string): boolean {
    return this.transaction(() => {
      const row = this.db.prepare('SELECT mac FROM wallets WHERE signature_id = ?').get(signatureId) as
        { mac: unknown } | undefined;
      if (row === undefined) return false;
      this.db.prepare('DELETE FROM wallets WHERE signature_id = ?').run(signatureId);
      this.bindRows('wallets', [], [row.mac]);
      return true;
    });
  }

  /** All entries, each verified. */
  listEntries(filter: { chain?: string; testnet?: boolean } = {}): WalletEntry[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.chain !== undefined) {
      where.push('chain = ?');
      args.push(filter.chain);
    }
    if (filter.testnet !== undefined) {
      where.push('testnet = ?');
      args.push(filter.testnet ? 1 : 0);
    }
    const sql = `SELECT * FROM wallets${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created, signature_id`;
    return (this.db.prepare(sql).all(...args) as Row[]).map((r) => this.toEntry(r));
  }

  countEntries(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM wallets').get() as { n: number }).n;
  }

  // ------------------------------------------------------------------ row sets (row-set.ts)

  /** The authenticated row-set record; throws VAULT_ROW_TAMPERED when it is missing or fails its MAC. */
  private readRowSets(): RowSets {
    // Changed in the open transaction: what it will write (the stored one was checked when first read).
    if (this.rowSetsDirty !== undefined) return this.rowSetsDirty;
    const text = this.getMeta(ROW_SETS);
    const mac = this.getMeta(ROW_SETS_MAC);
    // Every journal write reads and rewrites this record (several times per pending
    // transaction): when the stored text and MAC are exactly the pair this connection last
    // checked or wrote under the same key, the MAC and the parse are not done again.
    const seen = this.rowSetsSeen;
    if (seen !== undefined && seen.key === this.macKey && text === seen.text && mac === seen.mac) return seen.sets;
    const sets = parseRowSets(text);
    if (
      sets === undefined ||
      mac === undefined ||
      !macMatches(this.macOf('row-sets', [text!]), Buffer.from(mac, 'hex'))
    ) {
      // Another process re-keyed the store (rotate, revoke, recover) since this one unsealed: its
      // record is MAC'd under the new key. Say so, not "tampered" (a running daemon meets this first).
      throw this.rowFailure(
        new HardkmsError(
          'VAULT_ROW_TAMPERED',
          `The record that binds the rows of ${this.path} (row counts, digests and write counter) is missing or fails its integrity check.`,
          {
            hint: 'Someone without the vault secret changed wallet.dat. Restore it from a backup and investigate who had write access to it.',
          },
        ),
      );
    }
    this.rowSetsSeen = { key: this.macKey, text: text!, mac, sets };
    return sets;
  }

  private writeRowSets(sets: RowSets): void {
    this.rowSetsDirty = undefined;
    const text = JSON.stringify(sets);
    const mac = this.macOf('row-sets', [text]).toString('hex');
    this.setMeta(ROW_SETS, text);
    this.setMeta(ROW_SETS_MAC, mac);
    this.rowSetsSeen = { key: this.macKey, text, mac, sets };
  }

  private flushRowSets(): void {
    if (this.rowSetsDirty !== undefined) this.writeRowSets(this.rowSetsDirty);
  }

  /** True until the row sets of a store created before they existed are built (first unsealed open). */
  get rowSetsPending(): boolean {
    return (
      this.getMeta(ROW_SETS) === undefined &&
      this.getMeta(ROW_SETS_ADOPT) !== undefined &&
      this.getMeta(META.rowSetsBound) === undefined
    );
  }

  /**
   * Builds the row sets from the rows as they are (init; the first unsealed open after the
   * upgrade that introduced them; re-keying, after every row was re-MAC'd). Call inside a
   * transaction, with rows already checked.
   */
  rebuildRowSets(): void {
    const previous = this.rowSetsDirty ?? parseRowSets(this.getMeta(ROW_SETS));
    const sets = emptyRowSets();
    sets.counter = previous === undefined ? 0 : previous.counter + 1;
    for (const t of BOUND_TABLES) sets.tables[t] = digestOf(this.db, t);
    this.writeRowSets(sets);
  }

  /** Records rows of `table` written (their MACs) and removed (their old MACs). Call inside the write transaction. */
  bindRows(table: BoundTable, added: readonly unknown[], removed: readonly unknown[]): void {
    const next = updated(this.readRowSets(), table, added, removed);
    if (this.transactionDepth > 0) this.rowSetsDirty = next;
    else this.writeRowSets(next);
  }

  /**
   * Recomputes the digests of `tables` from their rows and compares them with the
   * authenticated record: a row deleted, added or replaced by an older copy is found here.
   */
  verifyRowSets(tables: readonly BoundTable[] = BOUND_TABLES): void {
    // One read transaction: the record and the rows from one snapshot, whoever writes meanwhile.
    this.db.transaction(() => this.verifyRowSetsNow(tables))();
  }

  private verifyRowSetsNow(tables: readonly BoundTable[]): void {
    // SQLite's data_version changes only when ANOTHER connection (another process, an
    // attacker's sqlite3) commits to the file. While it stays, the tables verified at that
    // version are still as verified (this connection's own writes keep the sums current),
    // so a check per transaction costs O(1) instead of a scan of every row.
    const version = this.engine.foreignVersion();
    if (version === undefined || version !== this.verifiedVersion) {
      this.verifiedVersion = version;
      this.verifiedTables.clear();
    }
    const todo = tables.filter((t) => !this.verifiedTables.has(t));
    if (todo.length === 0) return;
    const sets = this.readRowSets();
    for (const t of todo) {
      const now = digestOf(this.db, t);
      const want = sets.tables[t];
      if (now.count !== want.count || now.sum !== want.sum) {
        const what =
          now.count < want.count
            ? `${want.count - now.count} row(s) missing`
            : now.count > want.count
              ? `${now.count - want.count} row(s) too many`
              : 'a row replaced';
        throw new HardkmsError(
          'VAULT_ROW_TAMPERED',
          `The ${t} rows of ${this.path} do not match their authenticated record (${what}; write counter ${sets.counter}): rows were deleted, added or restored from an older copy without the vault secret.`,
          {
            hint: 'Do not sign with this store. Restore wallet.dat from a backup and investigate who had write access to it.',
          },
        );
      }
      this.verifiedTables.add(t);
    }
  }

  /** Raw access for the journal and OTP modules, which own their tables. */
  get database(): SqlDatabase {
    return this.db;
  }

  /** Whether a transaction is open on this connection (PostgreSQL; wallet.dat answers false: nothing asks it there). */
  inTransaction(): boolean {
    return this.pg?.inTransaction ?? false;
  }

  /** The id this connection's journal claims carry (PostgreSQL: its liveness lock's name); undefined for wallet.dat. */
  instanceId(): string | undefined {
    return this.pg?.instanceId;
  }

  /**
   * Whether the signer whose claim id is `owner` is connected now (PostgreSQL: it holds its
   * session lock); undefined when the store cannot tell (wallet.dat: the lease decides).
   */
  claimOwnerAlive(owner: string): boolean | undefined {
    return this.pg?.instanceAlive(owner);
  }

  /**
   * For /healthz, without a query: whether the database answered its last statement (a
   * PostgreSQL store; wallet.dat is a local file and always "connected").
   */
  connection(): {
    engine: 'sqlite' | 'postgres';
    connected: boolean;
    error: string | undefined;
    since: number | undefined;
  } {
    if (this.pg !== undefined) {
      const c = this.pg.connection;
      return { engine: 'postgres', connected: c.connected, error: c.error, since: c.since };
    }
    return { engine: 'sqlite', connected: true, error: undefined, since: undefined };
  }

  /**
   * A value that changes whenever the store was written (by anyone), for caches of public
   * data (the daemon's wallet ids); undefined when no such value exists (PostgreSQL): do not cache.
   */
  changeStamp(): string | undefined {
    return this.engine.changeStamp();
  }
}

function rekeyedError(path: string): HardkmsError {
  return new HardkmsError(
    'VAULT_REKEYED',
    `${path} was re-keyed (revoke, rotate or recover) by another process after this one unsealed it.`,
    {
      hint: 'Stop this process and unseal again (restart the daemon); nothing was read or written with the old key.',
    },
  );
}

function notAStore(path: string, cause: unknown): HardkmsError {
  return new HardkmsError('VAULT_UNREADABLE', `${path} is not a hardkms wallet store: ${(cause as Error).message}.`, {
    hint: 'A Tatum KMS wallet.dat is imported with `hardkms import-legacy FILE`, not opened directly.',
  });
}

function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
