import { createHash } from 'node:crypto';
import type { AuditEventName } from './events.js';

type AuditResult = 'ok' | 'fail' | 'denied' | 'info';

/** What a caller says about an event; the log adds sequence, time, chain and signature. */
export interface AuditEvent {
  event: AuditEventName;
  /** Who did it: 'cli:<command>', 'daemon', 'gate', … plus the OS user. */
  actor?: string;
  /** What it was done to: a signature id, a pending tx id, a credential id, the vault. */
  subject?: string;
  result: AuditResult;
  /** Non-secret details: driver names, counts, tx hashes, reasons. Never keys or PINs. */
  details?: Record<string, unknown>;
}

export interface AuditRecord {
  seq: number;
  time: string;
  event: string;
  actor: string;
  subject: string;
  result: AuditResult;
  details: Record<string, unknown>;
  /** Hash of the previous record; 64 zeros for the first. */
  prev: string;
  /**
   * Whether a token signature belongs to this record. Committed in the hash (and so in the
   * chain), so that a signed record cannot be passed off as one written while sealed by
   * deleting its `sig`. Absent only in records written before this field existed.
   */
  signed?: boolean;
  /**
   * Record format v3 (batched signatures): how many records follow this one in the batch it
   * was written with; 0 for the batch's last record, the one that carries the token
   * signature. That signature covers the whole batch through the hash chain (each record's
   * `prev`), so a member (batch > 0) has `sig` null and `signed` true. A batch is written
   * with one write and one fsync. Absent in records written before v3 (each signed alone).
   */
  batch?: number;
  /** sha256 of the canonical encoding of every field above. */
  hash: string;
  /**
   * ECDSA P-256 signature (r ‖ s, base64) by the token's audit key over `hash`; null for
   * records written while the vault was sealed (no PIN, so no token login). Such records
   * are still chained: the next signed record covers them.
   */
  sig: string | null;
}

export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted at every depth: one byte string per record content. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value)
    .filter(([, v]: [string, unknown]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function recordBody(r: Omit<AuditRecord, 'hash' | 'sig'>): Buffer {
  return Buffer.from(canonicalJson(bodyFields(r)), 'utf8');
}

/** The hashed fields, in line order (the line adds hash and sig after them). */
function bodyFields(r: Omit<AuditRecord, 'hash' | 'sig'>): Record<string, unknown> {
  return {
    seq: r.seq,
    time: r.time,
    event: r.event,
    actor: r.actor,
    subject: r.subject,
    result: r.result,
    details: r.details,
    prev: r.prev,
    ...(r.signed === undefined ? {} : { signed: r.signed }),
    ...(r.batch === undefined ? {} : { batch: r.batch }),
  };
}

/** The one byte form of a record line: fields in this order, JSON.stringify's encoding. */
export function recordLine(r: AuditRecord): string {
  return JSON.stringify({
    ...bodyFields(r),
    hash: r.hash,
    sig: r.sig,
  });
}

export function recordHash(r: Omit<AuditRecord, 'hash' | 'sig'>): string {
  return createHash('sha256').update(recordBody(r)).digest('hex');
}
