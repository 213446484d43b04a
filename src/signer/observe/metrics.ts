import type * as Prom from 'prom-client';

/**
 * The daemon's Prometheus metrics; one registry per daemon so tests can run several. Built
 * only when something serves them (--metrics-addr): prom-client costs about 0.1 s of CPU to
 * load, a tenth of a `--runOnce`; without a server the daemon counts into NO_METRICS.
 */
export class DaemonMetrics {
  static async create(): Promise<DaemonMetrics> {
    // prom-client is CommonJS: its module.exports is the default export under Node's loader (the
    // CLI bundle leaves it external, scripts/bundle.mjs) and would be the only one in a bundle chunk.
    const prom = (await import('prom-client')).default as typeof Prom;
    return new DaemonMetrics(prom);
  }

  readonly registry: Prom.Registry;
  readonly polls: Prom.Counter<'chain' | 'result'>;
  readonly pendingSeen: Prom.Counter<'chain'>;
  readonly signed: Prom.Counter<'chain'>;
  readonly broadcast: Prom.Counter<'chain'>;
  readonly failed: Prom.Counter<'chain' | 'reason'>;
  readonly signLatency: Prom.Histogram<'chain'>;
  readonly keysLeftAlive: Prom.Counter<string>;
  readonly unsealed: Prom.Gauge<string>;
  readonly auditRecords: Prom.Gauge<string>;
  readonly lastPoll: Prom.Gauge<string>;
  readonly unsealFailures: Prom.Counter<'code'>;
  readonly broadcastFailures: Prom.Counter<'chain'>;
  readonly cycleSeconds: Prom.Gauge<string>;
  readonly periodSeconds: Prom.Gauge<string>;
  // Several signers on one store (docs/runbook.md "Running several signers").
  readonly claimsTaken: Prom.Counter<string>;
  readonly claimsExpired: Prom.Counter<string>;
  readonly claimsLost: Prom.Counter<string>;
  readonly claimsHeld: Prom.Gauge<string>;
  readonly storeConnected: Prom.Gauge<string>;
  readonly storeOutages: Prom.Counter<string>;

  private constructor(prom: typeof Prom) {
    this.registry = new prom.Registry();
    this.polls = new prom.Counter({
      name: 'hardkms_polls_total',
      help: 'Poll requests to the pending-transaction API',
      labelNames: ['chain', 'result'],
      registers: [this.registry],
    });
    this.pendingSeen = new prom.Counter({
      name: 'hardkms_pending_seen_total',
      help: 'Pending transactions received',
      labelNames: ['chain'],
      registers: [this.registry],
    });
    this.signed = new prom.Counter({
      name: 'hardkms_signed_total',
      help: 'Transactions signed',
      labelNames: ['chain'],
      registers: [this.registry],
    });
    this.broadcast = new prom.Counter({
      name: 'hardkms_broadcast_total',
      help: 'Transactions broadcast',
      labelNames: ['chain'],
      registers: [this.registry],
    });
    this.failed = new prom.Counter({
      name: 'hardkms_failed_total',
      help: 'Pending transactions that failed',
      labelNames: ['chain', 'reason'],
      registers: [this.registry],
    });
    this.signLatency = new prom.Histogram({
      name: 'hardkms_sign_seconds',
      help: 'Time to sign one transaction (key resolution, token operations, assembly)',
      labelNames: ['chain'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    this.keysLeftAlive = new prom.Counter({
      name: 'hardkms_session_keys_not_destroyed_total',
      help: 'Session keys whose C_DestroyObject failed (each is an incident: the key lives until the session closes)',
      registers: [this.registry],
    });
    this.unsealed = new prom.Gauge({
      name: 'hardkms_unsealed',
      help: '1 while the vault is unsealed',
      registers: [this.registry],
    });
    this.auditRecords = new prom.Gauge({
      name: 'hardkms_audit_records',
      help: 'Records in the audit log (its head sequence number)',
      registers: [this.registry],
    });
    this.lastPoll = new prom.Gauge({
      name: 'hardkms_last_poll_timestamp_seconds',
      help: 'End of the last poll cycle',
      registers: [this.registry],
    });
    this.unsealFailures = new prom.Counter({
      name: 'hardkms_unseal_failures_total',
      help: 'Failed unseal attempts of the daemon (a quorum not met yet included), by error code',
      labelNames: ['code'],
      registers: [this.registry],
    });
    this.broadcastFailures = new prom.Counter({
      name: 'hardkms_broadcast_failures_total',
      help: 'Signed transactions the broadcast refused or did not take (sent again next cycle)',
      labelNames: ['chain'],
      registers: [this.registry],
    });
    this.cycleSeconds = new prom.Gauge({
      name: 'hardkms_cycle_seconds',
      help: 'Duration of the last poll cycle',
      registers: [this.registry],
    });
    this.periodSeconds = new prom.Gauge({
      name: 'hardkms_period_seconds',
      help: 'The configured poll period (--period)',
      registers: [this.registry],
    });
    this.claimsTaken = new prom.Counter({
      name: 'hardkms_claims_taken_total',
      help: 'Pending transactions this instance claimed (the journal claim before a key is unwrapped, or before a re-broadcast)',
      registers: [this.registry],
    });
    this.claimsExpired = new prom.Counter({
      name: 'hardkms_claims_expired_total',
      help: 'Claims of other instances taken over because their lease had ended or their connection was gone (that instance died or stalled)',
      registers: [this.registry],
    });
    this.claimsLost = new prom.Counter({
      name: 'hardkms_claims_lost_total',
      help: 'Claims of this instance another one took over before the signature was recorded (the signature was discarded, never broadcast)',
      registers: [this.registry],
    });
    this.claimsHeld = new prom.Gauge({
      name: 'hardkms_claims_held',
      help: 'Pending transactions this instance has claimed and not yet signed, failed or released',
      registers: [this.registry],
    });
    this.storeConnected = new prom.Gauge({
      name: 'hardkms_store_connected',
      help: '1 while the store answered its last statement (PostgreSQL; wallet.dat is always 1)',
      registers: [this.registry],
    });
    this.storeOutages = new prom.Counter({
      name: 'hardkms_store_unavailable_total',
      help: 'Poll cycles stopped because the store did not answer (nothing is signed until it does)',
      registers: [this.registry],
    });
  }
}

/** What the daemon updates: a DaemonMetrics, or NO_METRICS. */
export type MetricsSink = Omit<DaemonMetrics, 'registry'>;

const ignored = { inc: () => undefined, set: () => undefined, observe: () => undefined } as unknown as Prom.Counter &
  Prom.Gauge &
  Prom.Histogram;

/** Counts nothing: for a daemon without /metrics. */
export const NO_METRICS: MetricsSink = {
  polls: ignored,
  pendingSeen: ignored,
  signed: ignored,
  broadcast: ignored,
  failed: ignored,
  signLatency: ignored,
  keysLeftAlive: ignored,
  unsealed: ignored,
  auditRecords: ignored,
  lastPoll: ignored,
  unsealFailures: ignored,
  broadcastFailures: ignored,
  cycleSeconds: ignored,
  periodSeconds: ignored,
  claimsTaken: ignored,
  claimsExpired: ignored,
  claimsLost: ignored,
  claimsHeld: ignored,
  storeConnected: ignored,
  storeOutages: ignored,
};

/** The error code a failure outcome starts with ("POLICY_VIOLATION: …" → POLICY_VIOLATION), for a bounded label set. */
export function failureReason(error: string): string {
  const m = /^([A-Z][A-Z0-9_]{2,40})\b/.exec(error);
  return m ? m[1]! : 'OTHER';
}
