import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { userInfo } from 'node:os';
import { HardkmsError } from '../errors.js';
import { MAX_BATCH } from './record-check.js';
import { parseAuditLine } from './record-schema.js';
import { GENESIS_HASH, recordHash, recordLine, type AuditEvent, type AuditRecord } from './record.js';

export interface AuditHead {
  seq: number;
  hash: string;
}

/**
 * What an audit log needs of the store it is kept with, given once at construction (the
 * vault's store: src/vault/audit-binding.ts, storeForAudit). Whether an append is signed
 * is the log's own state (AuditLog.signWith); the store is told, it never chooses.
 */
export interface AuditLogStore {
  /**
   * Runs fn under the store's writer lock (its transaction, or nested in the caller's), so
   * that appenders across processes are serialised. `signed`: a signed append, refused
   * first when this process's key is no longer the store's (nothing appended).
   */
  withLock<T>(fn: () => T, signed: boolean): T;
  /** Records the head in the store, so that a truncated log is detected; `signed`: authenticated under the store key too. */
  setHead(head: AuditHead, signed: boolean): void;
  /**
   * The head of the store's last committed append (sealed or signed): the records up to it
   * are committed, so an incomplete line after it is an append that never committed (a
   * writer killed mid-write), which the log may cut (AuditLog, cutTornTail).
   */
  head(): AuditHead | undefined;
  /**
   * Sends the records of an append off-host (audit/forward.ts), in order, before they are
   * written locally and before the append returns; throws when the sink cannot take them,
   * which fails the action.
   */
  forward?: ((records: readonly AuditRecord[], lines: readonly string[]) => void) | undefined;
  /**
   * One trail for several instances (a PostgreSQL store, signers on several hosts): records
   * are written to the store, in the append's transaction under its writer lock, instead of
   * to the file, so every instance extends ONE chain in the lock's order; the file is this
   * host's copy of that chain, brought up to date after each append that is not nested in a
   * larger transaction (the daemon's steps: at its next such append, each cycle and at seal),
   * at unseal and by `audit verify` / `audit export`. See SharedAuditTrail.
   */
  trail?: SharedAuditTrail | undefined;
}

/** Signs a 32-byte record hash with the token's audit key. */
type AuditSigner = (hash: Buffer) => Buffer;

interface AuditLogOptions {
  /** Absent: appends run unlocked and record no head (a log checked on its own, tests). */
  store?: AuditLogStore | undefined;
  /** Signs from the first append (else from signWith()); absent while sealed. */
  signer?: AuditSigner | undefined;
  /**
   * Write the record locally even when forwarding fails (then throw): for records of
   * failures that must not be lost (a failed unseal); they are sent at the next append.
   * Ends at signWith(signer): a signed append is an action's, whose effect waits for it.
   */
  keepOnForwardFailure?: boolean | undefined;
  /** Default actor, e.g. 'cli:init'. */
  actor?: string;
}

/**
 * The records of a vault's trail kept in its store (src/vault/audit-trail.ts). The chain, the
 * token signatures and the authenticated head are what they are for the file: the store only
 * orders the instances' appends and holds the one copy every instance extends.
 */
export interface SharedAuditTrail {
  /** The last stored record's sequence number and hash; undefined when none is stored. */
  last(): AuditHead | undefined;
  /** The stored hash of record `seq`; undefined when it is not stored. */
  hashAt(seq: number): string | undefined;
  /** The stored lines of the records after `seq`, in order, each with the seq its row is stored under. */
  rowsAfter(seq: number): { seq: number; line: string }[];
  /** Stores records (inside the append's transaction). */
  insert(records: readonly { seq: number }[], lines: readonly string[]): void;
  /** The head the store names (meta audit_head_mac; its MAC is checked at unseal), for seeding. */
  head(): AuditHead | undefined;
  /** Runs fn under the store's writer lock (its own transaction, or nested in the caller's). */
  withLock<T>(fn: () => T): T;
  /** Whether a store transaction is open on this connection (then the copy is brought up to date later). */
  inTransaction(): boolean;
}

export function defaultAuditLogPath(walletPath: string): string {
  return join(dirname(walletPath), 'audit.log');
}

/** The audit key's public key lives next to the log so an auditor can verify offline. */
export function auditPublicKeyPath(logPath: string): string {
  return join(dirname(logPath), `${basename(logPath, '.log')}.pub.pem`);
}

/**
 * The file's last line (undefined when empty) and whether the file ends with a newline, read
 * through one open: an append reads both before every write.
 */
