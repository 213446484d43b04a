/**
 * The MAC'd fields of the signer's journal tables (their rows are written by
 * src/signer/pipeline/journal.ts; the vault MACs rows written before the MACs existed, once, at the
 * first unsealed open after the upgrade). NULL is encoded apart from every string.
 */
import type { SqlDatabase } from './sql.js';
import type { WalletStore } from './store.js';

type Field = string | number | Buffer;

export interface JournalDbRow {
  pending_id: string;
  chain: string;
  state: string;
  payload_hash: string;
  raw_tx: string | null;
  raw_tx_hash: string | null;
  chain_tx_id: string | null;
  error: string | null;
  created: string;
  updated: string;
  claim: string | null;
  claimed_at: string | null;
  mac: unknown;
}

export interface SpendDbRow {
  pending_id: string;
  chain: string;
  testnet: number;
  scope: string;
  asset: string;
  amount: string;
  created: string;
  mac: unknown;
}

const NULL = Buffer.alloc(0);
const f = (v: string | number | null): Field => (v === null ? NULL : v);

export function journalRowMac(store: Pick<WalletStore, 'macOf'>, r: Omit<JournalDbRow, 'mac'>): Buffer {
  return store.macOf('journal', [
    r.pending_id,
    r.chain,
    r.state,
    r.payload_hash,
    f(r.raw_tx),
    f(r.raw_tx_hash),
    f(r.chain_tx_id),
    f(r.error),
    r.created,
    r.updated,
    f(r.claim),
    f(r.claimed_at),
  ]);
}

export function spendRowMac(store: Pick<WalletStore, 'macOf'>, r: Omit<SpendDbRow, 'mac'>): Buffer {
  return store.macOf('journal_spend', [r.pending_id, r.chain, r.testnet, r.scope, r.asset, r.amount, r.created]);
}

/** MACs the journal rows written before journal MACs existed. Inside a transaction, before the row sets are built. */
export function macLegacyJournalRows(store: WalletStore, db: SqlDatabase): number {
  let n = 0;
  for (const r of db.prepare('SELECT * FROM journal WHERE mac IS NULL').all() as JournalDbRow[]) {
    db.prepare('UPDATE journal SET mac = ? WHERE pending_id = ?').run(journalRowMac(store, r), r.pending_id);
    n++;
  }
  for (const r of db.prepare('SELECT * FROM journal_spend WHERE mac IS NULL').all() as SpendDbRow[]) {
    db.prepare('UPDATE journal_spend SET mac = ? WHERE pending_id = ? AND scope = ? AND asset = ?').run(
      spendRowMac(store, r),
      r.pending_id,
      r.scope,
      r.asset,
    );
    n++;
  }
  return n;
}
