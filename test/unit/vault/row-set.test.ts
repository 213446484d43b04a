import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { digestOf, emptyRowSets, updated } from '../../../src/vault/row-set.js';

/**
 * digestOf (the full scan at unseal and every check) must give exactly the sum the writes
 * keep incrementally (updated): a mismatch would call an untouched store tampered, or let a
 * change through. Both are computed here over the same rows, including MACs that are not
 * 32 bytes and one stored as TEXT (a tampered row: it still has to count).
 */
function tableWith(macs: unknown[]): Database.Database {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE journal (id INTEGER PRIMARY KEY, mac)');
  const ins = db.prepare('INSERT INTO journal (mac) VALUES (?)');
  for (const m of macs) ins.run(m);
  return db;
}

describe('row-set digests', () => {
  it('the scan equals the incremental sum, over many rows (carries across every limb)', () => {
    const macs: unknown[] = Array.from({ length: 3000 }, () => randomBytes(32));
    macs.push(randomBytes(16), randomBytes(48), 'a mac stored as text', Buffer.alloc(32, 0xff), Buffer.alloc(32, 0xff));
    const want = updated(emptyRowSets(), 'journal', macs, []).tables.journal;
    expect(digestOf(tableWith(macs), 'journal')).toEqual(want);
  });

  it('added then removed rows cancel out, and the scan of what is left agrees', () => {
    const keep = Array.from({ length: 50 }, () => randomBytes(32));
    const gone = Array.from({ length: 20 }, () => randomBytes(32));
    const sets = updated(updated(emptyRowSets(), 'journal', [...keep, ...gone], []), 'journal', [], gone);
    expect(digestOf(tableWith(keep), 'journal')).toEqual(sets.tables.journal);
    expect(digestOf(tableWith([]), 'journal')).toEqual(emptyRowSets().tables.journal);
  });

  it('one row replaced by another changes the sum', () => {
    const macs = Array.from({ length: 10 }, () => randomBytes(32));
    const before = digestOf(tableWith(macs), 'journal');
    macs[3] = randomBytes(32);
    const after = digestOf(tableWith(macs), 'journal');
    expect(after.count).toBe(before.count);
    expect(after.sum).not.toBe(before.sum);
  });
});
