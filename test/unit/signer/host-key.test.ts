import { describe, expect, it } from 'vitest';
import { HardkmsError } from '../../../src/errors.js';
import { hostKeySigner, withMnemonicSeed } from '../../../src/signer/pipeline/host-key.js';

const PUB = Uint8Array.of(1, 2, 3);

/** A host key kind over a plain buffer: its "public key" is PUB unless told otherwise, its "signature" the key's first byte. */
function kind(key: Buffer, counter: { derived: number }, publicKey: Uint8Array = PUB) {
  return {
    derive: () => {
      counter.derived++;
      return key;
    },
    publicKeyOf: () => publicKey,
    mismatch: () => new HardkmsError('WALLET_XPUB_MISMATCH', 'not the resolved key'),
    sign: (k: Buffer, message: Uint8Array) => Uint8Array.of(k[0] ?? 0, message.length),
    zero: (k: Buffer) => k.fill(0),
  };
}

/** The host-key lifetime every mnemonic signing key (secp256k1, ed25519, ADA) shares. */
describe('host keys of mnemonic wallets', () => {
  it('derives once at the first signature, zeroes the key at wipe, and refuses a signature after it (KEY_WIPED)', async () => {
    const counter = { derived: 0 };
    const key = Buffer.alloc(32, 9);
    const s = hostKeySigner('sig-1', PUB, kind(key, counter));
    expect(s.signatureId).toBe('sig-1');
    expect(Array.from(s.publicKey)).toEqual([1, 2, 3]);
    expect(counter.derived).toBe(0);
    expect(Array.from(await s.sign(Uint8Array.of(7, 7)))).toEqual([9, 2]);
    expect(Array.from(await s.sign(Uint8Array.of(7)))).toEqual([9, 1]);
    expect(counter.derived).toBe(1);
    s.wipe();
    expect(key.equals(Buffer.alloc(32))).toBe(true);
    await expect(s.sign(Uint8Array.of(1))).rejects.toMatchObject({ code: 'KEY_WIPED' });
    s.wipe();
    expect(counter.derived).toBe(1);
  });

  it('a wipe before any signature derives nothing and still refuses later signatures', async () => {
    const counter = { derived: 0 };
    const s = hostKeySigner('sig-2', PUB, kind(Buffer.alloc(32, 1), counter));
    s.wipe();
    await expect(s.sign(Uint8Array.of(1))).rejects.toMatchObject({ code: 'KEY_WIPED' });
    expect(counter.derived).toBe(0);
  });

  it('a derived key that is not the resolved one is zeroed and refused (a rejection, not a throw), and signs nothing', async () => {
    const counter = { derived: 0 };
    const key = Buffer.alloc(32, 5);
    const s = hostKeySigner('sig-3', PUB, kind(key, counter, Uint8Array.of(1, 2, 4)));
    const signing = s.sign(Uint8Array.of(1));
    await expect(signing).rejects.toMatchObject({ code: 'WALLET_XPUB_MISMATCH' });
    expect(key.equals(Buffer.alloc(32))).toBe(true);
  });

  it('keeps its own copy of the resolved public key', () => {
    const pub = Uint8Array.of(1, 2, 3);
    const s = hostKeySigner('sig-4', pub, kind(Buffer.alloc(32, 1), { derived: 0 }));
    pub[0] = 9;
    expect(Array.from(s.publicKey)).toEqual([1, 2, 3]);
  });

  it('zeroes the mnemonic and the seed when the derivation returns and when it throws', () => {
    const seeds: Uint8Array[] = [];
    const toSeed = (m: Uint8Array): Uint8Array => {
      const s = Uint8Array.from(m);
      seeds.push(s);
      return s;
    };
    const m1 = Buffer.from('abandon abandon about');
    expect(withMnemonicSeed(m1, toSeed, (seed) => seed.length)).toBe(m1.length);
    const m2 = Buffer.from('zoo zoo wrong');
    expect(() =>
      withMnemonicSeed(m2, toSeed, () => {
        throw new Error('bad');
      }),
    ).toThrow('bad');
    for (const b of [m1, m2, ...seeds]) expect(b.every((x) => x === 0)).toBe(true);
  });
});
