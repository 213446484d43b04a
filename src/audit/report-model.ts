import type { RecordFault } from './record-check.js';
import type { RecordProblem } from './verify.js';
import { isPlainObject } from '../value-kind.js';

/**
 * The audit report's model: what the report says about a log, record by record and as a
 * whole, and how one log line becomes a report record. Every field of every record is
 * attacker-controlled input here (see report.ts): nothing below trusts a record's types.
 */

/**
 * signed: chained, and its own token signature verifies, or (a member of a signed batch,
 *   record format v3) the signature of its batch's last record, which follows it, covers it.
 * chained: unsigned (written while sealed), but a later signed record covers its content.
 * unsigned-tail: unsigned and chained, but no signed record follows it yet.
 * bad: the first record verification fails on.
 * unverified: after the first bad record; the chain no longer vouches for it.
 */
export type RecordStatus = 'signed' | 'chained' | 'unsigned-tail' | 'bad' | 'unverified';

export interface ReportRecord {
  /** 1-based line in the log file. */
  line: number;
  seq: number | null;
  time: string;
  event: string;
  actor: string;
  subject: string;
  result: string;
  details: Record<string, unknown>;
  /** Written by an unsealed process: it has a signature, or is a member of a signed batch (v3). */
  signed: boolean;
  /** A member of a signed batch (v3: `batch` > 0): no signature of its own, the batch's last record's covers it. */
  batched?: boolean;
  status: RecordStatus;
  /** For the bad record: why. For later records: what the local re-check found, if anything. */
  problem?: string;
  /** The line itself when it is not a record at all. */
  raw?: string;
}

interface CeremonyCredential {
  seq: number | null;
  credential: string;
  label: string;
  serial: string;
  driver: string;
  /** ok | fail | unenrolled */
  result: string;
  error?: string;
}

/** One attempt to open the vault (or its creation), and the session it opened. */
export interface Ceremony {
  kind: 'unseal' | 'init';
  actor: string;
  time: string;
  firstSeq: number | null;
  lastSeq: number | null;
  /** unsealed: the token login followed; failed: an unseal failure was recorded; incomplete: neither. */
  result: 'unsealed' | 'failed' | 'incomplete';
  /** yubikey | password | the provider named at init | unknown */
  provider: string;
  threshold?: number;
  credentials: CeremonyCredential[];
  drivers: string[];
  errors: string[];
  emulatorOnMainnet: boolean;
  token?: string;
  loginSeq?: number | null;
  sealSeq?: number | null;
  sealTime?: string;
  sealReason?: string;
  /** Lines of the records that make up the ceremony, for links. */
  lines: number[];
  /** Worst verification status among those records. */
  status: RecordStatus;
}

export type OperationKind = 'unwrap' | 'sign' | 'broadcast' | 'approval' | 'policy' | 'secret.show';

/** Which record it is and what it says, as every listed record (operation, admin action) shows it. */
export interface RecordPlace {
  event: string;
  seq: number | null;
  line: number;
  time: string;
  actor: string;
  subject: string;
  result: string;
}

export interface Operation extends RecordPlace {
  kind: OperationKind;
  pendingId?: string;
  /** The wallet (signature id) a secret.show revealed, or what it names ('all wallets', 'generatewallet ETH'). */
  wallet?: string;
  chain?: string;
  rawTxHash?: string;
  txId?: string;
  approvalRequired?: boolean;
  approved?: boolean;
  /** An unsealed session of the same actor was open when this record was written. */
  inSession: boolean;
  status: RecordStatus;
}

export interface AdminAction extends RecordPlace {
  status: RecordStatus;
}

/** What a record's check can find (record-check.ts), and what only the whole log or the session analysis shows. */
export type AnomalyKind =
  | RecordFault
  | 'incomplete-line'
  | 'unsigned-tail'
  | 'truncated'
  | 'head-mismatch'
  | 'noted-head'
  | 'wrong-key'
  | 'verification-failed'
  | 'outside-session'
  | 'missing-approval'
  | 'broadcast-without-signature'
  | 'unsigned-record'
  | 'emulator-on-mainnet'
  | 'safety-override'
  | 'tail-cut'
  | 'session-not-sealed'
  | 'policy-denial'
  | 'failed-unseal-burst';

export type Severity = 'critical' | 'warning' | 'info';

export interface Anomaly {
  kind: AnomalyKind;
  severity: Severity;
  seq: number | null;
  line: number | null;
  message: string;
  /** Status of the record it is about; findings on unverified records are hints, not proof. */
  status?: RecordStatus;
  /** Found by re-checking records after the first verification failure. */
  afterFailure?: boolean;
}

export interface ReportVerification {
  ok: boolean;
  /** Lines in the log (records or not). */
  lines: number;
  /** Records that verified before the first problem (all of them when ok). */
  verified: number;
  signed: number;
  unsignedTail: number;
  headChecked: boolean;
  firstProblem?: RecordProblem & { kind: AnomalyKind; text: string };
}

export interface AuditReport {
  generatedAt: string;
  logPath: string;
  /** sha256 of the audit public key (SPKI DER), to compare with the one held off-host. */
  publicKeyFingerprint: string;
  verification: ReportVerification;
  counts: {
    records: number;
    signed: number;
    chained: number;
    unsignedTail: number;
    bad: number;
    unverified: number;
    ceremonies: number;
    unseals: number;
    failedUnseals: number;
    signatures: number;
    unwraps: number;
    broadcasts: number;
    critical: number;
    warning: number;
    info: number;
  };
  ceremonies: Ceremony[];
  operations: Operation[];
  admin: AdminAction[];
  anomalies: Anomaly[];
  records: ReportRecord[];
}

export interface LocalCheck {
  kind?: AnomalyKind;
  problem?: string;
}

export function toReportRecord(text: string, line: number, check: LocalCheck): ReportRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const base: ReportRecord = {
    line,
    seq: null,
    time: '',
    event: '',
    actor: '',
    subject: '',
    result: '',
    details: {},
    signed: false,
    status: 'unverified',
  };
  if (!isPlainObject(parsed)) return { ...base, raw: text, ...(check.problem ? { problem: check.problem } : {}) };
  const batched = parsed.signed === true && typeof parsed.batch === 'number' && parsed.batch > 0;
  return {
    ...base,
    seq: typeof parsed.seq === 'number' ? parsed.seq : null,
    time: asText(parsed.time),
    event: asText(parsed.event),
    actor: asText(parsed.actor),
    subject: asText(parsed.subject),
    result: asText(parsed.result),
    details: isPlainObject(parsed.details)
      ? parsed.details
      : parsed.details === undefined
        ? {}
        : { value: parsed.details },
    signed: (parsed.sig !== null && parsed.sig !== undefined) || batched,
    ...(batched ? { batched } : {}),
    ...(check.problem ? { problem: check.problem } : {}),
    ...(typeof parsed.seq === 'number' ? {} : { raw: text }),
  };
}

function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  return JSON.stringify(v);
}
