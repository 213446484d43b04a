import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1';
import Database from 'better-sqlite3';
import pkcs11js from 'pkcs11js';
import { beforeAll, describe, expect, it } from 'vitest';
import { entryAad, type EntryKind } from '../../src/vault/entries.js';
import { META } from '../../src/vault/meta-auth.js';
import { decryptSecret, encryptSecretEntry, importPrivateKey, signWithEntry } from '../../src/vault/entry-secrets.js';
import { TEST_PIN } from '../support/softhsm.js';
import { createTestVault, openTestVault, type TestVault } from '../support/vault.js';
import { destroyObject } from '../../src/hsm/token-testing.js';

/**
 * Issue 9, item 3: an attacker who has wallet.dat, the token and the token PIN, but not the
 * quorum (no password, no YubiKey touches), uses the PKCS#11 module directly, as any
 * pkcs11-tool user could. With the PIN alone no plain private key and no mnemonic may come out.
 */
const MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const CKM_AES_KEY_WRAP_PAD = 0x210a;
const CKM_AES_GCM = 0x1087;

interface Row {
  signature_id: string;
  chain: string;
  kind: EntryKind;
  wrapped_secret: Buffer;
}

/** The attacker's own session on the token, logged in with the PIN alone. */
function attackerSession(): { lib: pkcs11js.PKCS11; session: Buffer } {
  const lib = new pkcs11js.PKCS11();
  lib.load(MODULE);
  try {
    lib.C_Initialize();
  } catch {
    // Already initialised in this process by the vault: the module is shared.
  }
  const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === 'hardkms')!;
  const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  try {
    lib.C_Login(session, pkcs11js.CKU_USER, TEST_PIN);
  } catch (e) {
    // the vault under test is unsealed in this same process: the token is logged in already
    if ((e as { code?: number }).code !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) throw e;
  }
  return { lib, session };
}

function secretKeys(lib: pkcs11js.PKCS11, session: Buffer): Buffer[] {
  lib.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY }]);
  const found = lib.C_FindObjects(session, 100);
  lib.C_FindObjectsFinal(session);
  return found;
}

function rows(path: string): Row[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT signature_id, chain, kind, wrapped_secret FROM wallets').all() as Row[];
  } finally {
    db.close();
  }
}

/** Attack 3a: every key that can unwrap, every stored blob, unwrapped as extractable; CKA_VALUE read. */
function unwrapAttack(path: string, privateKey: Buffer): Buffer[] {
  const { lib, session } = attackerSession();
  const blobs = rows(path).filter((r) => r.kind === 'privateKey');
  expect(blobs.length).toBeGreaterThan(0);
  const leaked: Buffer[] = [];
  for (const key of secretKeys(lib, session)) {
    for (const sensitive of [false, true]) {
      for (const { wrapped_secret } of blobs) {
        let handle: Buffer | undefined;
        try {
          handle = lib.C_UnwrapKey(session, { mechanism: CKM_AES_KEY_WRAP_PAD }, key, wrapped_secret, [
            { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
            { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
            { type: pkcs11js.CKA_TOKEN, value: false },
            { type: pkcs11js.CKA_SENSITIVE, value: sensitive },
            { type: pkcs11js.CKA_EXTRACTABLE, value: true },
          ]);
        } catch {
          continue;
        }
        try {
          const [v] = lib.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_VALUE }]);
          leaked.push(v!.value as Buffer);
        } catch {
          // sensitive but extractable: wrap it out under a key of the attacker's own
          const mine = lib.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
            { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
            { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
            { type: pkcs11js.CKA_TOKEN, value: false },
            { type: pkcs11js.CKA_SENSITIVE, value: false },
            { type: pkcs11js.CKA_EXTRACTABLE, value: true },
            { type: pkcs11js.CKA_WRAP, value: true },
          ]);
          lib.C_WrapKey(session, { mechanism: CKM_AES_KEY_WRAP_PAD }, mine, handle, Buffer.alloc(4096));
          leaked.push(privateKey);
        }
      }
    }
  }
  lib.C_CloseSession(session);
  return leaked.filter((v) => v.includes(privateKey.subarray(1)));
}

/** Attack 3b: every key that can decrypt, every stored mnemonic, AES-GCM with the entry's AAD. */
function decryptAttack(path: string): string[] {
  const { lib, session } = attackerSession();
  const mnemonics = rows(path).filter((r) => r.kind === 'mnemonic');
  expect(mnemonics.length).toBeGreaterThan(0);
  const outputs: string[] = [];
  for (const key of secretKeys(lib, session)) {
    for (const r of mnemonics) {
      const iv = r.wrapped_secret.subarray(0, 12);
      try {
        const aad = entryAad({ signatureId: r.signature_id, chain: r.chain, kind: r.kind });
        lib.C_DecryptInit(
          session,
          {
            mechanism: CKM_AES_GCM,
            parameter: { type: pkcs11js.CK_PARAMS_GCM, iv, ivBits: 96, aad, tagBits: 128 } as pkcs11js.GcmParams,
          },
          key,
        );
        outputs.push(
          lib
            .C_Decrypt(session, r.wrapped_secret.subarray(12), Buffer.alloc(r.wrapped_secret.length))
            .toString('latin1'),
        );
      } catch {
        // not this key
      }
    }
  }
  lib.C_CloseSession(session);
  return outputs.filter((o) => o.includes('abandon'));
}