function readTail(path: string): { line: string | undefined; newline: boolean } | undefined {
  if (!existsSync(path)) return undefined;
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    let chunk = 4096;
    while (true) {
      const start = Math.max(0, size - chunk);
      const buf = Buffer.alloc(size - start);
      readSync(fd, buf, 0, buf.length, start);
      const newline = size === 0 || buf[buf.length - 1] === 0x0a;
      const text = buf.toString('utf8').replace(/\n+$/, '');
      const nl = text.lastIndexOf('\n');
      if (nl >= 0 || start === 0) return { line: (nl >= 0 ? text.slice(nl + 1) : text) || undefined, newline };
      chunk *= 4;
    }
  } finally {
    closeSync(fd);
  }
}

/** Writes all of `text` at the end of fd: writeSync may write less than asked (a full disk), and a head set after a short write would name a record the file does not hold. */
function appendAll(fd: number, text: string | Buffer): void {
  const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off);
}

/**
 * An incomplete last line (bytes after the final newline): where it starts and its bytes;
 * undefined when the file is empty or ends with a newline. A record line is far below 1 MiB;
 * a longer fragment is not a torn append and is left for `audit verify` to name.
 */
function readTornTail(fd: number): { keep: number; fragment: Buffer; before: string | undefined } | undefined {
  const size = fstatSync(fd).size;
  if (size === 0) return undefined;
  // This runs before every append: a log that ends with its newline costs a one-byte read,
  // not a 1 MiB one (about 0.3 ms of CPU per append at a few MB of log).
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  if (last[0] === 0x0a) return undefined;
  const window = Math.min(size, 1024 * 1024);
  const buf = Buffer.alloc(window);
  readSync(fd, buf, 0, window, size - window);
  const nl = buf.lastIndexOf(0x0a);
  if (nl < 0 && window < size) return undefined;
  // The last complete line, which must be in the window too (else nothing is cut).
  const prevNl = nl < 0 ? -1 : buf.lastIndexOf(0x0a, nl - 1);
  if (nl >= 0 && prevNl < 0 && window < size) return undefined;
  const before = nl < 0 ? undefined : buf.subarray(prevNl + 1, nl).toString('utf8');
  return { keep: size - window + nl + 1, fragment: Buffer.from(buf.subarray(nl + 1)), before };
}

/**
 * The record with sequence `seq` and every record after it, read from the end of the log
 * (at unseal the head is normally the last record or close to it, whatever the log's
 * size). Undefined when the log does not contain record `seq`.
 */
export function readRecordsAfter(
  path: string,
  seq: number,
): { atHead: AuditRecord; records: AuditRecord[] } | undefined {
  return fromTail(path, undefined, (lines, whole) => {
    const parsed: AuditRecord[] = [];
    for (const l of lines) {
      if (l === '') continue;
      // Not a record: an incomplete last line (a writer killed mid-append) or damage; verify names it.
      const r = parseAuditLine(l).record;
      if (r !== undefined) parsed.push(r);
    }
    if (!whole && !(parsed[0] !== undefined && parsed[0].seq <= seq)) return NEED_MORE;
    const atHead = parsed.find((r) => r.seq === seq);
    return atHead ? { atHead, records: parsed.filter((r) => r.seq > seq) } : undefined;
  });
}

