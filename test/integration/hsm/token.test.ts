import { createHash, createVerify, randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { Token, type VaultKeyIds } from '../../../src/hsm/token.js';
import { createTestToken, TEST_PIN } from '../../support/softhsm.js';
import { destroyObject, tryReadValue, unwrapSecp256k1 } from '../../../src/hsm/token-testing.js';
import { findRecoveryId } from '../../../src/secp256k1-recover.js';

const HALF_N = secp256k1.CURVE.n / 2n;

describe('token layer on a real SoftHSM2 token', () => {
  let token: Token;
  let ids: VaultKeyIds;

  beforeAll(() => {
    createTestToken();
    token = Token.open();
    token.login(Buffer.from(TEST_PIN));
    ids = token.generateVaultKeys('0123456789abcdef');
    token.bindVaultKeys(ids);
  });
  afterAll(() => token?.close());

  it('imports, wraps, unwraps and signs; the signature verifies, is low-S and recovers to the key', () => {
    const priv = secp256k1.utils.randomPrivateKey();
    const pub = secp256k1.getPublicKey(priv, true);
    const wrapped = token.importSecp256k1(priv, pub);
    expect(wrapped.mechanism).toBe('CKM_AES_KEY_WRAP_PAD');
    expect(wrapped.wrapped.includes(Buffer.from(priv))).toBe(false);
    for (let i = 0; i < 20; i++) {
      const digest = randomBytes(32);
      const sig = token.signWithWrapped(wrapped, digest);
      const s = BigInt(`0x${sig.s.toString('hex')}`);
      expect(s <= HALF_N).toBe(true);
      const compact = Buffer.concat([sig.r, sig.s]);
      expect(secp256k1.verify(compact, digest, pub)).toBe(true);
      // The recovery id the pipeline finds (signDigestChecked) recovers, by noble, to the key.
      const recovery = findRecoveryId(compact, digest, pub)!;
      const recovered = secp256k1.Signature.fromCompact(compact).addRecoveryBit(recovery).recoverPublicKey(digest);
      expect(Buffer.from(recovered.toRawBytes(true))).toEqual(Buffer.from(pub));
    }
  });

  it('generates a key inside the token that signs, and refuses to reveal CKA_VALUE of the unwrapped object', () => {
    const generated = token.generateSecp256k1();
    expect(generated.publicKey.length).toBe(33);
    const digest = randomBytes(32);
    const sig = token.signWithWrapped(generated, digest);
    expect(secp256k1.verify(Buffer.concat([sig.r, sig.s]), digest, generated.publicKey)).toBe(true);
    const handle = unwrapSecp256k1(token, generated);
    try {
      expect(() => tryReadValue(token, handle)).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
    } finally {
      destroyObject(token, handle);
    }
  });

  it('refuses a wrapped blob that was altered', () => {
    const generated = token.generateSecp256k1();
    const bad = Buffer.from(generated.wrapped);
    bad[bad.length - 3]! ^= 0x01;
    expect(() => token.signWithWrapped({ ...generated, wrapped: bad }, randomBytes(32))).toThrow(
      /rejected a ciphertext|CKR_WRAPPED_KEY_INVALID|CKR_/,
    );
  });

  it('encrypts and decrypts with the data key; the AAD binds the ciphertext to its entry', () => {
    const seed = randomBytes(64);
    const aad = Buffer.from('id-1|ETH|mnemonic');
    const blob = token.encrypt(seed, aad);
    expect(blob.includes(seed)).toBe(false);
    expect(token.decrypt(blob, aad)).toEqual(seed);
    expect(() => token.decrypt(blob, Buffer.from('id-2|ETH|mnemonic'))).toThrow(/rejected a ciphertext/);
  });

  it('signs audit hashes with the P-256 audit key, verifiable offline with its PEM', () => {
    const hash = createHash('sha256').update('record').digest();
    const sig = token.auditSign(hash);
    const pem = token.auditPublicKeyPem(ids.auditKeyId);
    expect(pem).toMatch(/BEGIN PUBLIC KEY/);
    const ok = createVerify('sha256').update('record').verify({ key: pem, dsaEncoding: 'ieee-p1363' }, sig);
    expect(ok).toBe(true);
  });
});
