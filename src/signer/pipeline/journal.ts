/**
 * The signing journal in wallet.dat: one row per pending transaction id, moving
 * received → approved → signed → broadcast, or failed. Every transition is a durable
 * SQLite commit made BEFORE the step's effect leaves the process, so after a crash or
 * kill -9 the row says what may have reached the outside:
 *
 * - a row with `raw_tx` was signed: it is never signed again; the SAME raw transaction is
 *   re-broadcast (re-sending identical bytes is harmless: the node answers "already known");
 * - a row without `raw_tx` (received, approved, or failed before signing) has produced no
 *   signature, so processing it again is safe.
 *
 * `payload_hash` binds the row to what was signed: the same id coming back with another
 * payload after signing is refused. Beside the journal, `journal_spend` keeps what each
 * signed transaction moved, so the policy can sum a rolling 24 h window from the journal.
 *
 * Both tables are MAC'd row by row and bound as sets (src/vault/row-set.ts): a row edited,
 * deleted (so that a broadcast id is signed again, or a refused amount fits the 24 h
 * limit) or restored from an older copy is VAULT_ROW_TAMPERED, never a fresh start.
 *
 * Two daemons on one wallet.dat: a row is claimed (claim, claimed_at) inside the writer
 * lock before any key is unwrapped; the other daemon sees the claim and skips the id.
 */
import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { HardkmsError } from '../../errors.js';
import { canonicalJson } from '../../audit/record.js';
import { journalRowMac, spendRowMac, type JournalDbRow, type SpendDbRow } from '../../vault/journal-rows.js';
import type { WalletStore } from '../../vault/store.js';
import type { PendingTransaction } from '../source/pending.js';
import { isNeverMinable } from '../sinks/never-minable.js';

export type JournalState = 'received' | 'approved' | 'signed' | 'broadcast' | 'failed';

export interface JournalRow {
  pendingId: string;
  chain: string;
  state: JournalState;
  payloadHash: string;
  rawTx: string | undefined;
  rawTxHash: string | undefined;
  chainTxId: string | undefined;
  error: string | undefined;
  created: string;
  updated: string;
  /** Which signer holds the row while it signs, and since when. */
  claim: string | undefined;
  claimedAt: string | undefined;
}

/** One amount a signed transaction moved, for the rolling policy limits. */
export interface SpendRecord {
  /** 'chain' or `wallet:<signatureId>`. */
  scope: string;
  /** 'native', or the token contract / asset id (lowercase for EVM). */
  asset: string;
  amount: bigint;
}

/** What a claim found: ours now, another signer's (live), or already signed. */
export type ClaimResult = 'claimed' | 'taken' | 'signed';

/** The store parts the journal uses (a WalletStore). */
export type JournalStore = Pick<WalletStore, 'database' | 'transaction' | 'macOf' | 'bindRows' | 'verifyRowSets'> &
  Partial<Pick<WalletStore, 'instanceId' | 'claimOwnerAlive'>>;

/** A claim older than this is a signer that died before signing (nothing left it): it may be taken over. */
export const CLAIM_LEASE_MS = 120_000;

/**
 * A live signer's claim on a SIGNED row holds at least this long, whatever the lease: its
 * broadcast ends (accepted, refused, or the HTTP client's 30 s deadline) well within it, and
 * a second sender meanwhile would be a second accepted broadcast of the id. A short lease
 * (--claim-lease) still frees the claims of signers that stall before signing.
 */
export const BROADCAST_HOLD_MS = 60_000;

/**
 * A DEAD signer's claim on a signed row is taken over only this long after it was taken:
 * the broadcast request it sent just before it died may still be in Tatum's hands, and
 * `GET /v3/kms/{id}` (asked before the re-broadcast) shows it only once Tatum has answered it.
 */
export const IN_FLIGHT_GRACE_MS = 5_000;

/**
 * What happened to a claim of this signer, for /metrics: taken (a pending id claimed), expired
 * (taken over from another signer whose lease had ended: it died or stalled), lost (another
 * signer took ours over before we recorded the signature, which was discarded).
 */
export type ClaimEvent = 'taken' | 'expired' | 'lost';

interface JournalOptions {
  /** How long a claim holds before another signer may take it over (--claim-lease). */
  leaseMs?: number | undefined;
  onClaim?: ((event: ClaimEvent) => void) | undefined;
}

