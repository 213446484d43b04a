import { closeSync, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { userInfo } from 'node:os';
import { HardkmsError } from '../errors.js';
import { MAX_BATCH } from './record-check.js';
import { GENESIS_HASH, recordHash, recordLine, type AuditEvent, type AuditRecord } from './record.js';

export interface AuditHead {
  seq: number;
  hash: string;
}

export interface AuditLogOptions {
  /** Signs a 32-byte record hash with the token's audit key; absent while sealed. */
  signer?: ((hash: Buffer) => Buffer) | undefined;
  /**
   * Serialises appenders across processes (the store's write transaction) and records
   * the head in wallet.dat, so that a truncated log is detected.
   */
  withLock?: (<T>(fn: () => T) => T) | undefined;
  setHead?: ((head: AuditHead, record: AuditRecord) => void) | undefined;
  /**
   * Sends the records of an append off-host (audit/forward.ts), in order, before they are
   * written locally and before the append returns; throws when the sink cannot take them,
   * which fails the action.
   */
  forward?: ((records: readonly AuditRecord[], lines: readonly string[]) => void) | undefined;
  /**
   * Write the record locally even when forwarding fails (then throw): for records of
   * failures that must not be lost (a failed unseal); they are sent at the next append.
   */
  keepOnForwardFailure?: boolean | undefined;
  /** Default actor, e.g. 'cli:init'. */
  actor?: string;
}

export function defaultAuditLogPath(walletPath: string): string {
  return join(dirname(walletPath), 'audit.log');
}

/** The audit key's public key lives next to the log so an auditor can verify offline. */
export function auditPublicKeyPath(logPath: string): string {
  return join(dirname(logPath), `${basename(logPath, '.log')}.pub.pem`);
}

/** Reads the last complete line of a file without reading the whole file. */
export function readLastLine(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    let chunk = 4096;
    while (true) {
      const start = Math.max(0, size - chunk);
      const buf = Buffer.alloc(size - start);
      readSync(fd, buf, 0, buf.length, start);
      const text = buf.toString('utf8').replace(/\n+$/, '');
      const nl = text.lastIndexOf('\n');
      if (nl >= 0 || start === 0) return (nl >= 0 ? text.slice(nl + 1) : text) || undefined;
      chunk *= 4;
    }
  } finally {
    closeSync(fd);
  }
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
      try {
        const r = JSON.parse(l) as AuditRecord;
        if (r !== null && typeof r === 'object' && typeof r.seq === 'number') parsed.push(r);
      } catch {
        // an incomplete last line (a writer killed mid-append) or damage: verify names it
      }
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
  private options: AuditLogOptions;

  constructor(path: string, options: AuditLogOptions = {}) {
    this.path = path;
    this.options = options;
  }

  /** Attaches the token signer and the store once the vault is unsealed (or detaches them). */
  configure(options: Partial<AuditLogOptions>): void {
    this.options = { ...this.options, ...options };
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
    const run = this.options.withLock ?? (<T>(fn: () => T): T => fn());
    return run(() => {
      // The checker bounds a batch's length; a longer list (never seen in practice) is several batches.
      const records: AuditRecord[] = [];
      for (let i = 0; i < events.length; i += MAX_BATCH - 1)
        records.push(...this.appendLocked(events.slice(i, i + MAX_BATCH - 1)));
      return records;
    });
  }

  private appendLocked(events: readonly AuditEvent[]): AuditRecord[] {
    const last = this.lastRecord();
    const signer = this.options.signer;
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
        actor: event.actor ?? `${this.options.actor ?? 'hardkms'}@${safeUser()}`,
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
      this.options.forward?.(records, lines);
    } catch (e) {
      if (!this.options.keepOnForwardFailure) throw e;
      forwardError = e;
    }
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const fd = openSync(this.path, 'a', 0o600);
    try {
      writeSync(fd, `${lines.join('\n')}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const end = records[records.length - 1]!;
    this.options.setHead?.({ seq: end.seq, hash: end.hash }, end);
    if (forwardError !== undefined) throw forwardError;
    return records;
  }

  lastRecord(): AuditRecord | undefined {
    const line = readLastLine(this.path);
    if (!line) return undefined;
    if (!endsWithNewline(this.path)) {
      throw new HardkmsError(
        'AUDIT_LOG_CORRUPT',
        `The last line of ${this.path} is incomplete (no final newline); refusing to extend a damaged log.`,
        {
          hint: 'Run `hardkms audit verify` to see where the log is damaged, and restore it from a backup.',
        },
      );
    }
    try {
      return JSON.parse(line) as AuditRecord;
    } catch {
      throw new HardkmsError(
        'AUDIT_LOG_CORRUPT',
        `The last line of ${this.path} is not an audit record; refusing to extend a damaged log.`,
        {
          hint: 'Run `hardkms audit verify` to see where the log is damaged, and restore it from a backup.',
        },
      );
    }
  }
}

function endsWithNewline(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return true;
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    return b[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
