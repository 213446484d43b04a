import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AuditEventName } from './events.js';
import { after, checkLine, START, type ChainPosition, type RecordFault } from './record-check.js';
import type { AuditHead } from './log.js';
import { describeProblem, keyFingerprint, publicKeyOf, verifyAuditText, type RecordProblem, type VerifyResult } from './verify.js';

/**
 * The auditor's view of a log: what verifyAuditLog proves, plus what the records say
 * happened (unseal ceremonies, unwraps, signatures, broadcasts) and what looks wrong.
 *
 * Every field of every record is attacker-controlled input here: someone who can write
 * the log file can put anything in it. Nothing below trusts a record's types, and the
 * verdict comes only from verifyAuditLog; the rest is analysis of claimed content, each
 * item carrying the verification status of the record it comes from.
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

export interface CeremonyCredential {
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

export interface Operation {
  kind: OperationKind;
  event: string;
  seq: number | null;
  line: number;
  time: string;
  actor: string;
  subject: string;
  result: string;
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

export interface AdminAction {
  event: string;
  seq: number | null;
  line: number;
  time: string;
  actor: string;
  subject: string;
  result: string;
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

export interface AnalyseInput {
  /** The exact bytes that were verified. */
  logText: string;
  verify: VerifyResult;
  publicKeyPem: string;
  head?: AuditHead | undefined;
  logPath?: string;
  generatedAt?: string;
}

