import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The daemon's Prometheus metrics; one registry per daemon so tests can run several. */
export class DaemonMetrics {
  readonly registry = new Registry();
  readonly polls = new Counter({
    name: 'hardkms_polls_total',
    help: 'Poll requests to the pending-transaction API',
    labelNames: ['chain', 'result'],
    registers: [this.registry],
  });
  readonly pendingSeen = new Counter({
    name: 'hardkms_pending_seen_total',
    help: 'Pending transactions received',
    labelNames: ['chain'],
    registers: [this.registry],
  });
  readonly signed = new Counter({ name: 'hardkms_signed_total', help: 'Transactions signed', labelNames: ['chain'], registers: [this.registry] });
  readonly broadcast = new Counter({ name: 'hardkms_broadcast_total', help: 'Transactions broadcast', labelNames: ['chain'], registers: [this.registry] });
  readonly failed = new Counter({
    name: 'hardkms_failed_total',
    help: 'Pending transactions that failed',
    labelNames: ['chain', 'reason'],
    registers: [this.registry],
  });
  readonly signLatency = new Histogram({
    name: 'hardkms_sign_seconds',
    help: 'Time to sign one transaction (key resolution, token operations, assembly)',
    labelNames: ['chain'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly keysLeftAlive = new Counter({
    name: 'hardkms_session_keys_not_destroyed_total',
    help: 'Session keys whose C_DestroyObject failed (each is an incident: the key lives until the session closes)',
    registers: [this.registry],
  });
  readonly unsealed = new Gauge({ name: 'hardkms_unsealed', help: '1 while the vault is unsealed', registers: [this.registry] });
  readonly auditRecords = new Gauge({ name: 'hardkms_audit_records', help: 'Records in the audit log (its head sequence number)', registers: [this.registry] });
  readonly lastPoll = new Gauge({ name: 'hardkms_last_poll_timestamp_seconds', help: 'End of the last poll cycle', registers: [this.registry] });
  // What docker/prometheus/alerts.yml alerts on, beside the counters above.
  readonly unsealFailures = new Counter({
    name: 'hardkms_unseal_failures_total',
    help: 'Failed unseal attempts of the daemon (a quorum not met yet included), by error code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly broadcastFailures = new Counter({
    name: 'hardkms_broadcast_failures_total',
    help: 'Signed transactions the broadcast refused or did not take (sent again next cycle)',
    labelNames: ['chain'],
    registers: [this.registry],
  });
  readonly cycleSeconds = new Gauge({ name: 'hardkms_cycle_seconds', help: 'Duration of the last poll cycle', registers: [this.registry] });
  readonly periodSeconds = new Gauge({ name: 'hardkms_period_seconds', help: 'The configured poll period (--period)', registers: [this.registry] });
}

/** The error code a failure outcome starts with ("POLICY_VIOLATION: …" → POLICY_VIOLATION), for a bounded label set. */
export function failureReason(error: string): string {
  const m = /^([A-Z][A-Z0-9_]{2,40})\b/.exec(error);
  return m ? m[1]! : 'OTHER';
}
