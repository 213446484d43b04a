/**
 * A PostgreSQL store keeps the one audit trail; each host's audit.log is a copy, written after
 * the store committed. A host killed while writing its copy leaves an unfinished last line
 * there, although the store holds every record. The next writer on that host cuts the line
 * (under the store's writer lock), records the cut in the trail, and brings the copy up to date:
 * it used to refuse every audited operation on that host (AUDIT_LOG_CORRUPT).
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncStoredTrail } from '../../src/vault/audit-binding.js';
import { generatePrivateKeys } from '../../src/vault/entry-secrets.js';
import { havePostgres, startPostgres, type Postgres } from '../support/postgres.js';
import { createTestVault, openTestVault, type TestVault } from '../support/vault.js';

describe.skipIf(!havePostgres)("an unfinished line in a host's copy of a shared trail (PostgreSQL store)", () => {
  let pg: Postgres;
  let tv: TestVault;
  let log: string;

  beforeAll(async () => {
    pg = await startPostgres();
    process.env.PGPASSFILE = pg.passFile;
    tv = await createTestVault({ testnetOnly: true, store: pg.createDatabase('torn') });
    log = join(tv.dir, 'audit.log');
    generatePrivateKeys(tv.vault, { chain: 'ETH', testnet: true, publicData: () => ({ address: '0x00' }) }, 1);
    tv.vault.seal('test');
  }, 120_000);
  afterAll(() => pg?.destroy());

  it('is cut, recorded in the trail, and the copy brought up to date', async () => {
    const committed = readFileSync(log);
    // The start of the next record the copy would have got (the store holds all of them).
    const fragment = Buffer.from('{"seq":999,"time":"2026-12-02T05:00:00.000Z","event":"wallet.gen');
    writeFileSync(log, Buffer.concat([committed, fragment]));

    const v = await openTestVault(tv.path, undefined, log);
    generatePrivateKeys(v, { chain: 'ETH', testnet: true, publicData: () => ({ address: '0x00' }) }, 1);
    v.seal('test');

    const copy = readFileSync(log, 'utf8');
    expect(copy.startsWith(committed.toString('utf8'))).toBe(true);
    expect(copy.endsWith('\n')).toBe(true);
    const stored = syncStoredTrail({ path: tv.path, auditLogPath: log })!;
    expect(copy).toBe(`${stored.join('\n')}\n`);
    const cut = stored.map((l) => JSON.parse(l) as { event: string; details: Record<string, unknown> });
    expect(cut.filter((r) => r.event === 'audit.tail_cut')).toEqual([
      expect.objectContaining({ details: expect.objectContaining({ bytes: fragment.length }) }),
    ]);
    const kept = readdirSync(tv.dir).filter((f) => f.startsWith('audit.log.torn-'));
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(tv.dir, kept[0]!)).equals(fragment)).toBe(true);
    expect(statSync(log).size).toBeGreaterThan(committed.length);
  });
});