/** sha256 of the canonical JSON of what defines a pending transaction (txId, which the server adds later, excluded). */
export function payloadHash(p: PendingTransaction): string {
  const { txId: _txId, ...defining } = p;
  return createHash('sha256').update(canonicalJson(defining), 'utf8').digest('hex');
}

/** sha256 (hex) of a signed raw transaction as broadcast (hex, 0x-hex or TRON JSON text). */
export function rawTxHash(rawTx: string): string {
  return createHash('sha256').update(rawTx, 'utf8').digest('hex');
}

type Fields = Omit<JournalDbRow, 'mac'>;

export class Journal {
  private readonly store: JournalStore;
  private readonly now: () => Date;
  /** This signer's claim id: its store connection's instance id (PostgreSQL), else one per process. */
  readonly owner: string;
  readonly leaseMs: number;
  private readonly onClaim: ((event: ClaimEvent) => void) | undefined;
  /** Pending ids this signer claimed and has not signed, failed or released yet (/healthz). */
  private readonly held = new Set<string>();

  constructor(store: JournalStore, now: () => Date = () => new Date(), options: JournalOptions = {}) {
    this.store = store;
    this.now = now;
    this.owner = store.instanceId?.() ?? `${hostname()}#${process.pid}#${randomUUID()}`;
    this.leaseMs = options.leaseMs ?? CLAIM_LEASE_MS;
    this.onClaim = options.onClaim;
  }

  /** How many claims this signer holds (claimed, not yet signed, failed or released). */
  get claimsHeld(): number {
    return this.held.size;
  }

  private get db() {
    return this.store.database;
  }

  private withLock<T>(fn: () => T): T {
    return this.store.transaction(fn);
  }

  /** The row, its MAC checked (VAULT_ROW_TAMPERED when it fails). */
  get(pendingId: string): JournalRow | undefined {
    const row = this.getRaw(pendingId);
    return row === undefined ? undefined : toJournalRow(row);
  }

  private getRaw(pendingId: string): JournalDbRow | undefined {
    const row = this.db.prepare('SELECT * FROM journal WHERE pending_id = ?').get(pendingId) as
      JournalDbRow | undefined;
    if (row !== undefined) this.check(row);
    return row;
  }

  private check(row: JournalDbRow): void {
    const { mac, ...fields } = row;
    if (!macOk(journalRowMac(this.store, fields), mac)) {
      throw new HardkmsError(
        'VAULT_ROW_TAMPERED',
        `The journal row of pending transaction ${row.pending_id} fails its integrity check: it was edited without the vault secret.`,
        {
          hint: 'Do not sign with this store. Restore wallet.dat from a backup and investigate who had write access to it.',
        },
      );
    }
  }

  /** Writes `next` (a new row when `old` is undefined), MAC'd, and binds it in the row set. Inside the lock. */
  private put(next: Fields, old: JournalDbRow | undefined): Buffer {
    const mac = journalRowMac(this.store, next);
    if (old === undefined) {
      this.db
        .prepare(
          'INSERT INTO journal (pending_id, chain, state, payload_hash, raw_tx, raw_tx_hash, chain_tx_id, error, created, updated, claim, claimed_at, mac) VALUES (@pending_id, @chain, @state, @payload_hash, @raw_tx, @raw_tx_hash, @chain_tx_id, @error, @created, @updated, @claim, @claimed_at, @mac)',
        )
        .run({ ...next, mac });
      this.store.bindRows('journal', [mac], []);
    } else {
      this.db
        .prepare(
          'UPDATE journal SET chain = @chain, state = @state, payload_hash = @payload_hash, raw_tx = @raw_tx, raw_tx_hash = @raw_tx_hash, chain_tx_id = @chain_tx_id, error = @error, created = @created, updated = @updated, claim = @claim, claimed_at = @claimed_at, mac = @mac WHERE pending_id = @pending_id',
        )
        .run({ ...next, mac });
      this.store.bindRows('journal', [mac], [old.mac]);
    }
    return mac;
  }

  private update(pendingId: string, change: (row: Fields) => Fields | undefined): void {
    this.withLock(() => {
      const old = this.getRaw(pendingId);
      if (old === undefined) return;
      const { mac: _mac, ...fields } = old;
      const next = change(fields);
      if (next !== undefined) this.put({ ...next, updated: this.stamp() }, old);
    });
  }