describe('attack 3: the token PIN alone reveals nothing (issue 9 item 3)', () => {
  let tv: TestVault;
  const privateKey = Buffer.from(secp256k1.utils.randomPrivateKey());

  beforeAll(async () => {
    tv = await createTestVault();
    const pub = secp256k1.getPublicKey(privateKey, true);
    const pk = importPrivateKey(
      tv.vault,
      { chain: 'ETH', testnet: false, publicData: () => ({ address: '0xabc' }) },
      privateKey,
      pub,
    );
    const mn = encryptSecretEntry(
      tv.vault,
      { chain: 'BTC', testnet: false, kind: 'mnemonic', publicData: { xpub: 'xpub-test' } },
      Buffer.from(MNEMONIC),
    );
    tv.vault.store.addEntries([pk, mn]);
    tv.vault.seal('test');
  });

  it('3a: C_UnwrapKey of a stored blob as extractable / not sensitive never yields CKA_VALUE', () => {
    expect(unwrapAttack(tv.path, privateKey)).toEqual([]);
  });

  it('3b: C_Decrypt of a stored mnemonic with the data key never yields the mnemonic', () => {
    expect(decryptAttack(tv.path)).toEqual([]);
  });

  it('3c: the token itself refuses to unwrap as extractable with a vault wrap key (CKA_UNWRAP_TEMPLATE on SoftHSM2)', async () => {
    const vault = await openTestVault(tv.path);
    try {
      expect(vault.token.wrapKeyEnforcesTemplate()).toBe(true);
      // A raw token blob, without the inner layer: what a PIN holder would have if the
      // inner layer were gone. The token alone must still refuse an extractable unwrap.
      const raw = vault.token.importSecp256k1(privateKey, secp256k1.getPublicKey(privateKey, true));
      expect(() => vault.token.revealLegacyWrapped(raw)).toThrow(/TEMPLATE_INCONSISTENT/);
      const { lib, session } = attackerSession();
      try {
        lib.C_FindObjectsInit(session, [
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
          { type: pkcs11js.CKA_ID, value: Buffer.from(vault.binding.keys.wrapKeyId, 'hex') },
        ]);
        const [wrapKey] = lib.C_FindObjects(session, 1);
        lib.C_FindObjectsFinal(session);
        for (const t of [
          { sensitive: false, extractable: true, token: false },
          { sensitive: true, extractable: true, token: false },
          { sensitive: true, extractable: false, token: true },
        ]) {
          expect(() =>
            lib.C_UnwrapKey(session, { mechanism: CKM_AES_KEY_WRAP_PAD }, wrapKey!, raw.wrapped, [
              { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
              { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
              { type: pkcs11js.CKA_TOKEN, value: t.token },
              { type: pkcs11js.CKA_SENSITIVE, value: t.sensitive },
              { type: pkcs11js.CKA_EXTRACTABLE, value: t.extractable },
            ]),
          ).toThrow(/CKR_TEMPLATE_INCONSISTENT/);
        }
      } finally {
        lib.C_CloseSession(session);
      }
      // and the quorum path still shows the key (export is the audited ceremony)
      const entry = vault.store.listEntries().find((e) => e.kind === 'privateKey')!;
      const plain = decryptSecret(vault, entry);
      expect(plain.equals(privateKey)).toBe(true);
      plain.fill(0);
    } finally {
      vault.seal('test');
    }
  });
});

describe('attack 3 on a store made before the fix: migrated at the next unseal', () => {
  it('the PIN alone reads a legacy store; after one unseal it reads nothing, and the quorum still exports and signs', async () => {
    const tv = await createTestVault();
    const privateKey = Buffer.from(secp256k1.utils.randomPrivateKey());
    const pub = Buffer.from(secp256k1.getPublicKey(privateKey, true));
    const v = tv.vault;
    // Make the store look like one from before the fix: a wrap key without a template,
    // rows without the inner layer, no inner key.
    const oldWrapId = randomBytes(16).toString('hex');
    const { lib, session } = attackerSession();
    lib.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_WRAP, value: true },
      { type: pkcs11js.CKA_UNWRAP, value: true },
      { type: pkcs11js.CKA_ID, value: Buffer.from(oldWrapId, 'hex') },
    ]);
    lib.C_CloseSession(session);
    const templatedWrapId = v.binding.keys.wrapKeyId;
    v.store.transaction(() => v.adoptInnerLayer(undefined, oldWrapId));
    v.store.writeAuthenticatedMeta({ [META.retiredWrapKey]: undefined }); // under the meta MAC, as a legacy store's meta was
    v.token.bindVaultKeys(v.binding.keys);
    const wrapped = v.token.importSecp256k1(privateKey, pub);
    const pkId = randomUUID();
    const mnId = randomUUID();
    v.store.addEntries([
      {
        signatureId: pkId,
        chain: 'ETH',
        testnet: false,
        kind: 'privateKey',
        publicData: { address: '0xabc', publicKey: pub.toString('hex') },
        wrappedSecret: wrapped.wrapped,
        mechanism: wrapped.mechanism,
      },
      {
        signatureId: mnId,
        chain: 'BTC',
        testnet: false,
        kind: 'mnemonic',
        publicData: { xpub: 'xpub-test' },
        wrappedSecret: v.token.encrypt(
          Buffer.from(MNEMONIC),
          entryAad({ signatureId: mnId, chain: 'BTC', kind: 'mnemonic' }),
        ),
        mechanism: 'CKM_AES_GCM',
      },
    ]);
    v.store.writeAuthenticatedMeta({ [META.innerKey]: undefined });
    v.seal('test');
    // The old store: both attacks work with the PIN alone.
    expect(unwrapAttack(tv.path, privateKey).length).toBeGreaterThan(0);
    expect(decryptAttack(tv.path).length).toBeGreaterThan(0);

    const vault = await openTestVault(tv.path);
    try {
      expect(vault.binding.keys.wrapKeyId).not.toBe(oldWrapId);
      expect(vault.binding.keys.wrapKeyId).not.toBe(templatedWrapId);
      expect(vault.token.wrapKeyEnforcesTemplate()).toBe(true);
      expect(decryptSecret(vault, vault.store.requireEntry(mnId)).toString()).toBe(MNEMONIC);
      expect(decryptSecret(vault, vault.store.requireEntry(pkId)).equals(privateKey)).toBe(true);
      const digest = randomBytes(32);
      const sig = signWithEntry(vault, vault.store.requireEntry(pkId), digest);
      expect(secp256k1.verify(Buffer.concat([sig.r, sig.s]), digest, pub)).toBe(true);
      // the old wrap key is gone from the token
      expect(() => vault.token.destroySecretKey(oldWrapId)).toThrow(/not on token/);
      expect(vault.store.getMeta(META.retiredWrapKey)).toBeUndefined();
    } finally {
      vault.seal('test');
    }
    expect(unwrapAttack(tv.path, privateKey)).toEqual([]);
    expect(decryptAttack(tv.path)).toEqual([]);
    const log = readFileSync(join(tv.dir, 'audit.log'), 'utf8');
    expect(log).toMatch(/"event":"vault\.migrated"/);
    expect(log).toMatch(/"event":"vault\.retired_key"[^\n]*"result":"ok"/);
  });
});