export interface BuildReportOptions {
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
  const verification = verificationOf(input, lines.length, verifiedCount, recordLevelFailure, checks, records, anomalies);
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

export interface LocalCheck {
  kind?: AnomalyKind;
  problem?: string;
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
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
  if (!isObject(parsed)) return { ...base, raw: text, ...(check.problem ? { problem: check.problem } : {}) };
  const batched = parsed.signed === true && typeof parsed.batch === 'number' && parsed.batch > 0;
  return {
    ...base,
    seq: typeof parsed.seq === 'number' ? parsed.seq : null,
    time: asText(parsed.time),
    event: asText(parsed.event),
    actor: asText(parsed.actor),
    subject: asText(parsed.subject),
    result: asText(parsed.result),
    details: isObject(parsed.details) ? parsed.details : parsed.details === undefined ? {} : { value: parsed.details },
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

// ---------------------------------------------------------------- what happened

const STATUS_RANK: Record<RecordStatus, number> = { signed: 0, chained: 1, 'unsigned-tail': 2, unverified: 3, bad: 4 };

/** Records written by one process share an actor; the log appends '@<os user>' to some. */
function actorKey(actor: string): string {
  const at = actor.lastIndexOf('@');
  return at > 0 ? actor.slice(0, at) : actor;
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

const OPERATION_EVENTS: ReadonlySet<string> = new Set<AuditEventName & OperationKind>(['unwrap', 'sign', 'broadcast', 'approval', 'policy', 'secret.show']);

function operationKind(event: string): OperationKind | undefined {
  return OPERATION_EVENTS.has(event) ? (event as OperationKind) : undefined;
}

/** What changes who holds what: the report lists these apart for the auditor. */
const ADMIN_EVENTS: ReadonlySet<string> = new Set<AuditEventName>([
  'init',
  'recover',
  'seal.create',
  'gate.seal',
  'gate.enroll',
  'gate.revoke',
  'gate.rotate',
  'gate.recover',
  'wallet.generate',
  'wallet.store',
  'wallet.import',
  'wallet.list',
  'wallet.remove',
  'otp.add',
  'otp.remove',
  'otp.verify',
  'token.pin_rotated',
  'password.rotate',
  'daemon.start',
  'daemon.mainnet-override',
  'daemon.approver-override',
  'daemon.insecure-http',
]);

/**
 * Unsigned records are expected from unseal attempts (the token is not logged in yet) and
 * from `generatewallet`, which prints a fresh wallet without opening the vault (as Tatum does).
 */
function writtenWhileSealed(r: ReportRecord): boolean {
  // gate.recover is the unseal by recovery shares: it is written before the secret (and the token) is there.
  return r.event === 'unseal' || r.event === 'gate.unseal' || r.event.startsWith('gate.unseal.') || r.event === 'gate.recover' || isGenerateWallet(r);
}

/** A new wallet shown once by `generatewallet`: no stored secret is involved, so no session is needed. */
function isGenerateWallet(r: ReportRecord): boolean {
  return r.event === 'secret.show' && actorKey(r.actor) === 'cli:generatewallet' && r.subject.startsWith('generatewallet ');
}

/** This many failed unseal attempts within the window is someone trying, not a typo. */
const UNSEAL_BURST = { count: 3, windowMs: 10 * 60 * 1000 };

interface EventAnalysis {
  ceremonies: Ceremony[];
  operations: Operation[];
  admin: AdminAction[];
  anomalies: Anomaly[];
}

/** Incremental: feed() the records in log order, then finish(). `retain: false` keeps no lists of ceremonies, operations, admin actions or anomalies: a long-running watcher. */
export interface EventAnalyser {
  /** The anomalies this record raised (the record is analysed with everything fed before it). */
  feed(r: ReportRecord): Anomaly[];
  finish(): EventAnalysis;
}

/**
 * Walks the records in log order. A session of an actor runs from its token login (or
 * its init) to its next seal; several processes may hold sessions at once, so sessions
 * are counted per actor. A process killed without sealing leaves its session open; that
 * is reported (info), and later key use by the same actor then still counts as inside.
 */
function analyseEvents(records: ReportRecord[]): EventAnalysis {
  const a = eventAnalyser();
  for (const r of records) a.feed(r);
  return a.finish();
}

/**
 * Walks the records in log order (see analyseEvents): the report feeds it a whole log; the
 * daemon's anomaly watch (audit/watch.ts) feeds it each record as it is appended.
 */
export function eventAnalyser(options: { retain?: boolean } = {}): EventAnalyser {
  const retain = options.retain !== false;
  const ceremonies: Ceremony[] = [];
  const operations: Operation[] = [];
  const admin: AdminAction[] = [];
  const anomalies: Anomaly[] = [];
  const pending = new Map<string, Ceremony>();
  const open = new Map<string, Ceremony[]>();
  const lastClosed = new Map<string, { ceremony: Ceremony; line: number }>();
  const approvals = new Map<string, ReportRecord[]>();
  const signedIds = new Set<string>();

  const openSessions = (key: string): Ceremony[] => open.get(key) ?? [];
  const touch = (c: Ceremony, r: ReportRecord): void => {
    if (c.firstSeq === null) c.firstSeq = r.seq;
    c.lastSeq = r.seq;
    c.lines.push(r.line);
    if (STATUS_RANK[r.status] > STATUS_RANK[c.status]) c.status = r.status;
  };
  const newCeremony = (kind: Ceremony['kind'], r: ReportRecord): Ceremony => {
    const c: Ceremony = {
      kind,
      actor: r.actor,
      time: r.time,
      firstSeq: null,
      lastSeq: null,
      result: 'incomplete',
      provider: 'unknown',
      credentials: [],
      drivers: [],
      errors: [],
      emulatorOnMainnet: false,
      lines: [],
      status: 'signed',
    };
    if (retain) ceremonies.push(c);
    return c;
  };
  const pendingFor = (key: string, r: ReportRecord): Ceremony => {
    let c = pending.get(key);
    if (!c) {
      c = newCeremony('unseal', r);
      pending.set(key, c);
    }
    return c;
  };
  const anomaly = (r: ReportRecord, kind: AnomalyKind, severity: Severity, message: string): void => {
    anomalies.push({ kind, severity, seq: r.seq, line: r.line, message, status: r.status });
  };

  const failedUnseals: ReportRecord[] = [];
  let burstFound = false;

  const step = (r: ReportRecord): void => {
    if (r.raw !== undefined && r.seq === null) return;
    const key = actorKey(r.actor);
    const d = r.details;
    const inSession = openSessions(key).length > 0;

    if (!r.signed && (!writtenWhileSealed(r) || inSession)) {
      anomaly(
        r,
        'unsigned-record',
        'warning',
        inSession
          ? `Unsigned '${r.event}' record while ${r.actor || 'its actor'} held an unsealed session: that process signs its records, so this one was written by something else.`
          : `Unsigned '${r.event}' record: only unseal and recovery attempts are written unsigned. Only the hash chain covers it, so whoever could write the log file could have added it.`,
      );
    }

    switch (r.event) {
      case 'gate.unseal.credential':
      case 'gate.unseal.unenrolled': {
        const c = pendingFor(key, r);
        touch(c, r);
        c.provider = 'yubikey';
        const driver = str(d.driver) ?? '';
        c.credentials.push({
          seq: r.seq,
          credential: str(d.credential) ?? '',
          label: str(d.label) ?? '',
          serial: str(d.serial) ?? '',
          driver,
          result: r.event === 'gate.unseal.unenrolled' ? 'unenrolled' : r.result,
          ...(str(d.error) ? { error: str(d.error)! } : {}),
        });
        if (driver && !c.drivers.includes(driver)) c.drivers.push(driver);
        return;
      }
      case 'gate.unseal.emulator_refused': {
        const c = pendingFor(key, r);
        touch(c, r);
        c.provider = 'yubikey';
        c.errors.push('emulated YubiKey refused for a mainnet vault');
        return;
      }
      case 'gate.unseal':
      case 'unseal': {
        if (r.result === 'ok') {
          const c = pendingFor(key, r);
          touch(c, r);
          c.provider = r.event === 'gate.unseal' ? 'yubikey' : (str(d.provider) ?? 'unknown');
          if (typeof d.threshold === 'number') c.threshold = d.threshold;
          if (Array.isArray(d.drivers)) {
            for (const x of d.drivers) if (str(x) && !c.drivers.includes(str(x)!)) c.drivers.push(str(x)!);
          }
          if (d.emulatorOnMainnet === true) {
            c.emulatorOnMainnet = true;
            anomaly(
              r,
              'emulator-on-mainnet',
              'warning',
              'A mainnet vault was unsealed with emulated YubiKeys (allowed at init with --allow-emulated-yubikey).',
            );
          }
          return;
        }
        const error = str(d.error) ?? str(d.code) ?? str(d.reason) ?? r.result;
        let c = pending.get(key);
        const previous = lastClosed.get(key);
        if (!c && previous && previous.ceremony.result === 'failed' && previous.line === r.line - 1) {
          // The vault's own failure record right after the provider's: one attempt.
          c = previous.ceremony;
        }
        if (!c) c = newCeremony('unseal', r);
        touch(c, r);
        if (c.provider === 'unknown') c.provider = r.event === 'gate.unseal' ? 'yubikey' : (str(d.provider) ?? 'unknown');
        if (typeof d.threshold === 'number') c.threshold = d.threshold;
        if (!c.errors.includes(error)) c.errors.push(error);
        c.result = 'failed';
        pending.delete(key);
        lastClosed.set(key, { ceremony: c, line: r.line });
        return;
      }
      case 'token.login': {
        if (r.result !== 'ok') break;
        const c = pendingFor(key, r);
        touch(c, r);
        c.result = 'unsealed';
        c.loginSeq = r.seq;
        c.token = [r.subject, str(d.serial) ? `serial ${str(d.serial)}` : ''].filter(Boolean).join(', ');
        pending.delete(key);
        open.set(key, [...openSessions(key), c]);
        return;
      }
      case 'init': {
        if (r.result === 'ok') {
          const c = newCeremony('init', r);
          touch(c, r);
          c.result = 'unsealed';
          c.provider = str(d.provider) ?? 'unknown';
          const token = isObject(d.token) ? d.token : {};
          c.token = [str(token.label), str(token.serial) ? `serial ${str(token.serial)}` : ''].filter(Boolean).join(', ');
          open.set(key, [...openSessions(key), c]);
        }
        break;
      }
      case 'seal': {
        const sessions = openSessions(key);
        const c = sessions[sessions.length - 1];
        if (c) {
          touch(c, r);
          c.sealSeq = r.seq;
          c.sealTime = r.time;
          const reason = str(d.reason);
          if (reason) c.sealReason = reason;
          open.set(key, sessions.slice(0, -1));
        }
        return;
      }
    }

    const kind = operationKind(r.event);
    if (kind) {
      const pendingId = str(d.pendingId) ?? (kind === 'secret.show' ? undefined : str(r.subject));
      const txId = str(d.txId) ?? str(d.chainTxId) ?? str(d.txHash);
      const op: Operation = {
        kind,
        event: r.event,
        seq: r.seq,
        line: r.line,
        time: r.time,
        actor: r.actor,
        subject: r.subject,
        result: r.result,
        inSession,
        status: r.status,
        ...(pendingId ? { pendingId } : {}),
        ...(kind === 'secret.show' && r.subject ? { wallet: r.subject } : {}),
        ...(str(d.chain) ? { chain: str(d.chain)! } : {}),
        ...(str(d.rawTxHash) ? { rawTxHash: str(d.rawTxHash)! } : {}),
        ...(txId ? { txId } : {}),
        ...(typeof d.approvalRequired === 'boolean' ? { approvalRequired: d.approvalRequired } : {}),
        ...(typeof d.approved === 'boolean' ? { approved: d.approved } : {}),
      };
      if (retain) operations.push(op);
      checkOperation(op, r, approvals, signedIds, anomaly);
      return;
    }
    const overrides = safetyOverrides(r);
    if (overrides) anomaly(r, 'safety-override', 'warning', overrides);
    if (ADMIN_EVENTS.has(r.event)) {
      if (retain)
        admin.push({ event: r.event, seq: r.seq, line: r.line, time: r.time, actor: r.actor, subject: r.subject, result: r.result, status: r.status });
    }
  };

  return {
    feed(r) {
      const before = anomalies.length;
      step(r);
      // One 'unseal' failure record per attempt: the vault writes it whatever the provider.
      if (!burstFound && r.event === 'unseal' && r.result === 'fail') {
        failedUnseals.push(r);
        const n = failedUnseals.length;
        if (n >= UNSEAL_BURST.count) {
          const first = failedUnseals[n - UNSEAL_BURST.count]!;
          const span = Date.parse(r.time) - Date.parse(first.time);
          if (Number.isFinite(span) && span >= 0 && span <= UNSEAL_BURST.windowMs) {
            burstFound = true;
            anomalies.push({
              kind: 'failed-unseal-burst',
              severity: 'critical',
              seq: r.seq,
              line: r.line,
              message: `${UNSEAL_BURST.count} or more failed unseal attempts within ${UNSEAL_BURST.windowMs / 60000} minutes (records ${first.seq ?? '?'} to ${r.seq ?? '?'}): someone is trying YubiKeys, passwords or passphrases.`,
              status: r.status,
            });
          }
          if (!retain) failedUnseals.splice(0, n - UNSEAL_BURST.count + 1);
        }
      }
      const raised = anomalies.slice(before);
      if (!retain) anomalies.length = 0;
      return raised;
    },
    finish() {
      for (const c of pending.values()) c.result = 'incomplete';
      for (const sessions of open.values()) {
        for (const c of sessions) {
          anomalies.push({
            kind: 'session-not-sealed',
            severity: 'info',
            seq: c.loginSeq ?? c.firstSeq,
            line: c.lines[c.lines.length - 1] ?? null,
            message: `The session ${c.actor || 'of an unnamed actor'} opened here has no seal record: the process is still running, or it crashed or was killed.`,
            status: c.status,
          });
        }
      }
      return { ceremonies, operations, admin, anomalies };
    },
  };
}

/** The loud flags of invariant 7: each is allowed, recorded, and worth an auditor's question. */
function safetyOverrides(r: ReportRecord): string | undefined {
  const d = r.details;
  if (r.event === 'daemon.mainnet-override') {
    const reasons = Array.isArray(d.reasons) ? d.reasons.map((x) => str(x)).filter(Boolean) : [];
    return `The daemon ran mainnet with an explicit override${reasons.length ? ` (${reasons.join(', ')})` : ''}: no 4-eye approval or no YubiKey quorum.`;
  }
  if (r.event === 'daemon.approver-override') {
    return `The daemon ran mainnet with ${str(d.flag) || 'an approver override'}: ${str(d.reason) || 'the approver is not fully authenticated'}.`;
  }
  if (r.result === 'ok' && (r.event === 'gate.seal' || r.event.startsWith('gate.'))) {
    const flags = [
      d.allowEmulated === true ? 'emulated YubiKeys accepted for mainnet' : '',
      d.allowSingleOperator === true ? 'a single operator may unseal mainnet' : '',
    ].filter(Boolean);
    if (flags.length) return `The gate was sealed with ${flags.join(' and ')}.`;
  }
  return undefined;
}

function checkOperation(
  op: Operation,
  r: ReportRecord,
  approvals: Map<string, ReportRecord[]>,
  signedIds: Set<string>,
  anomaly: (r: ReportRecord, kind: AnomalyKind, severity: Severity, message: string) => void,
): void {
  const id = op.pendingId;
  if (op.kind === 'approval' && id) {
    approvals.set(id, [...(approvals.get(id) ?? []), r]);
    return;
  }
  if (op.kind === 'policy' && (r.result === 'denied' || r.result === 'fail')) {
    anomaly(r, 'policy-denial', 'warning', `The signing policy refused ${id ?? 'a transaction'}${str(r.details.reason) ? `: ${str(r.details.reason)}` : ''}.`);
    return;
  }
  if (op.result !== 'ok') return;
  if ((op.kind === 'sign' || op.kind === 'unwrap' || (op.kind === 'secret.show' && !isGenerateWallet(r))) && !op.inSession) {
    anomaly(
      r,
      'outside-session',
      'critical',
      `A '${op.event}'${op.wallet ? ` of ${op.wallet}` : ''} outside an unsealed session: no token login by ${op.actor || 'this actor'} since its last seal. Key material was used without a recorded unseal.`,
    );
  }
  if (op.kind === 'sign') {
    const history = id ? (approvals.get(id) ?? []) : [];
    const required = op.approvalRequired === true || history.some((a) => a.details.approvalRequired === true);
    const latest = history[history.length - 1];
    const approved = latest ? latest.result === 'ok' && op.approved !== false : op.approved === true;
    if (required && !approved) {
      anomaly(
        r,
        'missing-approval',
        'critical',
        latest
          ? `Signed although approval was required and the last approval record for ${id} (record ${latest.seq ?? '?'}) says '${latest.result}'.`
          : `Signed although approval was required, and nothing records an approval${id ? ` for ${id}` : ''}.`,
      );
    }
    if (id) signedIds.add(`p:${id}`);
    if (op.rawTxHash) signedIds.add(`h:${op.rawTxHash}`);
  }
  if (op.kind === 'broadcast' && (id || op.rawTxHash)) {
    const known = (id && signedIds.has(`p:${id}`)) || (op.rawTxHash && signedIds.has(`h:${op.rawTxHash}`));
    if (!known) {
      anomaly(
        r,
        'broadcast-without-signature',
        'critical',
        `A broadcast of ${id ?? op.rawTxHash} with no earlier signature record: the signature must be recorded before a signed transaction leaves the process.`,
      );
    }
  }
}

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

function sortAnomalies(list: Anomaly[]): Anomaly[] {
  return [...list].sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || (a.line ?? Infinity) - (b.line ?? Infinity));
}
