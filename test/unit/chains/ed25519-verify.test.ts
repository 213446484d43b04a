/**
 * verifyEd25519 (Node's OpenSSL) replaced noble-curves' verify in the token layer and the
 * chains' checks (issue 13: 0.1 ms instead of 1.4 ms). It must accept every signature noble
 * accepted of the kind hardkms makes (RFC 8032's vectors, noble's own signatures: canonical
 * ones; OpenSSL is the stricter of the two on non-canonical encodings, which no token makes),
 * and refuse a changed message, signature or key, and malformed input, without throwing.
 */
import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519';
import { describe, expect, it } from 'vitest';
import { verifyEd25519 } from '../../../src/ed25519-verify.js';

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

// RFC 8032 §7.1, TEST 1 (empty message) and TEST 2 (one byte).
const VECTORS = [
  {
    pub: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    msg: '',
    sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    pub: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    msg: '72',
    sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
];

describe('verifyEd25519', () => {
  it('accepts the RFC 8032 vectors and refuses each with one bit changed', () => {
    for (const v of VECTORS) {
      const [pub, msg, sig] = [hex(v.pub), hex(v.msg), hex(v.sig)];
      expect(verifyEd25519(sig, msg, pub)).toBe(true);
      const badSig = Uint8Array.from(sig);
      badSig[10]! ^= 1;
      expect(verifyEd25519(badSig, msg, pub)).toBe(false);
      const badMsg = Uint8Array.from([...msg, 0]);
      expect(verifyEd25519(sig, badMsg, pub)).toBe(false);
    }
  });

  it('agrees with noble-curves on its signatures, and refuses another key', () => {
    for (let i = 0; i < 50; i++) {
      const sk = ed25519.utils.randomPrivateKey();
      const pub = ed25519.getPublicKey(sk);
      const msg = randomBytes(1 + (i % 200));
      const sig = ed25519.sign(msg, sk);
      expect(verifyEd25519(sig, msg, pub)).toBe(true);
      expect(verifyEd25519(sig, msg, ed25519.getPublicKey(ed25519.utils.randomPrivateKey()))).toBe(false);
    }
  });

  it('answers false, without throwing, for wrong sizes and a key that is not a curve point', () => {
    const sk = ed25519.utils.randomPrivateKey();
    const pub = ed25519.getPublicKey(sk);
    const msg = randomBytes(32);
    const sig = ed25519.sign(msg, sk);
    expect(verifyEd25519(sig.subarray(0, 63), msg, pub)).toBe(false);
    expect(verifyEd25519(sig, msg, pub.subarray(0, 31))).toBe(false);
    // y = 2 has no x on edwards25519: not a point.
    const notAPoint = new Uint8Array(32);
    notAPoint[0] = 2;
    expect(ed25519.ExtendedPoint.fromHex.bind(null, notAPoint)).toThrow();
    expect(verifyEd25519(sig, msg, notAPoint)).toBe(false);
  });
});
