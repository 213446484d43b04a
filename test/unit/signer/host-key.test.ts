import { describe, expect, it } from 'vitest';
import { hostKey, withMnemonicSeed } from '../../../src/signer/pipeline/host-key.js';

/** The host-key lifetime every mnemonic signing key (secp256k1, ed25519, ADA) shares. */
describe('host keys of mnemonic wallets', () => {
  it('derives once at the first use, zeroes the key at wipe, and refuses a use after it (KEY_WIPED)', () => {
    let derived = 0;
    const key = Buffer.alloc(32, 9);
    const k = hostKey(
      'sig-1',
      () => {
        derived++;
        return key;
      },
      (b) => b.fill(0),
    );
    expect(derived).toBe(0);
    expect(k.use()).toBe(key);
    expect(k.use()).toBe(key);
    expect(derived).toBe(1);
    k.wipe();
    expect(key.equals(Buffer.alloc(32))).toBe(true);
    expect(() => k.use()).toThrow(expect.objectContaining({ code: 'KEY_WIPED' }));
    k.wipe();
    expect(derived).toBe(1);
  });

  it('a wipe before any use derives nothing and still refuses later uses', () => {
    const k = hostKey(
      'sig-2',
      () => {
        throw new Error('must not derive');
      },
      () => undefined,
    );
    k.wipe();
    expect(() => k.use()).toThrow(expect.objectContaining({ code: 'KEY_WIPED' }));
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
