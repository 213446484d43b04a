import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HardkmsError, InputError } from '../errors.js';
import { after, checkLine, START, type RecordFault } from './record-check.js';
import { GENESIS_HASH } from './record.js';
import type { AuditHead } from './log.js';

export interface RecordProblem {
  seq: number | null;
  line: number;
  problem: string;
  /** What kind of damage: a record's own fault, or one of the log as a whole. */
  fault?:
    RecordFault | 'unsigned-tail' | 'incomplete-line' | 'truncated' | 'head-mismatch' | 'noted-head' | 'wrong-key';
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
  /** sha256 of the audit public key (SPKI DER) the signatures were checked with. */
  keyFingerprint: string;
}

interface VerifyOptions {
  /** PEM of the audit public key (audit.pub.pem, or one the auditor holds independently). */
  publicKeyPem: string;
  /** The head recorded in wallet.dat, to detect truncation. */
  head?: AuditHead | undefined;
  /** A head the auditor noted earlier (or took from a forwarded copy): the log must still contain it. */
  notedHead?: AuditHead | undefined;
  /** The audit key fingerprint the auditor wrote down at init: the key must be that one. */
  fingerprint?: string | undefined;
}

export function publicKeyOf(pem: string): KeyObject {
  try {
    return createPublicKey(pem);
  } catch {
    throw new HardkmsError('AUDIT_PUBKEY_INVALID', 'The audit public key is not a valid PEM public key.', {
      hint: 'Pass --pubkey with the audit.pub.pem exported at init (or the copy you hold off-host).',
    });
  }
}

/** SHA-256 of the key's SubjectPublicKeyInfo DER, in hex: what init prints for the auditor. */
export function keyFingerprint(pem: string | KeyObject): string {
  const key = typeof pem === 'string' ? publicKeyOf(pem) : pem;
  return createHash('sha256')
    .update(key.export({ format: 'der', type: 'spki' }))
    .digest('hex');
}

/** SEQ:HASH, as `audit verify --head` takes it and `audit verify` prints it. */
export function parseHead(text: string): AuditHead {
  const m = /^(\d+):([0-9a-f]{64})$/.exec(text.trim());
  if (!m || !Number.isSafeInteger(Number(m[1])) || Number(m[1]) < 1) {
    throw new InputError(
      `'${text}' is not a head of the form SEQ:HASH (a record number, a colon, 64 hex digits).`,
      'Copy the "head" that `hardkms audit verify` printed when you last checked the log.',
    );
  }
  return { seq: Number(m[1]), hash: m[2]! };
}

/**
 * Offline verification: needs the log and the audit public key, not the token, the
 * vault secret or hardkms's own state. An auditor can reimplement it from this file and
 * record-check.ts alone.
 */
export function verifyAuditLog(path: string, options: VerifyOptions): VerifyResult {
  return verifyAuditText(readFileSync(path, 'utf8'), options);
}

export function verifyAuditText(text: string, options: VerifyOptions): VerifyResult {
  const key = publicKeyOf(options.publicKeyPem);
  const fingerprint = keyFingerprint(key);
  const lines = text.split('\n');
  const complete = lines[lines.length - 1] === '';
  if (complete) lines.pop();
  const hashes: string[] = [];
  let at = START;
  let signed = 0;
  let unsignedTail = 0;
  let lastSeq = 0;
  let lastHash = GENESIS_HASH;
  const result = (problem?: RecordProblem): VerifyResult => ({
    ok: problem === undefined,
    records: lastSeq,
    signed,
    unsignedTail,
    ...(problem ? { firstProblem: problem } : {}),
    lastSeq,
    lastHash,
    keyFingerprint: fingerprint,
  });
  if (options.fingerprint !== undefined && options.fingerprint.toLowerCase() !== fingerprint) {
    return result({
      seq: null,
      line: 0,
      fault: 'wrong-key',
      problem: `the audit public key used has fingerprint ${fingerprint}, not the ${options.fingerprint.toLowerCase()} you hold: the key beside the log was replaced`,
    });
  }
  for (let i = 0; i < lines.length; i++) {
    const check = checkLine(lines[i]!, at, key);
    if (check.fault)
      return result({ seq: check.record?.seq ?? null, line: i + 1, problem: check.problem!, fault: check.fault });
    const rec = check.record!;
    if (rec.sig === null) unsignedTail++;
    else {
      signed++;
      unsignedTail = 0;
    }
    hashes.push(rec.hash);
    lastSeq = rec.seq;
    lastHash = rec.hash;
    at = after(check, at);
  }
  if (!complete && lines.length > 0) {
    return result({
      seq: lastSeq,
      line: lines.length,
      fault: 'incomplete-line',
      problem: 'the last line has no final newline: it was cut or is still being written',
    });
  }
  for (const [head, whose] of [
    [options.head, 'wallet.dat says'],
    [options.notedHead, 'your noted head says'],
  ] as const) {
    if (!head) continue;
    const fault = whose === 'wallet.dat says' ? ('truncated' as const) : ('noted-head' as const);
    if (head.seq > lastSeq) {
      return result({
        seq: lastSeq,
        line: lines.length,
        fault,
        problem: `the log ends at record ${lastSeq} but ${whose} record ${head.seq} was written: the log was truncated or rolled back`,
      });
    }
    if (head.seq >= 1 && hashes[head.seq - 1] !== head.hash) {
      return result({
        seq: head.seq,
        line: head.seq,
        fault: whose === 'wallet.dat says' ? 'head-mismatch' : 'noted-head',
        problem: `does not match the head ${whose === 'wallet.dat says' ? 'recorded in wallet.dat' : 'you noted'}: the log was replaced or rolled back`,
      });
    }
  }
  if (unsignedTail > 0) {
    return result({
      seq: lastSeq - unsignedTail + 1,
      line: lines.length - unsignedTail + 1,
      fault: 'unsigned-tail',
      problem: `${unsignedTail === 1 ? 'this record is' : `this and the next ${unsignedTail - 1} records are`} unsigned and no signed record covers ${unsignedTail === 1 ? 'it' : 'them'} yet: written while sealed (countersigned at the next unseal), or appended by someone who can write the file`,
    });
  }
  return result();
}

export function describeProblem(p: RecordProblem): string {
  if (p.line === 0) return p.problem;
  return p.seq === null ? `line ${p.line}: ${p.problem}` : `record ${p.seq} (line ${p.line}): ${p.problem}`;
}
