/**
 * The vault on PostgreSQL (issue 16 item 1): a real server started here (test/support/
 * postgres.ts), TLS with the certificate checked, the same schema, MACs, counter and
 * re-keying as wallet.dat.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WalletStore } from '../../../src/vault/store.js';
import { FORMAT_VERSION } from '../../../src/vault/schema.js';
import { PG_MIGRATIONS } from '../../../src/vault/pg/schema.js';
import { havePostgres, startPostgres, type Postgres } from '../../support/postgres.js';
import { createTestVault, openTestVault } from '../../support/vault.js';
import { addPrivateKey, testKey } from '../../e2e/support.js';

describe.skipIf(!havePostgres)('the vault on PostgreSQL', () => {
  let pg: Postgres;
  beforeAll(async () => {
    pg = await startPostgres();
    process.env.PGPASSFILE = pg.passFile;
  });
  afterAll(() => pg?.destroy());

  it('has as many migrations as wallet.dat', () => {
    expect(PG_MIGRATIONS.length).toBe(FORMAT_VERSION);
  });

  it('creates, fills, seals and reopens a vault; rows are MAC-checked as in the file', async () => {
    const url = pg.createDatabase('vault_basic');
    expect(WalletStore.exists(url)).toBe(false);
    const tv = await createTestVault({ testnetOnly: true, store: url });
    expect(tv.vault.store.kind).toBe('postgres');
    expect(WalletStore.exists(url)).toBe(true);
    expect(pg.psql('SELECT version FROM hardkms_schema', 'vault_basic').trim()).toBe(String(FORMAT_VERSION));
    const ids = [0x41, 0x42, 0x43].map((k) => addPrivateKey(tv.vault, 'ETH', true, testKey(k)));
    expect(
      tv.vault.store
        .listEntries()
        .map((e) => e.signatureId)
        .sort(),
    ).toEqual([...ids].sort());
    const counter = tv.vault.store.bumpCounter();
    tv.vault.seal('test');
    const again = await openTestVault(url, undefined, join(tv.dir, 'audit.log'));
    expect(again.store.storeCounter()).toBe(counter);
    expect(again.store.requireEntry(ids[1]!).chain).toBe('ETH');
    again.seal('test');
    await expect(createTestVault({ store: url })).rejects.toMatchObject({ code: 'VAULT_EXISTS' });
  });
});
