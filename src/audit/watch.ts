import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { after, checkLine, START, type ChainPosition } from './record-check.js';
import { auditPublicKeyPath } from './log.js';
import type { AuditRecord } from './record.js';
import { parseAuditLine } from './record-schema.js';
import { toReportRecord, type Anomaly } from './report-model.js';
import { eventAnalyser, type EventAnalyser } from './report-sessions.js';
import { keyFingerprint, publicKeyOf } from './verify.js';

/**
 * The audit report's anomaly checks, run on the log as it grows (`daemon --alert-webhook`):
 * every appended line is checked against the one before it (the checker `audit verify`
 * uses) and fed to the report's event analysis, so an alert names the same anomaly, with
 * the same words, as the auditor's report will.
 *
 * It starts at the log's end (what is there already is the report's business) after
 * reading the last stretch of it, so that sessions opened before the start are known and
 * their key use is not taken for use outside a session. Reading only: nothing is written.
 */

/** An anomaly as the watch raises it, with the record it is about (no details: they are the log's, not the alert's). */
export interface WatchedAnomaly extends Anomaly {
  record?: { event: string; actor: string; subject: string; time: string };
}

/** How much of the log's end is read at the start to learn the open sessions. */
const PRIME_BYTES = 1 << 20;
/** A line longer than this is not a record (the writer never makes one): reported, then skipped. */
const MAX_LINE = 1 << 20;

export class AnomalyWatch {
  private readonly key: KeyObject;
  private readonly analyser: EventAnalyser = eventAnalyser({ retain: false });
  private offset = 0;
  private carry = Buffer.alloc(0);
  private at: ChainPosition = START;
  private line = 0;
  private readonly pending: WatchedAnomaly[] = [];

  /** `expectedFingerprint`: the audit key the vault is bound to; another key beside the log is itself an anomaly. */
  constructor(
    private readonly logPath: string,
    expectedFingerprint: string | undefined,
  ) {
    const pem = readFileSync(auditPublicKeyPath(logPath), 'utf8');
    this.key = publicKeyOf(pem);
    const fp = keyFingerprint(this.key);
    if (expectedFingerprint !== undefined && fp !== expectedFingerprint.toLowerCase()) {
      this.pending.push({
        kind: 'wrong-key',
        severity: 'critical',
        seq: null,
        line: null,
        message: `The audit public key beside the log has fingerprint ${fp}, not the ${expectedFingerprint} wallet.dat is bound to: the key file was replaced.`,
      });
    }
  }

  /** Positions at the end of the log, after learning the sessions from its last stretch. */
  start(): void {
    if (!existsSync(this.logPath)) return;
    const fd = openSync(this.logPath, 'r');
    try {
      const size = fstatSync(fd).size;
      const from = Math.max(0, size - PRIME_BYTES);
      const buf = Buffer.alloc(size - from);
      readSync(fd, buf, 0, buf.length, from);
      const end = buf.lastIndexOf(0x0a);
      this.offset = end < 0 ? from : from + end + 1;
      let lines = end < 0 ? [] : buf.subarray(0, end).toString('utf8').split('\n');
      // A cut first line is not a record: start after it.
      if (from > 0) lines = lines.slice(1);
      this.line = from === 0 ? lines.length : Number.NaN;
      let last: AuditRecord | undefined;
      for (const l of lines) {
        const { record, json } = parseAuditLine(l);
        if (!json) continue;
        last = record;
        this.analyser.feed(toReportRecord(l, 0, {}));
      }
      // The next record must follow the last one: the checker's own position after it.
      if (last !== undefined) this.at = after({ record: last }, START);
    } finally {
      closeSync(fd);
    }
  }

  /** What the lines appended since the last poll raised (critical and lesser ones alike). */
  poll(): WatchedAnomaly[] {
    const out = this.pending.splice(0);
    if (!existsSync(this.logPath)) return out;
    const fd = openSync(this.logPath, 'r');
    let chunk: Buffer;
    try {
      const size = fstatSync(fd).size;
      if (size < this.offset) {
        out.push({
          kind: 'truncated',
          severity: 'critical',
          seq: null,
          line: null,
          message: `The audit log shrank from ${this.offset} to ${size} bytes while the daemon ran: records were removed.`,
        });
        // Watch on from the new end: one alert for the cut, not one per record after it.
        this.offset = 0;
        this.carry = Buffer.alloc(0);
        this.at = START;
        this.line = Number.NaN;
        return [...out, ...this.resync(fd, size)];
      }
      chunk = Buffer.alloc(size - this.offset);
      readSync(fd, chunk, 0, chunk.length, this.offset);
      this.offset = size;
    } finally {
      closeSync(fd);
    }
    const data = Buffer.concat([this.carry, chunk]);
    const end = data.lastIndexOf(0x0a);
    this.carry = end < 0 ? data : data.subarray(end + 1);
    if (this.carry.length > MAX_LINE) this.carry = Buffer.alloc(0);
    if (end < 0) return out;
    for (const text of data.subarray(0, end).toString('utf8').split('\n')) out.push(...this.check(text));
    return out;
  }

  private resync(fd: number, size: number): WatchedAnomaly[] {
    const buf = Buffer.alloc(size);
    readSync(fd, buf, 0, size, 0);
    const end = buf.lastIndexOf(0x0a);
    this.offset = end + 1;
    const lines = end < 0 ? [] : buf.subarray(0, end).toString('utf8').split('\n');
    const last = lines.length > 0 ? parseAuditLine(lines[lines.length - 1]!).record : undefined;
    if (last !== undefined) this.at = after({ record: last }, START);
    return [];
  }

  private check(text: string): WatchedAnomaly[] {
    this.line += 1;
    const line = Number.isFinite(this.line) ? this.line : null;
    const c = checkLine(text, this.at, this.key);
    this.at = after(c, this.at);
    const r = toReportRecord(text, line ?? 0, c.fault ? { kind: c.fault, problem: c.problem! } : {});
    if (c.fault === undefined) r.status = r.signed ? 'signed' : 'chained';
    const record = r.seq === null ? undefined : { event: r.event, actor: r.actor, subject: r.subject, time: r.time };
    const out: WatchedAnomaly[] = [];
    if (c.fault !== undefined) {
      out.push({
        kind: c.fault,
        severity: 'critical',
        seq: r.seq,
        line,
        message: `Verification fails here: ${c.problem}.`,
        status: 'bad',
        ...(record ? { record } : {}),
      });
    }
    for (const a of this.analyser.feed(r)) out.push({ ...a, line, ...(record ? { record } : {}) });
    return out;
  }
}