describe('the daemon drops the PIN after C_Login; destroy failures are counted (issue 9 items 3, 8)', () => {
  it('signs and decrypts with the session alone, zeroes the PIN, refuses to re-seal; a failed destroy is reported', async () => {
    const tv = await createTestVault();
    const privateKey = Buffer.from(secp256k1.utils.randomPrivateKey());
    const pub = Buffer.from(secp256k1.getPublicKey(privateKey, true));
    const entry = importPrivateKey(
      tv.vault,
      { chain: 'ETH', testnet: false, publicData: () => ({ address: '0xabc' }) },
      privateKey,
      pub,
    );
    tv.vault.store.addEntries([entry]);
    const pin = tv.vault.currentSecret().tokenPin;
    tv.vault.forgetTokenPin();
    try {
      expect(pin.every((b) => b === 0)).toBe(true);
      expect(() => tv.vault.currentSecret()).toThrow(/dropped the token PIN/);
      const digest = randomBytes(32);
      const sig = signWithEntry(tv.vault, tv.vault.store.requireEntry(entry.signatureId), digest);
      expect(secp256k1.verify(Buffer.concat([sig.r, sig.s]), digest, pub)).toBe(true);
      const seen: string[] = [];
      tv.vault.token.onDestroyFailure = (f) => seen.push(f.operation);
      const bogus = Buffer.alloc(8);
      bogus.writeBigUInt64LE(987654321n);
      destroyObject(tv.vault.token, bogus);
      expect(tv.vault.token.destroyFailures).toBe(1);
      expect(seen).toEqual(['destroying a session key']);
    } finally {
      tv.vault.seal('test');
    }
  });
});
