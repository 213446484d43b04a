import { dirname, isAbsolute, resolve } from 'node:path';
import { HardkmsError } from '../errors.js';
import { META } from './meta-auth.js';
import { tokenBindingRecord } from './meta-records.js';
import { displayStoreUrl, isStoreUrl } from './pg/url.js';
import type { Vault } from './vault.js';
import { BOUND_TABLES, digestOf, parseRowSets } from './row-set.js';
import type { SqlDatabase } from './sql.js';
import { WalletStore } from './store.js';

/**
 * `hardkms store migrate --from A --to B`: moves a vault between wallet.dat and PostgreSQL
 * (either way). Rows are copied byte for byte, MACs included: a row MAC depends on the vault
 * secret and the row's values, not on where the row is stored, so the target unseals with
 * the same quorum and every check (row MACs, row sets, counter, audit head) applies to it as
 * it did to the source. Nothing is unsealed and no row is re-MAC'd: a tampered source stays
 * as detectable in the target as it was.
 *
 * Idempotent and resumable: tables are copied in batches, each an upsert in its own
 * transaction, rows the source no longer has are removed, and meta comes last, in the
 * transaction that finishes the copy. Until then the target has no vault id, so a copy that
 * was interrupted cannot be opened as a vault (VAULT_INCOMPLETE); running the command again
 * completes it. The finished target is checked without any key: each table's row count and
 * digest must equal the row-set record the source's meta carries, so a copy that missed a
 * row, or a source written to while it was copied, is reported rather than left half-moved.
 */

interface TableSpec {
  name: string;
  key: readonly string[];
  columns: readonly string[];
}

const TABLES: readonly TableSpec[] = [
  {
    name: 'wallets',
    key: ['signature_id'],
    columns: [
      'signature_id',
      'chain',
      'testnet',
      'kind',
      'public_data',
      'wrapped_secret',
      'mechanism',
      'created',
      'mac',
    ],
  },
  {
    name: 'otp',
    key: ['public_id'],
    columns: ['public_id', 'key_id', 'private_id_hash', 'label', 'use_counter', 'session_counter', 'updated', 'mac'],
  },
  {
    name: 'journal',
    key: ['pending_id'],
    columns: [
      'pending_id',
      'chain',
      'state',
      'payload_hash',
      'raw_tx',
      'raw_tx_hash',
      'chain_tx_id',
      'error',
      'created',
      'updated',
      'claim',
      'claimed_at',
      'mac',
    ],
  },
  {
    name: 'journal_spend',
    key: ['pending_id', 'scope', 'asset'],
    columns: ['pending_id', 'chain', 'testnet', 'scope', 'asset', 'amount', 'created', 'mac'],
  },
];
const META_TABLE: TableSpec = { name: 'meta', key: ['key'], columns: ['key', 'value'] };

const BATCH = 1000;

interface MigrateResult {
  from: string;
  to: string;
  vaultId: string;
  /** Rows per table in the target after the copy. */
  rows: Record<string, number>;
  /** Target rows that the source did not have (a resumed copy after the source changed), removed. */
  removed: number;
  /** Whether the target already held this vault (a resumed or repeated copy). */
  resumed: boolean;
}

function upsert(t: TableSpec): string {
  const cols = t.columns.join(', ');
  const vals = t.columns.map((c) => `@${c}`).join(', ');
  const set = t.columns
    .filter((c) => !t.key.includes(c))
    .map((c) => `${c} = excluded.${c}`)
    .join(', ');
  return `INSERT INTO ${t.name} (${cols}) VALUES (${vals}) ON CONFLICT (${t.key.join(', ')}) DO UPDATE SET ${set}`;
}

const keyOf = (t: TableSpec, row: Record<string, unknown>): string => JSON.stringify(t.key.map((k) => row[k]));

function copyTable(src: SqlDatabase, dst: SqlDatabase, t: TableSpec): { rows: number; removed: number } {
  const order = t.key.join(', ');
  const all = src.prepare(`SELECT ${t.columns.join(', ')} FROM ${t.name} ORDER BY ${order}`).all() as Array<
    Record<string, unknown>
  >;
  const put = dst.prepare(upsert(t));
  for (let i = 0; i < all.length; i += BATCH) {
    const batch = all.slice(i, i + BATCH);
    dst
      .transaction(() => {
        for (const row of batch) put.run(row);
      })
      .immediate();
  }
  return { rows: all.length, removed: removeExtra(dst, t, new Set(all.map((r) => keyOf(t, r)))) };
}

function removeExtra(dst: SqlDatabase, t: TableSpec, keep: ReadonlySet<string>): number {
  const extra = (
    dst.prepare(`SELECT ${t.key.join(', ')} FROM ${t.name}`).all() as Array<Record<string, unknown>>
  ).filter((r) => !keep.has(keyOf(t, r)));
  if (extra.length === 0) return 0;
  const del = dst.prepare(`DELETE FROM ${t.name} WHERE ${t.key.map((k) => `${k} = @${k}`).join(' AND ')}`);
  dst
    .transaction(() => {
      for (const r of extra) del.run(r);
    })
    .immediate();
  return extra.length;
}

