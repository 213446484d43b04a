/**
 * Meta records are read before the meta MAC can be checked (its key comes out of the seal):
 * a hand-edited one must fail as it is read, with the record and field named and nothing of
 * what was found echoed, never as a TypeError later in the unseal.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HardkmsError } from '../../../src/errors.js';
import { META } from '../../../src/vault/meta-auth.js';
import { auditHeadRecord, sealRecord, tokenBindingRecord } from '../../../src/vault/meta-records.js';
import { gatePolicyRecord } from '../../../src/vault/gate-policy.js';
import { WalletStore } from '../../../src/vault/store.js';

const MARK = 'planted-by-the-attacker-0123456789';
const binding = {
  modulePath: '/usr/lib/softhsm/libsofthsm2.so',
  label: 'hardkms',
  serial: '1234',
  profile: 'softhsm2',
  keys: { wrapKeyId: 'a1', dataKeyId: 'a2', auditKeyId: 'a3' },
  auditLog: 'audit.log',
  fromALaterVersion: true,
};

let store: WalletStore | undefined;
afterEach(() => store?.close());

function storeWith(key: string, value: string): WalletStore {
  store = WalletStore.create(join(mkdtempSync(join(tmpdir(), 'hardkms-meta-')), 'wallet.dat'));
  store.setMeta(key, value);
  return store;
}

function errorOf(fn: () => unknown): HardkmsError {
  try {
    fn();
  } catch (e) {
    if (e instanceof HardkmsError) return e;
    throw e;
  }
  throw new Error('expected a HardkmsError');
}

describe('meta records read before the MAC', () => {
  it('reads a well-formed binding, keeping fields a later version added', () => {
    expect(storeWith(META.token, JSON.stringify(binding)).getMetaJson(META.token, tokenBindingRecord)).toEqual(binding);
  });

  const cases: [string, string, Parameters<WalletStore['getMetaJson']>[1], string][] = [
    [META.token, JSON.stringify({ ...binding, keys: MARK }), tokenBindingRecord, 'keys: expected an object'],
    [
      META.token,
      JSON.stringify({ ...binding, keys: { ...binding.keys, wrapKeyId: 7 } }),
      tokenBindingRecord,
      'keys.wrapKeyId',
    ],
    [META.token, `{"label": "${MARK}"`, tokenBindingRecord, 'it is not JSON'],
    [META.seal, JSON.stringify({ provider: { name: MARK } }), sealRecord, 'provider: expected a string, got an object'],
    [META.auditHead, JSON.stringify({ seq: -1, hash: MARK }), auditHeadRecord, 'seq: expected a non-negative integer'],
    [
      META.gatePolicy,
      JSON.stringify({ passwordOnMainnet: MARK, emulatedOnMainnet: false, singleOperatorOnMainnet: false }),
      gatePolicyRecord,
      'passwordOnMainnet: expected true or false',
    ],
  ];
  it.each(cases)('refuses a malformed %s record, naming the field, not the value', (key, value, schema, field) => {
    const e = errorOf(() => storeWith(key, value).getMetaJson(key, schema));
    expect(e.code).toBe('VAULT_META_TAMPERED');
    expect(e.message).toContain(`"${key}" record`);
    expect(e.message).toContain(field);
    expect(e.message).not.toContain(MARK);
    expect(e.hint).toMatch(/backup/);
  });
});

describe('a wallet row read back', () => {
  const entry = (publicData: unknown) => ({
    signatureId: 'row-1',
    chain: 'BTC',
    testnet: true,
    kind: 'mnemonic' as const,
    publicData: publicData as never,
    wrappedSecret: Buffer.alloc(16, 1),
    mechanism: 'CKM_AES_GCM',
  });
  function storeHolding(publicData: unknown): WalletStore {
    store = WalletStore.create(join(mkdtempSync(join(tmpdir(), 'hardkms-row-')), 'wallet.dat'));
    store.unlock(Buffer.alloc(32, 7), 'vault-1');
    store.rebuildRowSets();
    store.addEntries([entry(publicData)]);
    return store;
  }

  it('reads well-formed public data, keeping fields a later version added', () => {
    const data = { xpub: 'tpub-x', keyType: 'ed25519', wif: { version: 239, compressed: false }, later: 1 };
    expect(storeHolding(data).requireEntry('row-1').publicData).toEqual(data);
  });

  it.each([
    [{ xpub: { value: MARK } }, 'publicData.xpub: expected a string'],
    [{ keyType: MARK }, "publicData.keyType: expected 'ed25519'"],
    [{ wif: { version: MARK, compressed: true } }, 'publicData.wif.version'],
    [[MARK], 'publicData: expected an object'],
  ])('refuses public data a MAC covers but no hardkms wrote (%j), naming the field, not the value', (data, field) => {
    const e = errorOf(() => storeHolding(data).requireEntry('row-1'));
    expect(e.code).toBe('VAULT_ROW_TAMPERED');
    expect(e.message).toContain("'row-1'");
    expect(e.message).toContain(field);
    expect(e.message).not.toContain(MARK);
  });
});