  /**
   * First sight of a pending id in this cycle. Creates the row, or resets a row that holds
   * no signature (received, approved, failed before signing) to `received` with the current
   * payload. Refuses (returns the row untouched) when the row already holds a signed tx.
   * A claim another signer holds is kept.
   */
  receive(pendingId: string, chain: string, hash: string): JournalRow {
    const t = this.stamp();
    return this.withLock(() => {
      const existing = this.getRaw(pendingId);
      if (existing?.raw_tx !== undefined && existing?.raw_tx !== null) return toJournalRow(existing);
      if (existing === undefined) {
        // A new id: first check that no row was deleted (a signed one would be signed again).
        this.store.verifyRowSets(['journal', 'journal_spend']);
        const fresh = this.newRow(pendingId, chain, hash, t, false);
        // The row as written (read back, it would only have its own MAC checked again).
        return toJournalRow({ ...fresh, mac: this.put(fresh, undefined) });
      }
      const { mac: _mac, ...fields } = existing;
      const next: Fields = { ...fields, chain, state: 'received', payload_hash: hash, error: null, updated: t };
      return toJournalRow({ ...next, mac: this.put(next, existing) });
    });
  }

  /** A new id's row: received, or (`claimed`) approved and claimed by this signer in the same write. */
  private newRow(pendingId: string, chain: string, hash: string, t: string, claimed: boolean): Fields {
    return {
      pending_id: pendingId,
      chain,
      state: claimed ? 'approved' : 'received',
      payload_hash: hash,
      raw_tx: null,
      raw_tx_hash: null,
      chain_tx_id: null,
      error: null,
      created: t,
      updated: t,
      claim: claimed ? this.owner : null,
      claimed_at: claimed ? t : null,
    };
  }

  /**
   * receive, then claim({ approve: true }), for when nothing comes between them (no external
   * approver). A new id's row is written once, already approved and claimed by this signer:
   * what the two calls leave, with one MAC, one write and one row-set check instead of two.
   * A row that exists goes through receive and claim.
   */
  receiveAndClaim(pendingId: string, chain: string, hash: string): ClaimResult {
    const t = this.stamp();
    const written = this.withLock(() => {
      if (this.getRaw(pendingId) !== undefined) return false;
      // A new id: first check that no row was deleted (a signed one would be signed again).
      this.store.verifyRowSets(['journal', 'journal_spend']);
      this.put(this.newRow(pendingId, chain, hash, t, true), undefined);
      return true;
    });
    if (!written) {
      return this.receive(pendingId, chain, hash).rawTx !== undefined
        ? 'signed'
        : this.claim(pendingId, { approve: true });
    }
    this.held.add(pendingId);
    this.onClaim?.('taken');
    return 'claimed';
  }

  /**
   * Takes the row for this signer before any key is unwrapped. 'taken' when another signer
   * holds a live claim, 'signed' when the row already holds a signature: skip the id, quietly.
   * Checks the journal's row sets first, so a deleted row cannot make an id look new.
   * `approve`: the approver said yes, so a `received` row moves to `approved` in the same
   * write (also when another signer holds the claim).
   */
  claim(pendingId: string, options: { approve?: boolean; leaseMs?: number } = {}): ClaimResult {
    const leaseMs = options.leaseMs ?? this.leaseMs;
    const result = this.withLock((): ClaimResult | 'expired' => {
      this.store.verifyRowSets(['journal', 'journal_spend']);
      const old = this.getRaw(pendingId);
      if (old === undefined)
        throw new HardkmsError('JOURNAL_ROW_MISSING', `pending ${pendingId} has no journal row to claim`);
      if (old.raw_tx !== null) return 'signed';
      const now = this.now();
      const { mac: _mac, ...fields } = old;
      const approved = options.approve === true && old.state === 'received';
      const state = approved ? 'approved' : old.state;
      if (this.heldByAnother(old, now, leaseMs)) {
        if (approved) this.put({ ...fields, state, updated: now.toISOString() }, old);
        return 'taken';
      }
      this.put({ ...fields, state, claim: this.owner, claimed_at: now.toISOString(), updated: now.toISOString() }, old);
      return old.claim !== null && old.claim !== this.owner ? 'expired' : 'claimed';
    });
    if (result === 'taken' || result === 'signed') return result;
    this.held.add(pendingId);
    this.onClaim?.('taken');
    if (result === 'expired') this.onClaim?.('expired');
    return 'claimed';
  }

