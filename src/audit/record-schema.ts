/**
 * What a line of audit.log must be to count as a record, as one valibot schema: the checker
 * (record-check.ts) and every reader of the log (`audit log`, withdrawals, the daemon's
 * watcher) take records through it, never through `JSON.parse(line) as AuditRecord`.
 *
 * The reasons are the checker's verdict texts ("has an unknown result"): they describe
 * the line, never repeat what it holds, and are unchanged from before the schema.
 */
import { check, isPlainObject, v } from '../validate.js';
import type { AuditRecord } from './record.js';

const KEYS_V1 = ['seq', 'time', 'event', 'actor', 'subject', 'result', 'details', 'prev', 'hash', 'sig'];
const KEYS_V2 = ['seq', 'time', 'event', 'actor', 'subject', 'result', 'details', 'prev', 'signed', 'hash', 'sig'];
/** v3: `batch` (records after this one in its signed batch) after `signed`. */
const KEYS_V3 = [
  'seq',
  'time',
  'event',
  'actor',
  'subject',
  'result',
  'details',
  'prev',
  'signed',
  'batch',
  'hash',
  'sig',
];
/** A batch is at most this long (the writer flushes sooner): a bound for the checker, not a format rule an attacker could use. */
export const MAX_BATCH = 100_000;

/** Exactly one format's fields, in the order hardkms writes them (a reordered line is not hardkms's). */
function hasRecordKeys(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value);
  const expected = 'batch' in value ? KEYS_V3 : 'signed' in value ? KEYS_V2 : KEYS_V1;
  return keys.length === expected.length && keys.every((k, i) => k === expected[i]);
}

const text = (k: string) => v.string(`has a non-text '${k}'`);
const count = (ok: (n: number) => boolean, why: string) =>
  v.custom<number>((n) => typeof n === 'number' && Number.isSafeInteger(n) && ok(n), why);

/** One audit record, formats v1 to v3; the output is a fresh object with the line's fields in line order. */
const auditRecord = v.pipe(
  v.custom<Record<string, unknown>>(isPlainObject, 'is not an audit record object'),
  v.check(hasRecordKeys, 'does not have exactly the fields of an audit record, in order'),
  v.strictObject({
    seq: count((n) => n >= 1, 'has no valid sequence number'),
    time: text('time'),
    event: text('event'),
    actor: text('actor'),
    subject: text('subject'),
    result: v.picklist(['ok', 'fail', 'denied', 'info'], 'has an unknown result'),
    details: v.custom<Record<string, unknown>>(isPlainObject, 'has details that are not an object'),
    prev: text('prev'),
    signed: v.optional(v.boolean("has a 'signed' field that is not true or false")),
    batch: v.optional(count((n) => n >= 0 && n < MAX_BATCH, "has a 'batch' field that is not a record count")),
    hash: text('hash'),
    sig: v.nullable(v.string('has a signature that is neither text nor null')),
  }),
) satisfies v.GenericSchema<unknown, AuditRecord>;

/** The record a parsed line holds, or why it holds none (a verdict text, without the line's content). */
export function auditRecordOf(parsed: unknown): AuditRecord | string {
  const r = check(auditRecord, parsed);
  return r.ok ? r.value : r.issue.message;
}

/** `json`: the line is JSON (its problem is its shape), not torn or edited into something else. */
type AuditLine =
  { record: AuditRecord; problem?: undefined; json: true } | { record?: undefined; problem: string; json: boolean };

/** One line of audit.log: its record, or why it is none ('not valid JSON …' for a torn or edited line). */
export function parseAuditLine(line: string): AuditLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { problem: 'not valid JSON (edited or partially written)', json: false };
  }
  const record = auditRecordOf(parsed);
  return typeof record === 'string' ? { problem: record, json: true } : { record, json: true };
}

/**
 * The record's time for a syslog header or a status line, read without judging the rest of
 * the line (a newer record format still has its time): an ISO 8601 UTC time, else none.
 */
const timed = v.looseObject({
  event: v.optional(v.string()),
  time: v.pipe(v.string(), v.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/)),
});

export function auditLineTime(line: string): { event: string | undefined; time: string } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  const r = check(timed, parsed);
  return r.ok ? { event: r.value.event, time: r.value.time } : undefined;
}
