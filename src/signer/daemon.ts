/**
 * The polling loop of `hardkms daemon` (spec §1): every period, for each chain, ask the
 * API for the pending transactions of this vault's wallets of that chain and net, process
 * them (process-pending.ts; several at once, one wallet's in order: lanesOf), and send one
 * error batch for the cycle (§2.6).
 *
 * The loop runs only while the vault is unsealed. stop() lets the transactions in flight
 * finish, then the loop returns; the caller seals the vault. API failures slow the loop
 * down (Backoff); they never end it.
 */
import { HardkmsError, shownText } from '../errors.js';
import type { Vault } from '../vault/vault.js';
import { MAX_SIGNATURE_IDS, type TatumChain } from './source/tatum-paths.js';
import { isSignableChain } from './pipeline/chain-ids.js';
import { notSignedReport } from './source/chain-support.js';
import type { PendingTransaction } from './source/pending.js';
import type { Outcome, PendingProcessor } from './pipeline/process-pending.js';
import { reportText } from './observe/error-report.js';
import { Backoff } from './backoff.js';
import type { DaemonLog } from './observe/logger.js';
import type { ErrorReport, TatumClient } from './source/tatum-client.js';

interface DaemonOptions {
  /**
   * Chains polled, in order. Pending transactions of a chain hardkms does not sign are
   * reported through the error batch (one entry each), never processed or left unanswered.
   */
  chains: readonly TatumChain[];
  testnet: boolean;
  /** Milliseconds between cycles (Tatum's --period, in seconds × 1000). */
  periodMs: number;
  /** --runOnce --wallets: these ids replace the vault's ids for every chain (§1 step 3). */
  wallets?: readonly string[] | undefined;
  /** --runOnce --transactionIds: other pending ids are skipped (§1 step 5). */
  transactionIds?: readonly string[] | undefined;
  /** Metrics and health: told about every poll, transaction and cycle. */
  observer?: DaemonObserver | undefined;
  /**
   * --key-cache: a private-key wallet's key is unwrapped once per cycle (a sensitive,
   * non-extractable session object in the token) and destroyed when the cycle ends,
   * audited as keycache.destroy; without it, once per signature.
   */
  keyCache?: boolean | undefined;
  /**
   * Pending transactions processed at once (their approval calls, node fills and broadcasts
   * overlap; token signing is serialised by the one thread; their journal rows and audit
   * records commit together, step by step: step-commit.ts). Transactions of one wallet (chain,
   * signature id, index) stay in order, one at a time. Default DEFAULT_CONCURRENCY.
   */
  concurrency?: number | undefined;
}

const DEFAULT_CONCURRENCY = 16;

/**
 * Groups the pending transactions (by position) into lanes: two that share a wallet key
 * (chain, signature id, index) are in one lane, kept in the API's order, so an EVM account's
 * nonces, a UTXO wallet's inputs and a pending id seen twice are handled one after the other.
 */
export function lanesOf(pendings: readonly PendingTransaction[]): number[][] {
  const laneOf = new Map<string, number>();
  const lanes: number[][] = [];
  pendings.forEach((p, i) => {
    const keys = [`id:${p.id}`, ...p.hashes.map((h) => `${p.chain}|${h}|${p.index ?? ''}`)];
    let lane = keys.map((k) => laneOf.get(k)).find((l) => l !== undefined);
    if (lane === undefined) {
      lane = lanes.length;
      lanes.push([]);
    }
    lanes[lane]!.push(i);
    for (const k of keys) if (!laneOf.has(k)) laneOf.set(k, lane);
  });
  return lanes;
}

/** Runs each lane's items in order, at most `limit` items at a time across lanes. */
async function runLanes(lanes: number[][], limit: number, run: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < lanes.length) {
      const lane = lanes[next++]!;
      for (const i of lane) await run(i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, lanes.length)) }, worker));
}

interface DaemonObserver {
  polled(chain: string, ok: boolean, received: number): void;
  processed(chain: string, outcome: Outcome, seconds: number): void;
  cycleDone(result: CycleResult): void;
  /** A cycle stopped because the store (PostgreSQL) did not answer; the loop retries. */
  storeDown?(error: string): void;
}

/**
 * Store failures that mean "the database is away" (PostgreSQL restarted, the network cut, the
 * writer lock held too long), not "the store is wrong": the daemon signs nothing meanwhile and
 * retries. Everything else (tampering, re-keying) still stops it.
 */
const STORE_OUTAGE = new Set(['STORE_UNAVAILABLE', 'STORE_BUSY']);

function isStoreOutage(e: unknown): boolean {
  return e instanceof HardkmsError && STORE_OUTAGE.has(e.code);
}

function outageText(error: string): boolean {
  return [...STORE_OUTAGE].some((c) => error.startsWith(`${c}:`));
}

/** How often a daemon whose store is away tries again (at most; --period when shorter). */
const STORE_RETRY_MS = 2_000;