  /**
   * Another signer's claim that still holds: within its lease, and its signer still connected
   * where the store can tell (PostgreSQL: its session lock), so a killed signer's claims are
   * taken over at once. Taking over a live signer's claim before it signed is safe, only
   * wasteful: sign() refuses a signature whose claim was taken over. A signed row's claim
   * (`hold`, from claimBroadcast) is kept longer: a live signer's for its broadcast
   * (BROADCAST_HOLD_MS), a dead one's for the request it may have had in flight (IN_FLIGHT_GRACE_MS).
   */
  private heldByAnother(
    old: JournalDbRow,
    now: Date,
    leaseMs: number,
    hold: { liveMs: number; deadMs: number } = { liveMs: 0, deadMs: 0 },
  ): boolean {
    return this.holdLeft(old, now, leaseMs, hold).ms > 0;
  }

  /** How much longer (ms) another signer's claim holds (0: it is free), and whether that signer is alive. */
  private holdLeft(
    old: JournalDbRow,
    now: Date,
    leaseMs: number,
    hold: { liveMs: number; deadMs: number },
  ): { ms: number; alive: boolean | undefined } {
    if (old.claim === null || old.claim === this.owner || old.claimed_at === null) return { ms: 0, alive: undefined };
    const age = now.getTime() - Date.parse(old.claimed_at);
    const alive = this.store.claimOwnerAlive?.(old.claim) ?? localOwnerAlive(old.claim);
    // Clamped: a claimed_at in the future (another host's clock) holds no longer than the rule says.
    const left = (ms: number): number => Math.min(ms, Math.max(0, ms - age));
    const ms =
      alive === false ? left(hold.deadMs) : alive === true ? left(Math.max(leaseMs, hold.liveMs)) : left(leaseMs);
    return { ms, alive };
  }

  /**
   * Takes a signed row for a re-broadcast of its raw transaction (the signer that signed it
   * died, or its broadcast failed). The signer holds its claim through the broadcast (sign()
   * renews it), so of several signers that see the id still pending only one sends it;
   * 'taken' while another holds a live claim, 'broadcast' when another signer recorded the
   * broadcast since the caller read the row, and a number (ms) while a signer that died
   * holding it may still have its broadcast in flight (IN_FLIGHT_GRACE_MS): ask again then.
   * Nothing is ever signed here.
   */
  claimBroadcast(pendingId: string, leaseMs = this.leaseMs): 'claimed' | 'taken' | 'broadcast' | number {
    const result = this.withLock((): 'claimed' | 'taken' | 'expired' | 'broadcast' | number => {
      const old = this.getRaw(pendingId);
      if (old === undefined || old.raw_tx === null)
        throw new HardkmsError('JOURNAL_ROW_MISSING', `pending ${pendingId} has no signed journal row to broadcast`);
      if (old.state === 'broadcast' && old.chain_tx_id !== null) return 'broadcast';
      const now = this.now();
      const hold = { liveMs: BROADCAST_HOLD_MS, deadMs: IN_FLIGHT_GRACE_MS };
      const { ms, alive } = this.holdLeft(old, now, leaseMs, hold);
      if (ms > 0) return alive === false ? ms : 'taken';
      const { mac: _mac, ...fields } = old;
      this.put({ ...fields, claim: this.owner, claimed_at: now.toISOString(), updated: now.toISOString() }, old);
      return old.claim !== null && old.claim !== this.owner ? 'expired' : 'claimed';
    });
    if (typeof result === 'number' || result === 'taken' || result === 'broadcast') return result;
    this.held.add(pendingId);
    this.onClaim?.('taken');
    if (result === 'expired') this.onClaim?.('expired');
    return 'claimed';
  }

