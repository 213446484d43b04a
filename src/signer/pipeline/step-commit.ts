/**
 * Group commit of the daemon's steps. A step is what one pending transaction must make
 * durable before it goes on: journal rows (receive, claim, signature, broadcast) and the audit
 * records that describe them. Steps that arrive while the cycle is busy elsewhere (other
 * pending transactions waiting on the approver, the node or the API) are committed together,
 * at the next turn of the event loop: ONE store transaction carrying every step's rows, the
 * audit head and the forwarding bookkeeping, and ONE signed audit batch (one token signature,
 * one fsync: AuditLog.appendBatch) written inside it. The commit of a step resolves only after
 * that transaction committed, so an effect that waits for its step (a raw transaction leaving
 * the process) has its record on disk, and forwarded, first.
 *
 * Each step's rows are written in a savepoint of their own: a step that fails (another signer
 * took the claim) is rolled back and rejected alone. A failure of the batch as a whole (the
 * audit sink down, the token gone) rolls everything back and rejects every step: nothing of
 * any of them is done.
 */
import type { AuditEvent } from '../../audit/record.js';
import type { Vault } from '../../vault/vault.js';

interface Queued {
  write: (() => unknown) | undefined;
  records: (value: unknown) => readonly AuditEvent[];
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class StepCommitter {
  private queue: Queued[] = [];
  private scheduled = false;
  /** Batches committed and steps in them, for the benchmarks and the metrics. */
  readonly stats = { batches: 0, steps: 0 };

  constructor(private readonly vault: Pick<Vault, 'store' | 'recordBatch'>) {}

  /**
   * Commits `write` (journal rows; may be omitted) and the records `records` makes from its
   * result, with whatever other steps are waiting. Resolves with write's result once durable.
   */
  commit<T>(write: (() => T) | undefined, records: (value: T) => readonly AuditEvent[] = () => []): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        write,
        records: records as (value: unknown) => readonly AuditEvent[],
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Records only (no rows): e.g. the policy verdict and the unwrap, before the key is touched. */
  record(...events: AuditEvent[]): Promise<void> {
    return this.commit(undefined, () => events);
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    const store = this.vault.store;
    try {
      store.transaction(() => {
        const events: AuditEvent[] = [];
        for (const step of batch) {
          try {
            // A savepoint: a failing step leaves no row behind and does not stop the others.
            const { value, made } = store.transaction(() => {
              const v = step.write?.();
              return { value: v, made: step.records(v) };
            });
            events.push(...made);
            outcomes.push({ ok: true, value });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
        this.vault.recordBatch(events);
      });
    } catch (error) {
      for (const step of batch) step.reject(error);
      return;
    }
    this.stats.batches += 1;
    this.stats.steps += batch.length;
    batch.forEach((step, i) => {
      const o = outcomes[i]!;
      if (o.ok) step.resolve(o.value);
      else step.reject(o.error);
    });
  }
}
