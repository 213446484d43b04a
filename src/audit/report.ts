import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, checkLine, START, type ChainPosition } from './record-check.js';
import type { AuditHead } from './log.js';
import {
  toReportRecord,
  type Anomaly,
  type AnomalyKind,
  type AuditReport,
  type LocalCheck,
  type RecordStatus,
  type ReportRecord,
  type ReportVerification,
  type Severity,
} from './report-model.js';
import { analyseEvents } from './report-sessions.js';
import {
  describeProblem,
  keyFingerprint,
  publicKeyOf,
  verifyAuditText,
  type RecordProblem,
  type VerifyResult,
} from './verify.js';

/**
 * The auditor's view of a log: what verifyAuditLog proves, plus what the records say
 * happened (unseal ceremonies, unwraps, signatures, broadcasts) and what looks wrong.
 *
 * Every field of every record is attacker-controlled input here: someone who can write
 * the log file can put anything in it. Nothing below trusts a record's types, and the
 * verdict comes only from verifyAuditLog; the rest is analysis of claimed content, each
 * item carrying the verification status of the record it comes from.
 *
 * Three files: report-model.ts (the report's types, and a log line as a report record),
 * report-sessions.ts (the session analysis: ceremonies, key use, anomalies of content)
 * and this one, the summary: the verdict, each record's status and the counts.
 */

interface AnalyseInput {
  /** The exact bytes that were verified. */
  logText: string;
  verify: VerifyResult;
  publicKeyPem: string;
  head?: AuditHead | undefined;
  logPath?: string;
  generatedAt?: string;
}

interface BuildReportOptions {
  logPath: string;
  publicKeyPem: string;
  head?: AuditHead | undefined;
  notedHead?: AuditHead | undefined;
  fingerprint?: string | undefined;
  generatedAt?: string;
}

/** Reads the log once and verifies exactly those bytes (a running daemon may append meanwhile). */
export function buildAuditReport(options: BuildReportOptions): AuditReport {
  const logText = readFileSync(options.logPath, 'utf8');
  const verify = verifyAuditText(logText, {
    publicKeyPem: options.publicKeyPem,
    head: options.head,
    notedHead: options.notedHead,
    fingerprint: options.fingerprint,
  });
  return analyseAuditLog({
    logText,
    verify,
    publicKeyPem: options.publicKeyPem,
    head: options.head,
    logPath: options.logPath,
    ...(options.generatedAt ? { generatedAt: options.generatedAt } : {}),
  });
}

/** Pure: the report for a log's text and the result of verifying exactly that text. */
export function analyseAuditLog(input: AnalyseInput): AuditReport {
  const key = publicKeyOf(input.publicKeyPem);
  const lines = splitLines(input.logText);
  const checks = localChecks(lines, key);
  const records = lines.map((text, i) => toReportRecord(text, i + 1, checks[i]!));

  const verifiedCount = Math.min(input.verify.records, lines.length);
  const fault = input.verify.firstProblem?.fault;
  const wholeLog =
    fault === 'wrong-key' ||
    fault === 'unsigned-tail' ||
    fault === 'incomplete-line' ||
    fault === 'truncated' ||
    fault === 'head-mismatch' ||
    fault === 'noted-head';
  const recordLevelFailure = !input.verify.ok && !wholeLog && verifiedCount < lines.length;
  assignStatuses(records, verifiedCount, recordLevelFailure);

  const anomalies: Anomaly[] = [];
  const verification = verificationOf(
    input,
    lines.length,
    verifiedCount,
    recordLevelFailure,
    checks,
    records,
    anomalies,
  );
  if (recordLevelFailure) {
    for (let i = verifiedCount + 1; i < lines.length; i++) {
      const c = checks[i]!;
      if (!c.kind) continue;
      anomalies.push({
        kind: c.kind,
        severity: 'critical',
        seq: records[i]!.seq,
        line: i + 1,
        message: `${c.problem} (found re-checking after the first failure)`,
        status: 'unverified',
        afterFailure: true,
      });
    }
  }

  const semantic = analyseEvents(records);
  anomalies.push(...semantic.anomalies);

  const count = (s: RecordStatus): number => records.filter((r) => r.status === s).length;
  const bySeverity = (s: Severity): number => anomalies.filter((a) => a.severity === s).length;
  const ops = semantic.operations;
  return {
    generatedAt: input.generatedAt ?? new Date().toISOString(),
    logPath: input.logPath ?? '',
    publicKeyFingerprint: keyFingerprint(key),
    verification,
    counts: {
      records: records.length,
      signed: count('signed'),
      chained: count('chained'),
      unsignedTail: count('unsigned-tail'),
      bad: count('bad'),
      unverified: count('unverified'),
      ceremonies: semantic.ceremonies.length,
      unseals: semantic.ceremonies.filter((c) => c.result === 'unsealed').length,
      failedUnseals: semantic.ceremonies.filter((c) => c.result === 'failed').length,
      signatures: ops.filter((o) => o.kind === 'sign' && o.result === 'ok').length,
      unwraps: ops.filter((o) => o.kind === 'unwrap' && o.result === 'ok').length,
      broadcasts: ops.filter((o) => o.kind === 'broadcast' && o.result === 'ok').length,
      critical: bySeverity('critical'),
      warning: bySeverity('warning'),
      info: bySeverity('info'),
    },
    ceremonies: semantic.ceremonies,
    operations: ops,
    admin: semantic.admin,
    anomalies: sortAnomalies(anomalies),
    records,
  };
}