interface CycleResult {
  /** Pending transactions received (well-formed). */
  received: number;
  broadcast: number;
  skipped: number;
  /** Failed transactions, malformed entries included. */
  failed: number;
  /** Chains whose pending call failed. */
  apiFailures: number;
  errors: ErrorReport[];
  outcomes: Map<string, Outcome>;
  /** Wall-clock length of the cycle (polls, signing, error batch): a cycle longer than the period is an overrun. */
  seconds: number;
}

export class SignerDaemon {
  private stopping = false;
  private wake: (() => void) | undefined;
  private readonly backoff = new Backoff({ baseMs: 1_000, maxMs: 120_000 });
  private readonly adviceSeen = new Set<string>();
  /** Pending ids of unsigned chains already logged at warn level (later cycles log at debug). */
  private readonly reportedLogged = new Set<string>();

  constructor(
    private readonly vault: Vault,
    private readonly tatum: TatumClient,
    private readonly processor: PendingProcessor,
    private readonly options: DaemonOptions,
    private readonly log: DaemonLog,
  ) {}

  /** The ids of each chain as last read, and the store version they were read at. */
  private readonly idCache = new Map<string, { version: string; ids: readonly string[] }>();

  /**
   * Signature ids of `chain` on this net: a plain indexed read (ids are public; each row's MAC
   * is checked when it is used), repeated only when the store changed since the last read,
   * by another connection (data_version) or by this one (total_changes). Reading 25,000 ids
   * was most of an idle cycle's CPU.
   */
  walletIds(chain: string): string[] {
    if (this.options.wallets !== undefined) return [...this.options.wallets];
    const db = this.vault.store.database;
    const version = this.vault.store.changeStamp();
    const cached = this.idCache.get(chain);
    if (version !== undefined && cached?.version === version) return [...cached.ids];
    const rows = db
      .prepare('SELECT signature_id FROM wallets WHERE chain = ? AND testnet = ?')
      .all(chain, this.options.testnet ? 1 : 0) as {
      signature_id: string;
    }[];
    const ids = rows.map((r) => r.signature_id);
    if (version !== undefined) this.idCache.set(chain, { version, ids });
    return [...ids];
  }

  async runCycle(): Promise<CycleResult> {
    if (this.options.keyCache !== true) return this.cycle();
    this.vault.token.beginKeyCache();
    try {
      return await this.cycle();
    } finally {
      this.endKeyCache();
    }
  }

  /** Destroys the cycle's cached keys (a logout, e.g. at seal, has already destroyed them) and records how many. */
  private endKeyCache(): void {
    const destroyed = this.vault.token.endKeyCache();
    if (destroyed === 0 || this.vault.isSealed) return;
    try {
      this.vault.record({ event: 'keycache.destroy', subject: 'cycle', result: 'ok', details: { keys: destroyed } });
    } catch (e) {
      this.log('error', 'could not record the destruction of the cycle key cache', {
        keys: destroyed,
        error: reportText(e),
      });
    }
  }

