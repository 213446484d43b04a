/**
 * Ed25519 in the token (XRP, XLM, SOL, ALGO): import + wrap, generation in the token,
 * unwrap → CKM_EDDSA → destroy on a real SoftHSM2 token, checked by @noble/curves.
 */
import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Token } from '../../../src/hsm/token.js';
import { createTestToken, TEST_PIN } from '../../support/softhsm.js';
import { destroyObject, generateResidentEd25519, signEd25519Raw } from '../../../src/hsm/token-testing.js';
import { signEd25519Checked } from '../../../src/chains/ed25519/signer.js';

describe('ed25519 keys on a real SoftHSM2 token', () => {
  let token: Token;

  beforeAll(() => {
    createTestToken();
    token = Token.open();
    token.login(Buffer.from(TEST_PIN));
    token.bindVaultKeys(token.generateVaultKeys('ed25519-test-vault'));
  });
  afterAll(() => token?.close());

  it('imports and wraps a stored key; signatures verify, are deterministic and equal RFC 8032 (noble)', () => {
    const seed = randomBytes(32);
    const pub = ed25519.getPublicKey(seed);
    const wrapped = token.importEd25519(seed);
    // sealed by the data key: the wrap key's unwrap template forbids reading a seed back
    expect(wrapped.mechanism).toBe('CKM_AES_GCM');
    expect(Buffer.from(wrapped.publicKey)).toEqual(Buffer.from(pub));
    expect(wrapped.wrapped.includes(seed)).toBe(false);
    for (const len of [1, 32, 200, 1232]) {
      const message = randomBytes(len);
      const a = token.signEd25519WithWrapped(wrapped, message);
      const b = token.signEd25519WithWrapped(wrapped, message);
      expect(a).toHaveLength(64);
      expect(a.equals(b)).toBe(true);
      expect(ed25519.verify(a, message, pub)).toBe(true);
      expect(a.equals(Buffer.from(ed25519.sign(message, seed)))).toBe(true);
    }
  });

  it('generates a key in the token: its public key is the seed’s, it signs, and reveal gives the seed back', () => {
    const wrapped = token.generateEd25519();
    expect(wrapped.publicKey).toHaveLength(32);
    const message = Buffer.from('hardkms ed25519');
    const sig = token.signEd25519WithWrapped(wrapped, message);
    expect(ed25519.verify(sig, message, wrapped.publicKey)).toBe(true);
    const seed = token.revealEd25519(wrapped);
    try {
      expect(Buffer.from(ed25519.getPublicKey(seed))).toEqual(Buffer.from(wrapped.publicKey));
    } finally {
      seed.fill(0);
    }
    // Two generations never give the same key.
    expect(Buffer.from(token.generateEd25519().publicKey).equals(Buffer.from(wrapped.publicKey))).toBe(false);
  });

  it('attack: a wrapped key moved to another entry (other public key): its signature is refused by the check', async () => {
    const mine = token.importEd25519(randomBytes(32));
    const other = token.importEd25519(randomBytes(32));
    const swapped = { ...mine, wrapped: other.wrapped };
    const message = Buffer.from('pay the attacker');
    // The token signs with the key it holds; the chain code's one check against the entry's key refuses it.
    const signer = {
      publicKey: swapped.publicKey,
      sign: async (m: Uint8Array) => token.signEd25519WithWrapped(swapped, m),
    };
    await expect(signEd25519Checked(signer, message)).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    expect(ed25519.verify(token.signEd25519WithWrapped(swapped, message), message, other.publicKey)).toBe(true);
  });

  it('a tampered blob is rejected by the token; a wrong-length seed is refused before the token', () => {
    const w = token.importEd25519(randomBytes(32));
    const bad = Buffer.from(w.wrapped);
    bad[5] = bad[5]! ^ 0xff;
    expect(() => token.signEd25519WithWrapped({ ...w, wrapped: bad }, Buffer.from('x'))).toThrow();
    expect(() => token.importEd25519(randomBytes(31))).toThrow(/32-byte seed/);
    expect(() => token.signEd25519WithWrapped(w, Buffer.alloc(0))).toThrow(/empty message/);
    // The session is still usable afterwards.
    expect(ed25519.verify(token.signEd25519WithWrapped(w, Buffer.from('y')), Buffer.from('y'), w.publicKey)).toBe(true);
  });

  it('a resident token key signs with CKM_EDDSA too (the benchmark baseline)', () => {
    const k = generateResidentEd25519(token);
    const message = randomBytes(64);
    expect(ed25519.verify(signEd25519Raw(token, k.handle, message), message, k.publicKey)).toBe(true);
    destroyObject(token, k.handle);
  });
});
