import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { check, jsonObject, looseJsonObject, v } from '../validate.js';
import type { SqlDatabase } from './sql.js';

/**
 * Row-set binding. A row MAC proves a row was written with the vault secret, not that it
 * is still the current one: someone with write access to wallet.dat can delete a MAC'd row
 * (a journal entry, so that a broadcast transaction is signed again; spend rows, so that a
 * refused amount fits the 24 h limit), put back one deleted earlier (a revoked wallet), or
 * restore an older, validly MAC'd version of it (an OTP counter, so that a used OTP is
 * accepted again).
 *
 * So the meta table keeps, per bound table, the number of rows and the sum (mod 2^256) of
 * SHA-256(table ‖ row MAC) over them, and a write counter that every write bumps, all under
 * one MAC with the row key. Sums update incrementally (add the new MAC, subtract the old
 * one), so a write costs no table scan; a check recomputes them from the rows. Any row
 * deleted, added or replaced by another version changes a sum.
 *
 * What this cannot see is the whole file rolled back to an older copy (meta and rows
 * consistent with each other): that takes a reference outside the host, the audit head an
 * auditor noted or the forwarded audit copy.
 */

export const BOUND_TABLES = ['wallets', 'otp', 'journal', 'journal_spend'] as const;
export type BoundTable = (typeof BOUND_TABLES)[number];

interface TableDigest {
  count: number;
  /** 64 hex digits. */
  sum: string;
}

const tableDigest = jsonObject({
  count: v.pipe(v.number(), v.safeInteger()),
  sum: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
});
const rowSetsRecord: v.GenericSchema<unknown, RowSets> = jsonObject({
  counter: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  // Every bound table must be there; a table bound by a later version is kept as it is.
  tables: looseJsonObject(
    Object.fromEntries(BOUND_TABLES.map((t) => [t, tableDigest])) as Record<BoundTable, typeof tableDigest>,
  ),
});

export interface RowSets {
  /** Bumped by every write to a bound table. */
  counter: number;
  tables: Record<BoundTable, TableDigest>;
}

const MOD = 1n << 256n;

/** SHA-256(table ‖ 0 ‖ MAC); a MAC that is not a Buffer (a tampered row) counts by its text. */
function rowDigestBytes(table: BoundTable, mac: unknown): Buffer {
  const bytes = Buffer.isBuffer(mac) ? mac : Buffer.from(String(mac), 'utf8');
  return createHash('sha256')
    .update(table, 'utf8')
    .update(Buffer.from([0]))
    .update(bytes)
    .digest();
}

function rowDigest(table: BoundTable, mac: unknown): bigint {
  return BigInt('0x' + rowDigestBytes(table, mac).toString('hex'));
}

function hex(n: bigint): string {
  return n.toString(16).padStart(64, '0');
}

/** node:crypto's one-shot hash (Node >= 20.12): about a third cheaper per row than a Hash object. */
const oneShot = (crypto as { hash?: (algorithm: string, data: Buffer, encoding: 'buffer') => Buffer }).hash;
const LIMB = 0x1_0000_0000;

/**
 * The digest of `table` as its rows are now: the same sum as `updated` keeps, computed in
 * eight 32-bit limbs held in doubles (exact below 2^53, so carried every 2^20 rows) instead of
 * a BigInt per row. The unseal scans every wallet row: at 25,000 wallets this was about a
 * sixth of `daemon --runOnce`.
 */
export function digestOf(db: SqlDatabase, table: BoundTable): TableDigest {
  const prefix = Buffer.from(`${table}\0`, 'utf8');
  let scratch = Buffer.alloc(prefix.length + 64);
  prefix.copy(scratch);
  const limbs = new Array<number>(8).fill(0);
  const carry = (): void => {
    for (let i = 7; i > 0; i--) {
      const c = Math.floor(limbs[i]! / LIMB);
      limbs[i]! -= c * LIMB;
      limbs[i - 1]! += c;
    }
    limbs[0] = limbs[0]! % LIMB; // mod 2^256
  };
  let count = 0;
  for (const mac of db.prepare(`SELECT mac FROM ${table}`).pluck().iterate()) {
    let d: Buffer;
    if (oneShot !== undefined && Buffer.isBuffer(mac)) {
      if (scratch.length < prefix.length + mac.length) {
        scratch = Buffer.alloc(prefix.length + mac.length);
        prefix.copy(scratch);
      }
      mac.copy(scratch, prefix.length);
      d = oneShot('sha256', scratch.subarray(0, prefix.length + mac.length), 'buffer');
    } else {
      d = rowDigestBytes(table, mac);
    }
    for (let i = 0; i < 8; i++) limbs[i]! += d.readUInt32BE(i * 4);
    if ((++count & 0xfffff) === 0) carry();
  }
  carry();
  return { count, sum: limbs.map((w) => w.toString(16).padStart(8, '0')).join('') };
}

export function emptyRowSets(): RowSets {
  const tables = {} as Record<BoundTable, TableDigest>;
  for (const t of BOUND_TABLES) tables[t] = { count: 0, sum: hex(0n) };
  return { counter: 0, tables };
}

/** `sets` with rows of `table` added and removed (their MACs), counter bumped. */
export function updated(
  sets: RowSets,
  table: BoundTable,
  added: readonly unknown[],
  removed: readonly unknown[],
): RowSets {
  const cur = sets.tables[table];
  let sum = BigInt('0x' + cur.sum);
  for (const m of added) sum = (sum + rowDigest(table, m)) % MOD;
  for (const m of removed) sum = (sum - rowDigest(table, m) + MOD) % MOD;
  return {
    counter: sets.counter + 1,
    tables: { ...sets.tables, [table]: { count: cur.count + added.length - removed.length, sum: hex(sum) } },
  };
}

/** Parses the stored JSON; undefined when it is not a well-formed row-set record. */
export function parseRowSets(text: string | undefined): RowSets | undefined {
  if (text === undefined) return undefined;
  try {
    const r = check(rowSetsRecord, JSON.parse(text));
    return r.ok ? r.value : undefined;
  } catch {
    return undefined;
  }
}