  private async cycle(): Promise<CycleResult> {
    if (this.vault.isSealed)
      throw new HardkmsError('VAULT_SEALED', 'The vault is sealed; the daemon polls only while it is unsealed.');
    // A wallet, OTP, journal or ledger row deleted, put back or rolled back since the last
    // cycle stops the daemon (VAULT_ROW_TAMPERED) before anything is polled or signed.
    const cycleStarted = process.hrtime.bigint();
    this.vault.store.verifyRowSets();
    const result: CycleResult = {
      received: 0,
      broadcast: 0,
      skipped: 0,
      failed: 0,
      apiFailures: 0,
      errors: [],
      outcomes: new Map(),
      seconds: 0,
    };
    const work: { pending: PendingTransaction; raw: unknown }[] = [];
    for (const chain of this.options.chains) {
      if (this.stopping) break;
      const ids = this.walletIds(chain);
      if (ids.length > MAX_SIGNATURE_IDS) {
        this.log(
          'error',
          `${ids.length} wallets of ${chain}: more than the ${MAX_SIGNATURE_IDS} the API accepts per chain; chain skipped`,
          { chain },
        );
        result.apiFailures += 1;
        continue;
      }
      try {
        const fetched = await this.tatum.getPending(chain, ids);
        this.options.observer?.polled(chain, true, fetched.transactions.length + fetched.malformed.length);
        if (fetched.latestVersionAdvice !== undefined) this.versionAdvice(fetched.latestVersionAdvice);
        for (const m of fetched.malformed) {
          result.failed += 1;
          if (m.id !== undefined) result.errors.push({ signatureId: m.id, error: `TX_MALFORMED: ${m.reason}` });
          this.log('warn', 'malformed pending transaction skipped', {
            chain,
            position: m.position,
            id: m.id,
            reason: m.reason,
          });
        }
        fetched.transactions.forEach((p, i) => work.push({ pending: p, raw: fetched.raws[i] }));
      } catch (e) {
        result.apiFailures += 1;
        this.options.observer?.polled(chain, false, 0);
        this.log('warn', 'could not fetch pending transactions', { chain, error: reportText(e) });
      }
    }
    if (result.apiFailures > 0) this.backoff.failure();
    else this.backoff.success();

    const selected = work.filter(
      ({ pending }) => this.options.transactionIds === undefined || this.options.transactionIds.includes(pending.id),
    );
    const outcomes: (Outcome | undefined)[] = new Array(selected.length);
    const signable = selected.filter((w) => isSignableChain(w.pending.chain));
    if (signable.length > 0) await this.processor.prepare(signable.map((w) => w.pending.chain));
    // A processor that throws (the store re-keyed under it) ends the cycle and the daemon:
    // no further pending transaction starts, those in flight finish, then it is thrown.
    let fatal: { error: unknown } | undefined;
    await runLanes(
      lanesOf(selected.map((w) => w.pending)),
      this.options.concurrency ?? DEFAULT_CONCURRENCY,
      async (i) => {
        if (this.stopping || fatal !== undefined) return;
        const { pending, raw } = selected[i]!;
        const started = process.hrtime.bigint();
        let outcome: Outcome;
        try {
          outcome = isSignableChain(pending.chain)
            ? await this.processor.process(pending, raw)
            : this.notSigned(pending);
        } catch (error) {
          fatal ??= { error };
          return;
        }
        this.options.observer?.processed(pending.chain, outcome, Number(process.hrtime.bigint() - started) / 1e9);
        outcomes[i] = outcome;
      },
    );
    if (fatal !== undefined) throw fatal.error;
    // Counted and reported in the API's order, whatever order they finished in.
    selected.forEach(({ pending }, i) => {
      const outcome = outcomes[i];
      if (outcome === undefined) return;
      result.received += 1;
      result.outcomes.set(pending.id, outcome);
      if (outcome.kind === 'broadcast') result.broadcast += 1;
      else if (outcome.kind === 'skipped') result.skipped += 1;
      else {
        result.failed += 1;
        // The store being away says nothing about the transaction: not reported to the API (it is retried).
        if (!outageText(outcome.error)) result.errors.push({ signatureId: pending.id, error: outcome.error });
      }
    });

    if (result.errors.length > 0) {
      try {
        await this.tatum.reportErrors(result.errors);
      } catch (e) {
        this.log('warn', 'could not send the error batch', { count: result.errors.length, error: reportText(e) });
      }
    }
    result.seconds = Number(process.hrtime.bigint() - cycleStarted) / 1e9;
    this.options.observer?.cycleDone(result);
    return result;
  }

  /** A pending transaction of a chain hardkms does not sign: reported, nothing else (no key is touched). */
  private notSigned(pending: PendingTransaction): Outcome {
    const error = notSignedReport(pending.chain);
    const first = !this.reportedLogged.has(pending.id);
    this.reportedLogged.add(pending.id);
    this.log(
      first ? 'warn' : 'debug',
      'pending transaction of a chain hardkms does not sign: reported to the API, not signed',
      {
        pendingId: pending.id,
        chain: pending.chain,
      },
    );
    return { kind: 'failed', error, signed: false };
  }

  /** Polls until stop(); returns the last cycle's result. With runOnce, one cycle. */
  async run(runOnce: boolean): Promise<CycleResult | undefined> {
    let last: CycleResult | undefined;
    while (!this.stopping) {
      const started = Date.now();
      try {
        last = await this.runCycle();
      } catch (e) {
        if (runOnce || !isStoreOutage(e)) throw e;
        const error = reportText(e);
        const retryMs = Math.max(250, Math.min(this.options.periodMs, STORE_RETRY_MS));
        this.options.observer?.storeDown?.(error);
        this.log('warn', 'the store does not answer: signing nothing until it does', {
          error,
          retryInSeconds: retryMs / 1000,
        });
        await this.sleep(retryMs);
        continue;
      }
      this.log(last.failed > 0 || last.apiFailures > 0 ? 'warn' : 'debug', 'cycle done', {
        received: last.received,
        broadcast: last.broadcast,
        skipped: last.skipped,
        failed: last.failed,
        apiFailures: last.apiFailures,
      });
      if (runOnce) break;
      const wait = Math.max(0, this.backoff.nextWait(this.options.periodMs) - (Date.now() - started));
      await this.sleep(wait);
    }
    return last;
  }

  /**
   * §2.8: `x-ttm-kms-latest-version: <semver>;<LEVEL>;<message>` is Tatum's advice to Tatum
   * KMS users. Its version is Tatum KMS's, not hardkms's, so hardkms does not compare it with
   * its own; it logs the advice at warn (error when Tatum says ERROR), once per distinct value
   * per run, instead of Tatum's reminder every 30 s.
   */
  private versionAdvice(header: string): void {
    if (this.adviceSeen.has(header)) return;
    this.adviceSeen.add(header);
    const [latest, level, ...rest] = header.split(';').map((p) => p.trim());
    const message = shownText(rest.join(';'), 300);
    this.log(
      level?.toUpperCase() === 'ERROR' ? 'error' : 'warn',
      `Tatum API version advice (for Tatum KMS ${(latest ?? '').slice(0, 40)}): ${message}`,
      {
        advice: header.slice(0, 400),
      },
    );
  }

  /** Asks the loop to end after the transaction in flight. */
  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}