  /**
   * Records the signed transaction and what it moves, in one commit. Throws
   * JOURNAL_CLAIM_LOST if the row is missing, already signed or no longer claimed by this
   * signer: nothing may be signed twice. `recheck` runs first, inside the same transaction
   * (the rolling spend limits, against every signer's recorded spends).
   */
  sign(
    pendingId: string,
    rawTx: string,
    testnet: boolean,
    spends: readonly SpendRecord[],
    recheck?: () => void,
  ): string {
    const hash = rawTxHash(rawTx);
    const t = this.stamp();
    this.withLock(() => {
      // Under the writer lock: spend rows another signer recorded since the policy ran are
      // counted now (several daemons, one store); a throw here discards the signature.
      recheck?.();
      const old = this.getRaw(pendingId);
      if (old === undefined || old.raw_tx !== null || (old.claim !== null && old.claim !== this.owner)) {
        if (this.held.delete(pendingId)) this.onClaim?.('lost');
        throw new HardkmsError(
          'JOURNAL_CLAIM_LOST',
          `journal: ${pendingId} is ${old === undefined ? 'unknown' : old.raw_tx !== null ? 'already signed' : 'claimed by another signer'}; refusing to record a second signature`,
        );
      }
      const { mac: _mac, ...fields } = old;
      // The claim is renewed: it covers the broadcast too (claimBroadcast keeps the others off it).
      this.put(
        {
          ...fields,
          state: 'signed',
          raw_tx: rawTx,
          raw_tx_hash: hash,
          error: null,
          updated: t,
          claim: this.owner,
          claimed_at: t,
        },
        old,
      );
      const macs: Buffer[] = [];
      const insert = this.db.prepare(
        'INSERT INTO journal_spend (pending_id, chain, testnet, scope, asset, amount, created, mac) VALUES (@pending_id, @chain, @testnet, @scope, @asset, @amount, @created, @mac)',
      );
      for (const s of spends) {
        const row = {
          pending_id: pendingId,
          chain: old.chain,
          testnet: testnet ? 1 : 0,
          scope: s.scope,
          asset: s.asset,
          amount: s.amount.toString(),
          created: t,
        };
        const mac = spendRowMac(this.store, row);
        insert.run({ ...row, mac });
        macs.push(mac);
      }
      if (macs.length > 0) this.store.bindRows('journal_spend', macs, []);
    });
    this.held.delete(pendingId);
    return hash;
  }

  broadcast(pendingId: string, chainTxId: string): void {
    this.held.delete(pendingId);
    this.update(pendingId, (r) => ({ ...r, state: 'broadcast', chain_tx_id: chainTxId, error: null }));
  }

  /** Marks a failure and releases the claim; a signed row keeps its raw_tx (it will be re-broadcast, never re-signed). */
  fail(pendingId: string, error: string): void {
    this.held.delete(pendingId);
    this.update(pendingId, (r) => ({
      ...r,
      state: 'failed',
      error: error.slice(0, 4000),
      claim: null,
      claimed_at: null,
    }));
  }

  /**
   * `hardkms journal release`: forgets the signature of a transaction the network said can
   * never be mined, so the next cycle signs the pending id afresh. Only such a row: a row
   * that may still be mined (signed, broadcast, or failed for another reason) keeps its
   * signature, since a second signature could spend twice. The spend-ledger rows of the old
   * signature go with it (it moved nothing); the fresh signature records its own.
   */
  releaseNeverMinable(pendingId: string): { chain: string; rawTxHash: string; error: string } {
    return this.withLock(() => {
      this.store.verifyRowSets(['journal', 'journal_spend']);
      const old = this.getRaw(pendingId);
      const refuse = (why: string): never => {
        throw new HardkmsError(
          'JOURNAL_NOT_RELEASABLE',
          `Pending transaction ${pendingId} ${why}; nothing was changed.`,
          {
            hint: 'Only a signed transaction the network refused for good (the daemon reports TX_NEVER_MINABLE for it) can be released for a fresh signature.',
          },
        );
      };
      if (old === undefined) return refuse('has no journal row in this vault');
      if (old.raw_tx === null || old.raw_tx_hash === null)
        return refuse('holds no signature (it is signed normally by the next cycle)');
      if (old.state !== 'failed' || !isNeverMinable(old.error ?? undefined)) {
        return refuse(
          `is ${old.state === 'failed' ? 'failed for a reason that may heal' : old.state}, not refused for good by the network: its signed transaction may still be mined`,
        );
      }
      const { mac: _mac, ...fields } = old;
      const released = { chain: old.chain, rawTxHash: old.raw_tx_hash, error: old.error ?? '' };
      const spends = this.db.prepare('SELECT * FROM journal_spend WHERE pending_id = ?').all(pendingId) as SpendDbRow[];
      for (const r of spends) {
        const { mac, ...spendFields } = r;
        if (!macOk(spendRowMac(this.store, spendFields), mac)) {
          throw new HardkmsError(
            'VAULT_ROW_TAMPERED',
            `A spend-ledger row of pending transaction ${pendingId} fails its integrity check (edited without the vault secret).`,
            {
              hint: 'Do not sign with this store. Restore wallet.dat from a backup and investigate who had write access to it.',
            },
          );
        }
      }
      if (spends.length > 0) {
        this.db.prepare('DELETE FROM journal_spend WHERE pending_id = ?').run(pendingId);
        this.store.bindRows(
          'journal_spend',
          [],
          spends.map((r) => r.mac as Buffer),
        );
      }
      this.put(
        {
          ...fields,
          state: 'failed',
          raw_tx: null,
          raw_tx_hash: null,
          chain_tx_id: null,
          error: `released by the operator for a fresh signature (the never-minable transaction had raw tx sha256 ${old.raw_tx_hash})`,
          claim: null,
          claimed_at: null,
          updated: this.stamp(),
        },
        old,
      );
      return released;
    });
  }

