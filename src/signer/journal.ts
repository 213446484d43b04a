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
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { canonicalJson } from '../audit/record.js';
import type { PendingTransaction } from './pending.js';

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
}

/** One amount a signed transaction moved, for the rolling policy limits. */
export interface SpendRecord {
  /** 'chain' or `wallet:<signatureId>`. */
  scope: string;
  /** 'native', or the token contract / asset id (lowercase for EVM). */
  asset: string;
  amount: bigint;
}

type Row = {
  pending_id: string;
  chain: string;
  state: JournalState;
  payload_hash: string;
  raw_tx: string | null;
  raw_tx_hash: string | null;
  chain_tx_id: string | null;
  error: string | null;
  created: string;
  updated: string;
};

/** sha256 of the canonical JSON of what defines a pending transaction (txId, which the server adds later, excluded). */
export function payloadHash(p: PendingTransaction): string {
  const { txId: _txId, ...defining } = p;
  return createHash('sha256').update(canonicalJson(defining), 'utf8').digest('hex');
}

/** sha256 (hex) of a signed raw transaction as broadcast (hex, 0x-hex or TRON JSON text). */
export function rawTxHash(rawTx: string): string {
  return createHash('sha256').update(rawTx, 'utf8').digest('hex');
}

export class Journal {
  private readonly db: Database.Database;
  private readonly withLock: <T>(fn: () => T) => T;
  private readonly now: () => Date;

  /** `withLock` runs fn in one write transaction (WalletStore.transaction). */
  constructor(db: Database.Database, withLock: <T>(fn: () => T) => T, now: () => Date = () => new Date()) {
    this.db = db;
    this.withLock = withLock;
    this.now = now;
  }

  get(pendingId: string): JournalRow | undefined {
    const row = this.db.prepare('SELECT * FROM journal WHERE pending_id = ?').get(pendingId) as Row | undefined;
    return row === undefined ? undefined : toJournalRow(row);
  }

  /**
   * First sight of a pending id in this cycle. Creates the row, or resets a row that holds
   * no signature (received, approved, failed before signing) to `received` with the current
   * payload. Refuses (returns the row untouched) when the row already holds a signed tx.
   */
  receive(pendingId: string, chain: string, hash: string): JournalRow {
    const t = this.stamp();
    return this.withLock(() => {
      const existing = this.get(pendingId);
      if (existing?.rawTx !== undefined) return existing;
      if (existing === undefined) {
        this.db
          .prepare("INSERT INTO journal (pending_id, chain, state, payload_hash, created, updated) VALUES (?, ?, 'received', ?, ?, ?)")
          .run(pendingId, chain, hash, t, t);
      } else {
        this.db
          .prepare("UPDATE journal SET chain = ?, state = 'received', payload_hash = ?, error = NULL, updated = ? WHERE pending_id = ? AND raw_tx IS NULL")
          .run(chain, hash, t, pendingId);
      }
      return this.get(pendingId)!;
    });
  }

  approve(pendingId: string): void {
    this.transition(pendingId, 'approved', "state = 'received' AND raw_tx IS NULL");
  }

  /**
   * Records the signed transaction and what it moves, in one commit. Throws if the row is
   * missing or already holds a signed transaction: nothing may be signed twice.
   */
  sign(pendingId: string, rawTx: string, testnet: boolean, spends: readonly SpendRecord[]): string {
    const hash = rawTxHash(rawTx);
    const t = this.stamp();
    this.withLock(() => {
      const row = this.get(pendingId);
      if (row === undefined || row.rawTx !== undefined) {
        throw new Error(`journal: ${pendingId} is ${row === undefined ? 'unknown' : 'already signed'}; refusing to record a second signature`);
      }
      this.db
        .prepare("UPDATE journal SET state = 'signed', raw_tx = ?, raw_tx_hash = ?, error = NULL, updated = ? WHERE pending_id = ?")
        .run(rawTx, hash, t, pendingId);
      const insert = this.db.prepare(
        'INSERT OR REPLACE INTO journal_spend (pending_id, chain, testnet, scope, asset, amount, created) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      for (const s of spends) insert.run(pendingId, row.chain, testnet ? 1 : 0, s.scope, s.asset, s.amount.toString(), t);
    });
    return hash;
  }

  broadcast(pendingId: string, chainTxId: string): void {
    const t = this.stamp();
    this.withLock(() => {
      this.db.prepare("UPDATE journal SET state = 'broadcast', chain_tx_id = ?, error = NULL, updated = ? WHERE pending_id = ?").run(chainTxId, t, pendingId);
    });
  }

  /** Marks a failure; a signed row keeps its raw_tx (it will be re-broadcast, never re-signed). */
  fail(pendingId: string, error: string): void {
    const t = this.stamp();
    this.withLock(() => {
      this.db.prepare("UPDATE journal SET state = 'failed', error = ?, updated = ? WHERE pending_id = ?").run(error.slice(0, 4000), t, pendingId);
    });
  }

  /** Sum of `asset` moved in `scope` on chain+net by transactions signed at or after `since`. */
  spentSince(chain: string, testnet: boolean, scope: string, asset: string, since: Date): bigint {
    const rows = this.db
      .prepare('SELECT amount FROM journal_spend WHERE chain = ? AND testnet = ? AND scope = ? AND asset = ? AND created >= ?')
      .all(chain, testnet ? 1 : 0, scope, asset, since.toISOString()) as { amount: string }[];
    return rows.reduce((a, r) => a + BigInt(r.amount), 0n);
  }

  /** Rows in a state, oldest first (status tooling and tests). */
  list(state?: JournalState): JournalRow[] {
    const rows = (
      state === undefined
        ? this.db.prepare('SELECT * FROM journal ORDER BY created, pending_id').all()
        : this.db.prepare('SELECT * FROM journal WHERE state = ? ORDER BY created, pending_id').all(state)
    ) as Row[];
    return rows.map(toJournalRow);
  }

  private transition(pendingId: string, state: JournalState, where: string): void {
    const t = this.stamp();
    this.withLock(() => {
      this.db.prepare(`UPDATE journal SET state = ?, updated = ? WHERE pending_id = ? AND ${where}`).run(state, t, pendingId);
    });
  }

  private stamp(): string {
    return this.now().toISOString();
  }
}

function toJournalRow(r: Row): JournalRow {
  return {
    pendingId: r.pending_id,
    chain: r.chain,
    state: r.state,
    payloadHash: r.payload_hash,
    rawTx: r.raw_tx ?? undefined,
    rawTxHash: r.raw_tx_hash ?? undefined,
    chainTxId: r.chain_tx_id ?? undefined,
    error: r.error ?? undefined,
    created: r.created,
    updated: r.updated,
  };
}
