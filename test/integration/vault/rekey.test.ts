import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OtpStore } from '../../../src/vault/otp-store.js';
import { PasswordProvider } from '../../../src/vault/password-provider.js';
import { applySeal, newVaultSecret } from '../../../src/vault/seal-rotation.js';
import {
  decryptSecret,
  encryptSecretEntry,
  generatePrivateKeys,
  signWithEntry,
} from '../../../src/vault/entry-secrets.js';
import { createTestVault, FAST_SCRYPT, openTestVault, TEST_PASSWORD } from '../../support/vault.js';

const MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

describe('a rotation re-keys the store in-process and keeps every secret usable', () => {
  it('mnemonics, token keys, OTP rows (private-id hash) and the store counter survive two rotations', async () => {
    const t = await createTestVault({ testnetOnly: true });
    const v = t.vault;
    const mn = encryptSecretEntry(
      v,
      { chain: 'BTC', testnet: true, kind: 'mnemonic', publicData: { xpub: 'tpub-test' } },
      Buffer.from(MNEMONIC),
    );
    v.store.addEntries([mn]);
    const [pk] = generatePrivateKeys(v, { chain: 'ETH', testnet: true, publicData: () => ({ address: '0xabc' }) }, 1);
    const otp = new OtpStore(v.store);
    const privateId = Buffer.from('a1b2c3d4e5f6', 'hex');
    otp.add({ publicId: 'cccccccccccb', keyId: '00ff', privateId, label: 'otp-a' });
    expect(v.store.bumpCounter()).toBe(1);
    const keyBefore = Buffer.from(v.currentSecret().storeKey);
    const provider = new PasswordProvider(async () => Buffer.from(TEST_PASSWORD), FAST_SCRYPT);
    for (let round = 0; round < 2; round++) {
      const secret = newVaultSecret();
      const record = await provider.seal(secret, { vaultId: v.vaultId, mainnet: false, audit: () => undefined });
      applySeal(v, record, secret);
      secret.storeKey.fill(0);
      secret.tokenPin.fill(0);
    }
    expect(v.currentSecret().storeKey.equals(keyBefore)).toBe(false);
    v.seal();

    const r = await openTestVault(t.path);
    try {
      expect(r.store.listEntries()).toHaveLength(2);
      expect(decryptSecret(r, r.store.requireEntry(mn.signatureId)).toString()).toBe(MNEMONIC);
      const sig = signWithEntry(r, r.store.requireEntry(pk!.signatureId), createHash('sha256').update('x').digest());
      expect(sig.r.length).toBeGreaterThan(0);
      const o = new OtpStore(r.store);
      const cred = o.get('cccccccccccb')!;
      expect(o.privateIdMatches(cred, privateId)).toBe(true);
      expect(o.privateIdMatches(cred, Buffer.from('000000000000', 'hex'))).toBe(false);
      expect(r.store.storeCounter()).toBe(1);
      expect(r.store.bumpCounter()).toBe(2);
    } finally {
      r.seal();
    }
  });
});
