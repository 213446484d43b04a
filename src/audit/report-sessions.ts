import { AUDIT_EVENTS, isAuditEventName, isEvent, type AuditEventName } from './events.js';
import type {
  AdminAction,
  Anomaly,
  AnomalyKind,
  Ceremony,
  Operation,
  OperationKind,
  RecordStatus,
  RecordPlace,
  ReportRecord,
  Severity,
} from './report-model.js';
import { isPlainObject } from '../value-kind.js';

/**
 * The report's session analysis: what the records say happened (unseal ceremonies and the
 * sessions they opened, key use, approvals, broadcasts, administration) and what looks
 * wrong in it. Claimed content only: the verdict on the bytes is verify.ts's.
 */

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

const OPERATION_EVENTS: ReadonlySet<string> = new Set<AuditEventName & OperationKind>([
  'unwrap',
  'sign',
  'broadcast',
  'approval',
  'policy',
  'secret.show',
]);

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

/** The fields every listed record (operation, admin action) shows of it. */
function recordPlace(r: ReportRecord): RecordPlace {
  return {
    event: r.event,
    seq: r.seq,
    line: r.line,
    time: r.time,
    actor: r.actor,
    subject: r.subject,
    result: r.result,
  };
}

/**
 * Unsigned records are expected from unseal attempts (the token is not logged in yet) and
 * from `generatewallet`, which prints a fresh wallet without opening the vault (as Tatum does).
 */
function writtenWhileSealed(r: ReportRecord): boolean {
  return UNSEAL_ATTEMPT_EVENTS.has(r.event) || isGenerateWallet(r);
}

/** What an unseal attempt writes before the token is logged in; gate.recover is the unseal by recovery shares. */
const UNSEAL_ATTEMPT_EVENTS: ReadonlySet<string> = new Set<AuditEventName>([
  'unseal',
  'gate.unseal',
  'gate.unseal.credential',
  'gate.unseal.emulator_refused',
  'gate.unseal.unenrolled',
  'gate.recover',
]);

/** Every gate event of the closed list: the report reads the flags the gate was sealed with from any of them (gate.seal writes them). */
const GATE_EVENTS: ReadonlySet<string> = new Set(AUDIT_EVENTS.filter((e) => e.startsWith('gate.')));

/** A new wallet shown once by `generatewallet`: no stored secret is involved, so no session is needed. */
function isGenerateWallet(r: ReportRecord): boolean {
  return (
    isEvent(r.event, 'secret.show') &&
    actorKey(r.actor) === 'cli:generatewallet' &&
    r.subject.startsWith('generatewallet ')
  );
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
export function analyseEvents(records: ReportRecord[]): EventAnalysis {
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

    switch (isAuditEventName(r.event) ? r.event : undefined) {
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
          result: isEvent(r.event, 'gate.unseal.unenrolled') ? 'unenrolled' : r.result,
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
          c.provider = isEvent(r.event, 'gate.unseal') ? 'yubikey' : (str(d.provider) ?? 'unknown');
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
        if (c.provider === 'unknown')
          c.provider = isEvent(r.event, 'gate.unseal') ? 'yubikey' : (str(d.provider) ?? 'unknown');
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
          const token = isPlainObject(d.token) ? d.token : {};
          c.token = [str(token.label), str(token.serial) ? `serial ${str(token.serial)}` : '']
            .filter(Boolean)
            .join(', ');
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
        ...recordPlace(r),
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
    if (isEvent(r.event, 'audit.tail_cut')) {
      const kept = str(d.keptIn);
      anomaly(
        r,
        'tail-cut',
        'warning',
        `an append that never finished (${typeof d.bytes === 'number' ? d.bytes : '?'} bytes after record ${typeof d.after === 'number' ? d.after : '?'}) was cut${kept ? `; its bytes are kept in ${kept}` : ''}`,
      );
    }
    const overrides = safetyOverrides(r);
    if (overrides) anomaly(r, 'safety-override', 'warning', overrides);
    if (ADMIN_EVENTS.has(r.event)) {
      if (retain) admin.push({ ...recordPlace(r), status: r.status });
    }
  };

  return {
    feed(r) {
      const before = anomalies.length;
      step(r);
      // One 'unseal' failure record per attempt: the vault writes it whatever the provider.
      if (!burstFound && isEvent(r.event, 'unseal') && r.result === 'fail') {
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
  if (isEvent(r.event, 'daemon.mainnet-override')) {
    const reasons = Array.isArray(d.reasons) ? d.reasons.map((x) => str(x)).filter(Boolean) : [];
    return `The daemon ran mainnet with an explicit override${reasons.length ? ` (${reasons.join(', ')})` : ''}: no 4-eye approval or no YubiKey quorum.`;
  }
  if (isEvent(r.event, 'daemon.approver-override')) {
    return `The daemon ran mainnet with ${str(d.flag) || 'an approver override'}: ${str(d.reason) || 'the approver is not fully authenticated'}.`;
  }
  if (r.result === 'ok' && GATE_EVENTS.has(r.event)) {
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
    anomaly(
      r,
      'policy-denial',
      'warning',
      `The signing policy refused ${id ?? 'a transaction'}${str(r.details.reason) ? `: ${str(r.details.reason)}` : ''}.`,
    );
    return;
  }
  if (op.result !== 'ok') return;
  if (
    (op.kind === 'sign' || op.kind === 'unwrap' || (op.kind === 'secret.show' && !isGenerateWallet(r))) &&
    !op.inSession
  ) {
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