/**
 * Moves the unsealed `vault` to `to` (a new or partly copied wallet.dat or database) and
 * seals it. The quorum is needed: the source is verified first (every wallet row's MAC and
 * every row set), the move is an audited, token-signed record, and a vault moving from a
 * file to a database gets its audit log bound by absolute path (a database has no folder
 * for the log to be relative to), which rewrites the authenticated binding.
 */
export function migrateVault(vault: Vault, to: string): MigrateResult {
  const from = vault.store.path;
  if (sameLocation(from, to)) {
    throw new HardkmsError('STORE_MIGRATE_SAME', 'The source and the target of the migration are the same store.', {
      hint: 'Name another target with --to.',
    });
  }
  const vaultId = vault.vaultId;
  const src = vault.store;
  src.verifyRowSets();
  const walletCount = src.listEntries().length; // every wallet row's MAC checked
  const exists = WalletStore.exists(to);
  let target = exists ? WalletStore.open(to) : WalletStore.create(to);
  const storeKey = Buffer.from(vault.currentSecret().storeKey);
  try {
    const targetId = target.getMeta(META.vaultId);
    if (targetId !== undefined && targetId !== vaultId) {
      throw new HardkmsError(
        'VAULT_EXISTS',
        `The target ${displayLocation(to)} holds another vault (${targetId}); a migration never overwrites one.`,
        {
          hint: 'Name an empty database or a new file in --to.',
        },
      );
    }
    // A target that was used after an earlier copy (a signer wrote to it) is never overwritten by the older source.
    const targetSets = targetId === undefined ? undefined : parseRowSets(target.getMeta('row_sets'));
    const sourceSets = parseRowSets(src.getMeta('row_sets'));
    if (targetSets !== undefined && sourceSets !== undefined && targetSets.counter > sourceSets.counter) {
      throw new HardkmsError(
        'STORE_MIGRATE_TARGET_NEWER',
        `The target ${displayLocation(to)} was written to after it was copied (write counter ${targetSets.counter}, the source's ${sourceSets.counter}); copying again would roll it back.`,
        {
          hint: 'The target is the live vault now: migrate from it (--from the target) instead, or name an empty target.',
        },
      );
    }
    vault.record({
      event: 'store.migrate',
      subject: vaultId,
      result: 'ok',
      details: { from: displayLocation(from), to: displayLocation(to), wallets: walletCount },
    });
    const rows: Record<string, number> = {};
    let removed = 0;
    for (const t of TABLES) {
      const r = copyTable(src.database, target.database, t);
      rows[t.name] = r.rows;
      removed += r.removed;
    }
    // The seal record is the source's last; the meta copied below carries its head.
    vault.seal('store migrate');
    const source = WalletStore.openReadOnly(from);
    try {
      const rowSets = parseRowSets(source.getMeta('row_sets'));
      for (const t of BOUND_TABLES) {
        const got = digestOf(target.database, t);
        const want = rowSets?.tables[t];
        if (want === undefined || got.count !== want.count || got.sum !== want.sum) {
          throw new HardkmsError(
            'STORE_MIGRATE_INCOMPLETE',
            `The copy of ${t} in ${displayLocation(to)} does not match the source's row-set record (${got.count} rows, ${want?.count ?? '?'} bound): the source was written to during the copy.`,
            { hint: 'Stop every hardkms process using the source and run the migration again (it resumes).' },
          );
        }
      }
      // Meta last, in one transaction: from here on the target is the vault.
      const meta = source.database.prepare('SELECT key, value FROM meta ORDER BY key').all() as Array<
        Record<string, unknown>
      >;
      const put = target.database.prepare(upsert(META_TABLE));
      target.database
        .transaction(() => {
          for (const row of meta) put.run(row);
        })
        .immediate();
      removed += removeExtra(target.database, META_TABLE, new Set(meta.map((r) => keyOf(META_TABLE, r))));
    } finally {
      source.close();
    }
    // Reopened: the copy of the meta is what it authenticates.
    target.close();
    target = WalletStore.open(to);
    target.unlock(storeKey, vaultId);
    target.verifyMeta();
    const binding = target.getMetaJson(META.token, tokenBindingRecord);
    if (binding?.auditLog !== undefined && !isAbsolute(binding.auditLog) && isStoreUrl(to)) {
      const absolute = resolve(dirname(resolve(from)), binding.auditLog);
      target.writeAuthenticatedMeta({ [META.token]: JSON.stringify({ ...binding, auditLog: absolute }) });
    }
    target.lock();
    return { from: displayLocation(from), to: displayLocation(to), vaultId, rows, removed, resumed: exists };
  } finally {
    storeKey.fill(0);
    target.close();
    vault.seal('store migrate');
  }
}

function sameLocation(a: string, b: string): boolean {
  if (isStoreUrl(a) || isStoreUrl(b)) return a === b;
  return resolve(a) === resolve(b);
}

function displayLocation(l: string): string {
  return isStoreUrl(l) ? displayStoreUrl(l) : resolve(l);
}
