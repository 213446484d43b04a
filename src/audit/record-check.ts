import { verify as verifySignature, type KeyObject } from 'node:crypto';
import { GENESIS_HASH, recordBody, recordHash, recordLine, type AuditRecord } from './record.js';
import { parseAuditLine } from './record-schema.js';

export { MAX_BATCH } from './record-schema.js';

/**
 * The one check of one audit log line against the record before it, shared by
 * `audit verify` and the report so that both give the same verdict on the same bytes.
 */

export type RecordFault =
  | 'malformed-record'
  | 'sequence-gap'
  | 'sequence-reorder'
  | 'broken-chain'
  | 'edited-record'
  | 'bad-signature'
  | 'signature-stripped'
  | 'downgraded-record'
  | 'broken-batch';

export interface ChainPosition {
  /** The seq the next record must have; undefined when the previous line was unreadable. */
  expectedSeq: number | undefined;
  prevHash: string | undefined;
  /** A record with the committed `signed` field was seen: older-format records may not follow. */
  committedSigned: boolean;
  /**
   * Records still to come in the current signed batch (format v3): the next record must be
   * that batch's next member. 0 outside a batch.
   */
  batchLeft: number;
}

interface LineCheck {
  record?: AuditRecord;
  fault?: RecordFault;
  problem?: string;
}

export const START: ChainPosition = { expectedSeq: 1, prevHash: GENESIS_HASH, committedSigned: false, batchLeft: 0 };

/** A P-256 r ‖ s signature is 64 bytes: 86 base64 characters and '=='. */
const SIG_B64 = /^[A-Za-z0-9+/]{86}==$/;

/** Only the one encoding of a 64-byte value: no padding tricks, no ignored characters. */
function canonicalSignature(sig: string): Buffer | undefined {
  if (!SIG_B64.test(sig)) return undefined;
  const raw = Buffer.from(sig, 'base64');
  return raw.length === 64 && raw.toString('base64') === sig ? raw : undefined;
}

/** Checks one line; `at` is where the chain stands before it. Pure: the caller advances. */
export function checkLine(text: string, at: ChainPosition, key: KeyObject): LineCheck {
  const { record, problem } = parseAuditLine(text);
  if (record === undefined) return { fault: 'malformed-record', problem };
  if (recordLine(record) !== text) {
    return {
      record,
      fault: 'edited-record',
      problem: 'is not in the one byte form hardkms writes: the line was edited',
    };
  }
  if (at.expectedSeq !== undefined && record.seq !== at.expectedSeq) {
    return record.seq > at.expectedSeq
      ? {
          record,
          fault: 'sequence-gap',
          problem: `sequence jumps from ${at.expectedSeq - 1} to ${record.seq}: records were deleted`,
        }
      : {
          record,
          fault: 'sequence-reorder',
          problem: `sequence goes back to ${record.seq} after ${at.expectedSeq - 1}: records were reordered or duplicated`,
        };
  }
  if (at.prevHash !== undefined && record.prev !== at.prevHash) {
    return {
      record,
      fault: 'broken-chain',
      problem:
        'its prev hash does not match the record before it: a record before it was changed, removed or reordered',
    };
  }
  const { hash, sig, ...body } = record;
  if (recordHash(body) !== hash)
    return { record, fault: 'edited-record', problem: 'its content does not match its hash: the record was edited' };
  if (record.signed === undefined && at.committedSigned) {
    return {
      record,
      fault: 'downgraded-record',
      problem: "has no committed 'signed' field after records that have one: it was rewritten in the older format",
    };
  }
  if (record.signed === false && sig !== null)
    return { record, fault: 'bad-signature', problem: 'carries a signature although it says it was written unsigned' };
  const batch = record.batch ?? 0;
  if (at.batchLeft > 0 && (record.batch === undefined || batch !== at.batchLeft - 1)) {
    return {
      record,
      fault: 'broken-batch',
      problem: `the signed batch before it expected ${at.batchLeft} more record(s), and this one is not its next member: records of the batch were removed or replaced`,
    };
  }
  if ((batch > 0 || at.batchLeft > 0) && record.signed !== true) {
    return { record, fault: 'broken-batch', problem: 'is a member of a signed batch but says it was written unsigned' };
  }
  if (batch > 0) {
    // A batch member: the signature of the batch's last record covers it through the chain.
    if (sig !== null)
      return {
        record,
        fault: 'bad-signature',
        problem: "carries a signature of its own although its batch's last record signs it",
      };
    return { record };
  }
  if (record.signed === true && sig === null) {
    return { record, fault: 'signature-stripped', problem: 'was written signed, but its signature was removed' };
  }
  if (sig !== null) {
    const raw = canonicalSignature(sig);
    if (!raw)
      return {
        record,
        fault: 'bad-signature',
        problem: 'its signature is not the canonical base64 of a 64-byte P-256 signature',
      };
    if (!verifySignature('sha256', recordBody(body), { key, dsaEncoding: 'ieee-p1363' }, raw)) {
      return { record, fault: 'bad-signature', problem: 'its signature does not verify with the audit public key' };
    }
  }
  return { record };
}

/** Where the chain stands after a line: its own seq and hash, whatever the verdict (the report re-checks on). */
export function after(check: LineCheck, at: ChainPosition): ChainPosition {
  const r = check.record;
  if (!r) return { expectedSeq: undefined, prevHash: undefined, committedSigned: at.committedSigned, batchLeft: 0 };
  return {
    expectedSeq: r.seq + 1,
    prevHash: r.hash,
    committedSigned: at.committedSigned || r.signed !== undefined,
    batchLeft: r.batch ?? 0,
  };
}
