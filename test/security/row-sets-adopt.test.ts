/**
 * Attack on the row-set binding itself (issue 10, signing state): the row sets of a store
 * made before they existed are built at its first unsealed open ("adoption", marked by
 * `row_sets_adopt`). Someone with write access to wallet.dat but without the vault secret
 * deletes a row (here the journal row of a broadcast transaction, and a revoked wallet put
 * back), then deletes the row-set record and plants the adoption marker: the next unseal
 * would build new row sets over the altered rows and trust them. It must refuse instead.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTestVault, openTestVault, type TestVault } from '../support/vault.js';
import { addPrivateKey, testKey } from '../e2e/support.js';
import { withFile } from './support.js';

describe('attack: replay the row-set adoption over altered rows', () => {
  let tv: TestVault | undefined;
  afterEach(() => {
    try {
      tv?.vault.seal('test end');
    } catch {
      // sealed already
    }
    tv = undefined;
  });

  it('a revoked wallet put back, with the row-set record removed and the adoption marker planted, is refused', async () => {
    tv = await createTestVault({ testnetOnly: true });
    const w1 = addPrivateKey(tv.vault, 'ETH', true, testKey(0x61));
    addPrivateKey(tv.vault, 'ETH', true, testKey(0x62));
    const row = withFile(
      tv.path,
      (db) => db.prepare('SELECT * FROM wallets WHERE signature_id = ?').get(w1) as Record<string, unknown>,
    );
    expect(tv.vault.store.removeEntry(w1)).toBe(true);
    tv.vault.seal('attacker waits');
    withFile(tv.path, (db) => {
      db.prepare(
        'INSERT INTO wallets (signature_id, chain, testnet, kind, public_data, wrapped_secret, mechanism, created, mac) VALUES (@signature_id, @chain, @testnet, @kind, @public_data, @wrapped_secret, @mechanism, @created, @mac)',
      ).run(row);
      db.prepare("DELETE FROM meta WHERE key IN ('row_sets', 'row_sets_mac')").run();
      db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('row_sets_adopt', '1')").run();
    });
    await expect(openTestVault(tv.path)).rejects.toMatchObject({ code: 'VAULT_ROW_TAMPERED' });
    // Nothing was rebuilt over the altered rows: the marker is still there, no row-set record was written.
    const meta = withFile(tv.path, (db) =>
      db.prepare("SELECT key FROM meta WHERE key IN ('row_sets', 'row_sets_mac')").all(),
    );
    expect(meta).toEqual([]);
  });

  it('the row-set record removed without a marker is refused too', async () => {
    tv = await createTestVault({ testnetOnly: true });
    addPrivateKey(tv.vault, 'ETH', true, testKey(0x63));
    tv.vault.seal('attacker waits');
    withFile(tv.path, (db) => db.prepare("DELETE FROM meta WHERE key IN ('row_sets', 'row_sets_mac')").run());
    await expect(openTestVault(tv.path)).rejects.toMatchObject({ code: 'VAULT_ROW_TAMPERED' });
  });
});