  /** Releases this signer's claim without marking a failure (a skip after claiming). */
  release(pendingId: string): void {
    this.held.delete(pendingId);
    this.update(pendingId, (r) => (r.claim === this.owner ? { ...r, claim: null, claimed_at: null } : undefined));
  }

  /** Sum of `asset` moved in `scope` on chain+net by transactions signed at or after `since`; every row's MAC checked. */
  spentSince(chain: string, testnet: boolean, scope: string, asset: string, since: Date): bigint {
    const rows = this.db
      .prepare(
        'SELECT * FROM journal_spend WHERE chain = ? AND testnet = ? AND scope = ? AND asset = ? AND created >= ?',
      )
      .all(chain, testnet ? 1 : 0, scope, asset, since.toISOString()) as SpendDbRow[];
    let sum = 0n;
    for (const r of rows) {
      const { mac, ...fields } = r;
      if (!macOk(spendRowMac(this.store, fields), mac)) {
        throw new HardkmsError(
          'VAULT_ROW_TAMPERED',
          `A spend-ledger row of pending transaction ${r.pending_id} fails its integrity check (edited without the vault secret).`,
          {
            hint: 'Do not sign with this store. Restore wallet.dat from a backup and investigate who had write access to it.',
          },
        );
      }
      sum += BigInt(r.amount);
    }
    return sum;
  }

  /** Rows in a state, oldest first (status tooling and tests); every row's MAC checked. */
  list(state?: JournalState): JournalRow[] {
    const rows = (
      state === undefined
        ? this.db.prepare('SELECT * FROM journal ORDER BY created, pending_id').all()
        : this.db.prepare('SELECT * FROM journal WHERE state = ? ORDER BY created, pending_id').all(state)
    ) as JournalDbRow[];
    return rows.map((r) => {
      this.check(r);
      return toJournalRow(r);
    });
  }

  private stamp(): string {
    return this.now().toISOString();
  }
}

/**
 * wallet.dat: a claim id names its host and process (`host#pid#uuid`); a claim of a process of
 * this host that no longer exists (killed, restarted) is dead. Undefined when it cannot tell.
 */
function localOwnerAlive(owner: string): boolean | undefined {
  const m = /^(.+)#(\d+)#[0-9a-f-]{36}$/.exec(owner);
  if (m === null || m[1] !== hostname()) return undefined;
  try {
    process.kill(Number(m[2]), 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH' ? false : undefined;
  }
}

function macOk(expected: Buffer, actual: unknown): boolean {
  return Buffer.isBuffer(actual) && actual.length === expected.length && actual.equals(expected);
}

function toJournalRow(r: JournalDbRow): JournalRow {
  return {
    pendingId: r.pending_id,
    chain: r.chain,
    state: r.state as JournalState,
    payloadHash: r.payload_hash,
    rawTx: r.raw_tx ?? undefined,
    rawTxHash: r.raw_tx_hash ?? undefined,
    chainTxId: r.chain_tx_id ?? undefined,
    error: r.error ?? undefined,
    created: r.created,
    updated: r.updated,
    claim: r.claim ?? undefined,
    claimedAt: r.claimed_at ?? undefined,
  };
}