/** The lines of the records after `seq`, as written, in order (read from the end of the log). */
export function linesAfter(path: string, seq: number): string[] {
  return fromTail(path, [], (lines, whole) => {
    lines.pop(); // after the final newline (or an incomplete line)
    const seqOf = (l: string): number => Number(/^\{"seq":(\d+),/.exec(l)?.[1] ?? NaN);
    if (!whole && !(seqOf(lines[0] ?? '') <= seq + 1)) return NEED_MORE;
    return lines.filter((l) => seqOf(l) > seq);
  });
}

const NEED_MORE = Symbol('need more of the log');

/**
 * Reads the log from its end in growing windows (64 KiB, then x4) until `take` has what it
 * needs: the records after a head are near the end, and a 100,000-record log is not read
 * whole for them. `take` gets the window's lines (the first, possibly cut, dropped unless
 * the window is the whole file) and answers NEED_MORE to be called with a larger window.
 */
function fromTail<T>(path: string, missing: T, take: (lines: string[], whole: boolean) => T | typeof NEED_MORE): T {
  if (!existsSync(path)) return missing;
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    for (let chunk = 64 * 1024; ; chunk *= 4) {
      const start = Math.max(0, size - chunk);
      const buf = Buffer.alloc(size - start);
      readSync(fd, buf, 0, buf.length, start);
      const lines = buf.toString('utf8').split('\n');
      if (start > 0) lines.shift(); // the first line of the window may be cut
      const got = take(lines, start === 0);
      if (got !== NEED_MORE) return got;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Append-only, hash-chained, token-signed JSON lines. Each append is fsynced before it
 * returns, and callers append before a result leaves the process, so every effect that
 * reached the outside has its record on disk.
 */
export class AuditLog {
  readonly path: string;
  private readonly store: AuditLogStore | undefined;
  private readonly actor: string | undefined;
  private signer: AuditSigner | undefined;
  private keepOnForwardFailure: boolean;

  constructor(path: string, options: AuditLogOptions = {}) {
    this.path = path;
    this.store = options.store;
    this.actor = options.actor;
    this.signer = options.signer;
    this.keepOnForwardFailure = options.keepOnForwardFailure === true;
  }

  /**
   * Once the vault is unsealed: every append signed by the token's audit key, its head
   * authenticated. undefined: chained and unsigned again (sealed, or the store re-keyed by
   * another process since this one unsealed).
   */
  signWith(signer: AuditSigner | undefined): void {
    this.signer = signer;
    if (signer !== undefined) this.keepOnForwardFailure = false;
  }

  append(event: AuditEvent): AuditRecord {
    return this.appendBatch([event])[0]!;
  }

  /**
   * Appends `events` as one batch (record format v3): chained as usual, the last record
   * token-signed and every earlier one marked as its batch's member (`batch` > 0, no own
   * signature: the last one's covers them through `prev`), forwarded together, written with
   * one write and one fsync, the head set once. One token signature and one fsync instead of
   * one per record; an effect whose record is in the batch must still wait for this to return.
   * While sealed (no signer) every record is unsigned, as single appends are.
   */
  appendBatch(events: readonly AuditEvent[]): AuditRecord[] {
    if (events.length === 0) return [];
    const store = this.store;
    const shared = store?.trail;
    const signed = this.signer !== undefined;
    const run = <T>(fn: () => T): T => (store === undefined ? fn() : store.withLock(fn, signed));
    const out = run(() => {
      const cut = this.cutTornTail();
      if (cut !== undefined) this.appendLocked([cut]);
      // The checker bounds a batch's length; a longer list (never seen in practice) is several batches.
      const records: AuditRecord[] = [];
      for (let i = 0; i < events.length; i += MAX_BATCH - 1)
        records.push(...this.appendLocked(events.slice(i, i + MAX_BATCH - 1)));
      return records;
    });
    // Committed: this host's copy gets them (and what other instances stored before them).
    if (shared !== undefined && !shared.inTransaction()) this.syncCopy();
    return out;
  }

  /**
   * A shared trail (the store's trail): appends to this host's file the records the store holds
   * after the file's last one, under the store's writer lock (so two processes of this host
   * never write the same record twice). Refuses a trail that went back or forked (AUDIT_HEAD_MISMATCH)
   * and stored rows that are not one hash chain (AUDIT_TRAIL_DIVERGES). A no-op without a shared trail.
   */
  syncCopy(): void {
    const shared = this.store?.trail;
    if (shared === undefined) return;
    shared.withLock(() => {
      const cut = this.cutTornTail();
      if (cut !== undefined) this.store!.withLock(() => this.appendLocked([cut]), this.signer !== undefined);
      const local = this.sharedTip(shared).local;
      const rows = shared.rowsAfter(local?.seq ?? 0);
      if (rows.length === 0) return;
      checkTrailChain(rows, local, `not copied to ${this.path}`);
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      const fd = openSync(this.path, 'a', 0o600);
      try {
        appendAll(fd, `${rows.map((r) => r.line).join('\n')}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    });
  }

  /**
   * The stored trail's last record, after checking that this host's copy is a prefix of it:
   * not longer (the database was rolled back, or records removed) and holding the stored
   * record at its own last seq (not another chain). A trail still empty (a store made before
   * the trail existed, or moved here by `store migrate`) is seeded from this host's copy when
   * that copy ends exactly at the head the store names. Call under the writer lock.
   */
  private sharedTip(shared: SharedAuditTrail): { tip: AuditHead | undefined; local: AuditRecord | undefined } {
    const local = this.lastRecord();
    let tip = shared.last();
    if (tip === undefined && local !== undefined) {
      const head = shared.head();
      if (head !== undefined && head.seq === local.seq && head.hash === local.hash) {
        const lines = linesAfter(this.path, 0);
        shared.insert(
          lines.map((l, i) => this.recordAt(l, i + 1)),
          lines,
        );
        tip = { seq: local.seq, hash: local.hash };
      }
    }
    const mismatch = (why: string): HardkmsError =>
      new HardkmsError('AUDIT_HEAD_MISMATCH', `The audit trail in the store ${why}.`, {
        hint: "Records were removed from the store, or the database was restored from an older backup. Do not sign until an auditor has compared the trail (`hardkms audit export`) with this host's copy and the forwarded one.",
      });
    if (local !== undefined) {
      if (tip === undefined || tip.seq < local.seq)
        throw mismatch(
          `ends at record ${tip?.seq ?? 0}, but this host's copy ${this.path} already holds record ${local.seq}`,
        );
      if (shared.hashAt(local.seq) !== local.hash)
        throw mismatch(`has another record ${local.seq} than this host's copy ${this.path} (another chain)`);
    }
    return { tip, local };
  }

  private appendLocked(events: readonly AuditEvent[]): AuditRecord[] {
    const shared = this.store?.trail;
    const last: AuditHead | undefined = shared !== undefined ? this.sharedTip(shared).tip : this.lastRecord();
    const signer = this.signer;
    const time = new Date().toISOString();
    const records: AuditRecord[] = [];
    let seq = last ? last.seq : 0;
    let prev = last ? last.hash : GENESIS_HASH;
    events.forEach((event, i) => {
      const batch = signer === undefined ? 0 : events.length - 1 - i;
      const body = {
        seq: ++seq,
        time,
        event: event.event,
        actor: event.actor ?? `${this.actor ?? 'hardkms'}@${safeUser()}`,
        subject: event.subject ?? '',
        result: event.result,
        details: event.details ?? {},
        prev,
        signed: signer !== undefined,
        batch,
      };
      const hash = recordHash(body);
      const sig = signer !== undefined && batch === 0 ? signer(Buffer.from(hash, 'hex')).toString('base64') : null;
      records.push({ ...body, hash, sig });
      prev = hash;
    });
    const lines = records.map(recordLine);
    // Off-host first: records the sink refused are not written, and their effects not done.
    let forwardError: unknown;
    try {
      this.store?.forward?.(records, lines);
    } catch (e) {
      if (!this.keepOnForwardFailure) throw e;
      forwardError = e;
    }
    if (shared !== undefined) {
      // Committed with the store transaction; this host's copy gets them once it committed.
      shared.insert(records, lines);
    } else {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      const fd = openSync(this.path, 'a', 0o600);
      try {
        appendAll(fd, `${lines.join('\n')}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    const end = records[records.length - 1]!;
    this.store?.setHead({ seq: end.seq, hash: end.hash }, signer !== undefined);
    if (forwardError !== undefined) throw forwardError;
    return records;
  }

  /**
   * Under the writer lock, before anything is appended. A last line without its newline is an
   * append a killed writer never finished (a write() can be cut between pages), or damage.
   * When every committed record is before it (the store's head is at or before the last
   * complete line; for a shared trail, the stored chain holds that line, the file being a copy
   * brought up to date after the cut), the fragment is cut: its bytes kept beside the log in
   * `<log>.torn-<seq>`, the file truncated to its last complete line, and the cut recorded
   * (`audit.tail_cut`, with the byte count and sha256) so an auditor sees it. Cutting gives
   * nobody anything: whoever can write the file could already remove records after the head
   * unseen; a committed record (the head's, or one before it) is never cut, and lastRecord
   * refuses that log as before.
   */
  private cutTornTail(): AuditEvent | undefined {
    const store = this.store;
    if (store === undefined || !existsSync(this.path)) return undefined;
    const fd = openSync(this.path, 'r+');
    try {
      const torn = readTornTail(fd);
      if (torn === undefined) return undefined;
      const last = torn.before === undefined ? undefined : parseAuditLine(torn.before).record;
      if (torn.before !== undefined && last === undefined) return undefined; // damage before the fragment
      const shared = store.trail;
      const head = store.head();
      const uncommitted =
        shared !== undefined
          ? last === undefined || shared.hashAt(last.seq) === last.hash
          : head === undefined
            ? last === undefined
            : last !== undefined && last.seq >= head.seq;
      if (!uncommitted) return undefined;
      const after = last?.seq ?? 0;
      const sha256 = createHash('sha256').update(torn.fragment).digest('hex');
      const keptIn = keepFragment(this.path, after, torn.fragment);
      ftruncateSync(fd, torn.keep);
      fsyncSync(fd);
      return {
        event: 'audit.tail_cut',
        subject: basename(this.path),
        result: 'ok',
        details: { after, bytes: torn.fragment.length, sha256, keptIn: basename(keptIn) },
      };
    } finally {
      closeSync(fd);
    }
  }

  lastRecord(): AuditRecord | undefined {
    const tail = readTail(this.path);
    const line = tail?.line;
    if (!line) return undefined;
    if (!tail.newline) {
      throw new HardkmsError(
        'AUDIT_LOG_CORRUPT',
        `The last line of ${this.path} is incomplete (no final newline); refusing to extend a damaged log.`,
        {
          hint: 'Run `hardkms audit verify` to see where the log is damaged, and restore it from a backup.',
        },
      );
    }
    const r = parseAuditLine(line).record;
    if (r !== undefined) return r;
    throw new HardkmsError(
      'AUDIT_LOG_CORRUPT',
      `The last line of ${this.path} is not an audit record; refusing to extend a damaged log.`,
      {
        hint: 'Run `hardkms audit verify` to see where the log is damaged, and restore it from a backup.',
      },
    );
  }

  /** Line `n` of this host's copy, which seeds an empty stored trail: a record, or the log is damaged. */
  private recordAt(line: string, n: number): AuditRecord {
    const parsed = parseAuditLine(line);
    if (parsed.record !== undefined) return parsed.record;
    throw new HardkmsError(
      'AUDIT_LOG_CORRUPT',
      `Line ${n} of ${this.path} is not an audit record (${parsed.problem}); refusing to copy a damaged log into the store's trail.`,
      {
        hint: 'Run `hardkms audit verify` to see where the log is damaged, and restore it from a backup.',
      },
    );
  }
}

/** The cut bytes of a torn line, durable beside the log before the log is truncated. */
function keepFragment(logPath: string, after: number, fragment: Buffer): string {
  for (let n = 0; ; n++) {
    const path = `${logPath}.torn-${after}${n === 0 ? '' : `.${n}`}`;
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw e;
    }
    try {
      appendAll(fd, fragment);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const dir = openSync(dirname(logPath), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    return path;
  }
}

/**
 * Stored rows that extend `after` (this host's last record) as one hash chain: each row under
 * its own seq, in order, each line's hash its content's, each prev the previous hash. A row
 * edited, swapped, removed or put back from another chain fails here, before it is copied.
 */
export function checkTrailChain(
  rows: readonly { seq: number; line: string }[],
  after: AuditHead | undefined,
  consequence: string,
): void {
  let seq = after?.seq ?? 0;
  let prev = after?.hash ?? GENESIS_HASH;
  for (const row of rows) {
    const bad = (why: string): HardkmsError =>
      new HardkmsError(
        'AUDIT_TRAIL_DIVERGES',
        `Record ${row.seq} of the audit trail in the store ${why}; ${consequence}.`,
        {
          hint: "Someone wrote to the audit_records table without the audit key (edited, swapped, removed or restored rows). Do not sign until an auditor has compared the trail with the hosts' copies and the forwarded one.",
        },
      );
    const parsed = parseAuditLine(row.line);
    if (parsed.record === undefined) throw bad(`is not an audit record (${parsed.problem})`);
    const r = parsed.record;
    if (row.seq !== seq + 1) throw bad(`follows record ${seq} (record ${seq + 1} is missing)`);
    if (r.seq !== row.seq) throw bad(`holds record ${String(r.seq)}`);
    if (r.prev !== prev) throw bad('does not chain to the record before it');
    // recordLine: the one byte form (no field added, reordered or re-encoded); recordHash: the content.
    if (recordLine(r) !== row.line || recordHash(r) !== r.hash) throw bad('fails its hash (its content was edited)');
    seq = r.seq;
    prev = r.hash;
  }
}

// The process's user does not change while it runs: asked once, not per record (os.userInfo()
// reads the passwd database each time, about 0.1 s of a daemon run's CPU).
let processUser: string | undefined;

function safeUser(): string {
  if (processUser === undefined) {
    try {
      processUser = userInfo().username;
    } catch {
      processUser = 'unknown';
    }
  }
  return processUser;
}
