import { copyFileSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { HDKey } from '@scure/bip32';
import { beforeAll, describe, expect, it } from 'vitest';
import { YubiKeyGateProvider } from '../../src/gate/yubikey-provider.js';
import type { SealRecord } from '../../src/vault/secret.js';
import { metaMacFields } from '../../src/vault/meta-auth.js';
import { deriveMacKey, macFields } from '../../src/vault/row-mac.js';
import { WALLETS_MAC_TABLE, WalletStore } from '../../src/vault/store.js';
import Database from 'better-sqlite3';
import { tokenBindingRecord } from '../../src/vault/meta-records.js';
import { expectError, expectOk, GateBench } from '../support/gate-bench.js';

/**
 * Attack (issue 9, item 1): whoever held a quorum BEFORE a rotate / revoke / recover (old
 * recovery sheets, a revoked key plus a colluder) rebuilds the old vault secret and, with its
 * store key, forges authenticated state in the CURRENT wallet.dat: a wallet row with a swapped
 * xpub (redirects deposits) and a token binding whose modulePath points at a library of the
 * attacker's choice (which would receive the new PIN at the next unseal). After a rotation the
 * store is re-keyed, so both forgeries must be detected.
 */

/** An xpub the attacker controls (BTC testnet version bytes). */
const ATTACKER_XPUB = HDKey.fromMasterSeed(Buffer.alloc(32, 7), {
  private: 0x04358394,
  public: 0x043587cf,
}).publicExtendedKey;

/** Copies the vault's files (not the key directories) so each forgery runs on its own copy. */
function copyVault(bench: GateBench): string {
  const dir = mkdtempSync(join(bench.dir, 'forged-'));
  for (const f of readdirSync(bench.dir)) {
    const p = join(bench.dir, f);
    if (statSync(p).isFile()) copyFileSync(p, join(dir, f));
  }
  return join(dir, 'wallet.dat');
}

async function oldSecretFrom(record: SealRecord, shares: string[], vaultId: string): Promise<Buffer> {
  const secret = await new YubiKeyGateProvider({}).recover(record, shares.slice(0, 2), {
    vaultId,
    mainnet: false,
    audit: () => undefined,
  });
  secret.tokenPin.fill(0);
  return secret.storeKey;
}

/** Rewrites the wallet row with the attacker's xpub and a row MAC computed as the store does, under `storeKey`. */
function forgeRow(path: string, storeKey: Buffer, vaultId: string, signatureId: string): void {
  const db = new Database(path);
  try {
    const row = db.prepare('SELECT * FROM wallets WHERE signature_id = ?').get(signatureId) as Record<string, unknown>;
    const publicData = JSON.stringify({
      ...(JSON.parse(row.public_data as string) as Record<string, unknown>),
      xpub: ATTACKER_XPUB,
    });
    const forged = { ...row, public_data: publicData };
    const key = deriveMacKey(storeKey, vaultId, 'row');
    db.prepare('UPDATE wallets SET public_data = ?, mac = ? WHERE signature_id = ?').run(
      publicData,
      macFields(key, WALLETS_MAC_TABLE.tag, WALLETS_MAC_TABLE.fields(forged)),
      signatureId,
    );
  } finally {
    db.close();
  }
}

/** Points the token binding at another PKCS#11 library and re-authenticates the meta under `storeKey`. */
function forgeBinding(path: string, storeKey: Buffer, vaultId: string): void {
  const store = WalletStore.open(path);
  try {
    store.unlock(storeKey, vaultId);
    const binding = store.getMetaJson('token_binding', tokenBindingRecord)!;
    const forged = { ...binding, modulePath: '/tmp/attacker-pkcs11.so' };
    // The attacker recomputes the meta MAC exactly as the code does, with the old key.
    store.setMeta('token_binding', JSON.stringify(forged));
    const key = deriveMacKey(storeKey, vaultId, 'row');
    store.setMeta('store_key_check', macFields(key, 'key-check', [vaultId]).toString('hex'));
    store.setMeta(
      'meta_mac',
      `v2:${macFields(
        key,
        'meta v2',
        metaMacFields((k) => store.getMeta(k)),
      ).toString('hex')}`,
    );
  } finally {
    store.close();
  }
}

describe('attack: an old store key (from before rotate / revoke / recover) forges rows and the binding', () => {
  const bench = new GateBench();
  let signatureId: string;
  let address: string;
  let vaultId: string;
  let shares: string[];

  beforeAll(async () => {
    const init = await bench.init(['alice', 'bob', 'carol'], { threshold: 2 });
    vaultId = (init.json() as { vaultId: string }).vaultId;
    shares = await bench.recoveryShares(init);
    signatureId = await bench.wallet('BTC');
    address = (await bench.cli(['getaddress', signatureId, '0'])).json() as string;
  });

  async function attackAfter(op: () => Promise<string[]>): Promise<void> {
    const before = bench.sealRecord() as SealRecord;
    const oldKey = await oldSecretFrom(before, shares, vaultId);
    shares = await op();

    // Sanity: the old key really is the pre-rotation key (it opens the old seal's shares).
    expect(oldKey.length).toBe(32);
    const rowCopy = copyVault(bench);
    forgeRow(rowCopy, oldKey, vaultId, signatureId);
    const r = await bench.cli(['getaddress', signatureId, '0'], { path: rowCopy });
    expect(r.stdout).not.toContain('"'); // no (attacker's) address came out
    expectError(r, 'VAULT_ROW_TAMPERED');

    const bindingCopy = copyVault(bench);
    forgeBinding(bindingCopy, oldKey, vaultId);
    expectError(await bench.cli(['getaddress', signatureId, '0'], { path: bindingCopy }), 'VAULT_META_TAMPERED');
    oldKey.fill(0);

    // Control: the same forgery with the CURRENT quorum's key is accepted (the harness really forges).
    const curKey = await oldSecretFrom(bench.sealRecord() as SealRecord, shares, vaultId);
    const controlCopy = copyVault(bench);
    forgeRow(controlCopy, curKey, vaultId, signatureId);
    // With the current key the attacker can also re-bind the row sets (row-set.ts).
    const control = WalletStore.open(controlCopy);
    try {
      control.unlock(curKey, vaultId);
      control.transaction(() => control.rebuildRowSets());
    } finally {
      control.close();
    }
    curKey.fill(0);
    const forgedAddress = (await bench.cli(['getaddress', signatureId, '0'], { path: controlCopy })).json();
    expect(forgedAddress).toHaveProperty('address');
    expect(forgedAddress).not.toEqual(address);

    // The real vault is untouched and still works.
    expect((await bench.cli(['getaddress', signatureId, '0'])).json()).toEqual(address);
  }

  it('after rotate', { timeout: 240_000 }, async () => {
    await attackAfter(async () => {
      const r = await bench.cli(['rotate']);
      expectOk(r);
      return await bench.recoveryShares(r);
    });
  });

  it('after revoke', { timeout: 240_000 }, async () => {
    await attackAfter(async () => {
      const r = await bench.cli(['revoke', 'carol']);
      expectOk(r);
      return await bench.recoveryShares(r);
    });
  });

  it('after recover', { timeout: 240_000 }, async () => {
    await attackAfter(async () => {
      const r = await bench.cli(['recover', '--labels', 'erin,frank'], { input: `${shares[0]}\n${shares[1]}\n` });
      expectOk(r);
      bench.learn(r);
      return await bench.recoveryShares(r);
    });
  });
});
