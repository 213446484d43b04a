import { createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GENESIS_HASH, recordBody, recordHash, type AuditRecord } from './record.js';
import type { AuditHead } from './log.js';

export interface RecordProblem {
  seq: number | null;
  line: number;
  problem: string;
}

export interface VerifyResult {
  ok: boolean;
  records: number;
  signed: number;
  /** Unsigned records after the last signed one: chained, but nothing signs them yet. */
  unsignedTail: number;
  /** The first problem found; verification stops there because the chain is broken. */
  firstProblem?: RecordProblem;
  lastSeq: number;
  lastHash: string;
}

export interface VerifyOptions {
  /** PEM of the audit public key (audit.pub.pem, or one the auditor holds independently). */
  publicKeyPem: string;
  /** The head recorded in wallet.dat, to detect truncation. */
  head?: AuditHead | undefined;
}

/**
 * Offline verification: needs the log and the audit public key, not the token, the
 * vault secret or hardkms's own state. An auditor can reimplement it from this file alone.
 */
export function verifyAuditLog(path: string, options: VerifyOptions): VerifyResult {
  const key: KeyObject = createPublicKey(options.publicKeyPem);
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  let signed = 0;
  let unsignedTail = 0;
  const result = (problem?: RecordProblem): VerifyResult => ({
    ok: problem === undefined,
    records: expectedSeq - 1,
    signed,
    unsignedTail,
    ...(problem ? { firstProblem: problem } : {}),
    lastSeq: expectedSeq - 1,
    lastHash: prevHash,
  });
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let rec: AuditRecord;
    try {
      rec = JSON.parse(lines[i]!) as AuditRecord;
    } catch {
      return result({ seq: null, line: lineNo, problem: 'not valid JSON (edited or partially written)' });
    }
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) return result({ seq: null, line: lineNo, problem: 'is not an audit record object' });
    if (typeof rec.seq !== 'number') return result({ seq: null, line: lineNo, problem: 'has no sequence number' });
    if (rec.seq !== expectedSeq) {
      return result({
        seq: rec.seq,
        line: lineNo,
        problem:
          rec.seq > expectedSeq
            ? `sequence jumps from ${expectedSeq - 1} to ${rec.seq}: records were deleted`
            : `sequence goes back to ${rec.seq} after ${expectedSeq - 1}: records were reordered or duplicated`,
      });
    }
    if (rec.prev !== prevHash) {
      return result({
        seq: rec.seq,
        line: lineNo,
        problem: 'its prev hash does not match the record before it: a record before it was changed, removed or reordered',
      });
    }
    const { hash, sig, ...body } = rec;
    if (recordHash(body) !== hash) {
      return result({ seq: rec.seq, line: lineNo, problem: 'its content does not match its hash: the record was edited' });
    }
    if (sig === null || sig === undefined) {
      unsignedTail++;
    } else {
      const good = verifySignature('sha256', recordBody(body), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig, 'base64'));
      if (!good) return result({ seq: rec.seq, line: lineNo, problem: 'its signature does not verify with the audit public key' });
      signed++;
      unsignedTail = 0;
    }
    prevHash = hash;
    expectedSeq++;
  }
  const head = options.head;
  if (head && head.seq > expectedSeq - 1) {
    return result({
      seq: expectedSeq - 1,
      line: lines.length,
      problem: `the log ends at record ${expectedSeq - 1} but wallet.dat says record ${head.seq} was written: the log was truncated`,
    });
  }
  if (head && head.seq >= 1) {
    const atHead = JSON.parse(lines[head.seq - 1]!) as AuditRecord;
    if (atHead.hash !== head.hash) {
      return result({ seq: head.seq, line: head.seq, problem: 'does not match the head recorded in wallet.dat: the log was replaced' });
    }
  }
  return result();
}

export function describeProblem(p: RecordProblem): string {
  return p.seq === null ? `line ${p.line}: ${p.problem}` : `record ${p.seq} (line ${p.line}): ${p.problem}`;
}
