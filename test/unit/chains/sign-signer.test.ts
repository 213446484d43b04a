import { describe, it, expect } from 'vitest';
import * as ecc from '@bitcoinerlab/secp256k1';
import { ECPairFactory } from 'ecpair';
import { secp256k1 } from '@noble/curves/secp256k1';
import { createHash } from 'node:crypto';
import {
  derSignature,
  hostDigestSigner,
  signDigestChecked,
  type DigestSigner,
} from '../../../src/chains/digest-signer.js';

const ECPair = ECPairFactory(ecc);
const N = secp256k1.Point.CURVE().n;

function key(n: number): Uint8Array {
  const k = new Uint8Array(32);
  k[31] = n;
  k[0] = 0x11;
  return k;
}
function digest(label: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(label).digest());
}
const big = (b: Uint8Array) => BigInt('0x' + Buffer.from(b).toString('hex'));
const b32 = (n: bigint) => new Uint8Array(Buffer.from(n.toString(16).padStart(64, '0'), 'hex'));

describe('hostDigestSigner', () => {
  it('derives the compressed public key and signs RFC 6979 low-S like ecpair', async () => {
    for (let i = 1; i <= 5; i++) {
      const k = key(i);
      const s = hostDigestSigner(k);
      const pair = ECPair.fromPrivateKey(k);
      expect(Buffer.from(s.publicKey).toString('hex')).toBe(Buffer.from(pair.publicKey).toString('hex'));
      const d = digest(`msg ${i}`);
      const sig = await s.signDigest(d);
      expect(Buffer.from([...sig.r, ...sig.s]).toString('hex')).toBe(Buffer.from(pair.sign(d)).toString('hex'));
      expect(big(sig.s) <= N / 2n).toBe(true);
      expect(ecc.verify(d, pair.publicKey, new Uint8Array([...sig.r, ...sig.s]), true)).toBe(true);
    }
  });

  it('keeps its own copy of the key and refuses to sign after wipe()', async () => {
    const k = key(7);
    const s = hostDigestSigner(k);
    k.fill(0);
    const sig = await s.signDigest(digest('a'));
    expect(ecc.verify(digest('a'), s.publicKey, new Uint8Array([...sig.r, ...sig.s]))).toBe(true);
    s.wipe();
    await expect(s.signDigest(digest('a'))).rejects.toThrow(/wiped/);
  });

  it('rejects invalid private keys and digests', async () => {
    expect(() => hostDigestSigner(new Uint8Array(32))).toThrow(/not a valid/);
    expect(() => hostDigestSigner(new Uint8Array(31).fill(1))).toThrow(/not a valid/);
    await expect(hostDigestSigner(key(1)).signDigest(new Uint8Array(31))).rejects.toThrow(/32 bytes/);
  });
});

describe('derSignature', () => {
  it('matches noble DER for many signatures, including short r/s', async () => {
    const s = hostDigestSigner(key(3));
    for (let i = 0; i < 200; i++) {
      const d = digest(`der ${i}`);
      const sig = await s.signDigest(d);
      const expected = new secp256k1.Signature(big(sig.r), big(sig.s)).toBytes('der');
      expect(Buffer.from(derSignature(sig)).toString('hex')).toBe(Buffer.from(expected).toString('hex'));
    }
    const tiny = derSignature({ r: b32(1n), s: b32(0x80n) });
    expect(Buffer.from(tiny).toString('hex')).toBe('3007020101020200' + '80');
  });
});

describe('signDigestChecked', () => {
  const real = hostDigestSigner(key(9));
  const wrap = (f: (d: Uint8Array) => Promise<{ r: Uint8Array; s: Uint8Array; recovery?: 0 | 1 }>): DigestSigner => ({
    publicKey: real.publicKey,
    signDigest: f,
  });

  it('passes a good signature through', async () => {
    const d = digest('ok');
    const sig = await signDigestChecked(real, d);
    expect(sig).toEqual(await real.signDigest(d));
  });

  it('finds the recovery id of a signer that does not give one (a token), both candidates', async () => {
    const bare = wrap(async (x) => {
      const { r, s } = await real.signDigest(x);
      return { r, s };
    });
    const seen = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const d = digest(`bare ${i}`);
      const expected = await real.signDigest(d);
      const sig = await signDigestChecked(bare, d);
      expect(sig.recovery).toBe(expected.recovery);
      seen.add(sig.recovery);
    }
    expect([...seen].sort()).toEqual([0, 1]);
  });

  it('refuses a signature without a recovery id that no candidate recovers to the key', async () => {
    const other = hostDigestSigner(key(11));
    const foreign = wrap(async (x) => {
      const { r, s } = await other.signDigest(x);
      return { r, s };
    });
    await expect(signDigestChecked(foreign, digest('foreign'))).rejects.toThrow(
      /does not verify against the signer public key/,
    );
    const tampered = wrap(async (x) => {
      const { r, s } = await real.signDigest(x);
      const t = Uint8Array.from(s);
      t[31] ^= 1;
      return { r, s: t };
    });
    await expect(signDigestChecked(tampered, digest('tampered'))).rejects.toThrow(/does not verify/);
  });

  it('refuses high-S, wrong recovery id, wrong key and bad sizes', async () => {
    const d = digest('bad');
    const highS = wrap(async (x) => {
      const s = await real.signDigest(x);
      return { r: s.r, s: b32(N - big(s.s)), recovery: (1 - s.recovery) as 0 | 1 };
    });
    await expect(signDigestChecked(highS, d)).rejects.toThrow(/high-S/);
    const wrongRec = wrap(async (x) => {
      const s = await real.signDigest(x);
      return { ...s, recovery: (1 - s.recovery) as 0 | 1 };
    });
    await expect(signDigestChecked(wrongRec, d)).rejects.toThrow(/does not verify/);
    const other = hostDigestSigner(key(10));
    await expect(
      signDigestChecked(
        wrap((x) => other.signDigest(x)),
        d,
      ),
    ).rejects.toThrow(/does not verify/);
    await expect(
      signDigestChecked(
        wrap(async () => ({ r: new Uint8Array(31), s: new Uint8Array(32), recovery: 0 })),
        d,
      ),
    ).rejects.toThrow(/32 bytes/);
  });
});