// ---------------------------------------------------------------- verification

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * Each record checked against its predecessor only, with the checker verify uses. Before
 * the first failure this agrees with verify; after it, it shows whether the damage is
 * local (one edited record) or everything since is suspect.
 */
function localChecks(lines: string[], key: KeyObject): LocalCheck[] {
  let at: ChainPosition = START;
  return lines.map((text) => {
    const check = checkLine(text, at, key);
    at = after(check, at);
    return check.fault ? { kind: check.fault, problem: check.problem! } : {};
  });
}

function assignStatuses(records: ReportRecord[], verifiedCount: number, recordLevelFailure: boolean): void {
  let signedAfter = false;
  for (let i = verifiedCount - 1; i >= 0; i--) {
    const r = records[i]!;
    // A batch member is signed by its batch's last record, so only when that record follows.
    r.status = r.signed && (r.batched !== true || signedAfter) ? 'signed' : signedAfter ? 'chained' : 'unsigned-tail';
    if (r.signed && r.batched !== true) signedAfter = true;
  }
  if (recordLevelFailure) {
    records[verifiedCount]!.status = 'bad';
    for (let i = verifiedCount + 1; i < records.length; i++) records[i]!.status = 'unverified';
  }
}

function verificationOf(
  input: AnalyseInput,
  lineCount: number,
  verifiedCount: number,
  recordLevelFailure: boolean,
  checks: LocalCheck[],
  records: ReportRecord[],
  anomalies: Anomaly[],
): ReportVerification {
  const v = input.verify;
  const base: ReportVerification = {
    ok: v.ok,
    lines: lineCount,
    verified: verifiedCount,
    signed: v.signed,
    unsignedTail: v.unsignedTail,
    headChecked: input.head !== undefined,
  };
  if (v.ok) return base;
  const problem: RecordProblem = v.firstProblem ?? { seq: null, line: lineCount, problem: 'verification failed' };
  let kind: AnomalyKind;
  if (recordLevelFailure) {
    kind = checks[verifiedCount]?.kind ?? 'verification-failed';
    const bad = records[verifiedCount]!;
    bad.problem = problem.problem;
  } else if (problem.fault && problem.fault !== 'malformed-record') {
    kind = problem.fault as AnomalyKind;
  } else {
    kind = 'verification-failed';
  }
  const text = describeProblem(problem);
  anomalies.push({
    kind,
    // An unsigned tail is normal for a moment (written while sealed, countersigned at the
    // next unseal); it is worth a look, not an alarm.
    severity: kind === 'unsigned-tail' ? 'warning' : 'critical',
    seq: problem.seq,
    line: recordLevelFailure ? verifiedCount + 1 : null,
    message: recordLevelFailure
      ? `Verification fails here: ${problem.problem}. Every later record is unverified.`
      : `The log as a whole fails verification: ${problem.problem}.`,
    status: recordLevelFailure ? 'bad' : undefined,
  });
  return { ...base, firstProblem: { ...problem, kind, text } };
}

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

function sortAnomalies(list: Anomaly[]): Anomaly[] {
  return [...list].sort(
    (a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || (a.line ?? Infinity) - (b.line ?? Infinity),
  );
}
