import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bip32, privateKeyAtPath } from '../../../src/chains/keys.js';
import { BIP32_TPUB, BIP32_XPUB } from '../../../src/chains/networks.js';

/** The key the bip32 library (the independent implementation) derives at `path`. */
function reference(seed: Uint8Array, path: string): string {
  const master = bip32().fromSeed(Buffer.from(seed));
  return Buffer.from((path === 'm' ? master : master.derivePath(path)).privateKey!).toString('hex');
}

describe('privateKeyAtPath (CKDpriv on node:crypto and libsecp256k1)', () => {
  it('gives the bip32 library\u2019s key for every chain\u2019s path shape, hardened and not', () => {
    const paths = [
      'm',
      "m/0'",
      'm/0',
      "m/44'/60'/0'/0/0",
      "m/44'/60'/0'/0/2147483647",
      "m/44'/0'/0'/0/7",
      "m/44'/1'/0'/0/3",
      "m/44'/195'/0'/0/12",
      "m/84'/0'/0'/1/5",
      "m/2147483647'/1/2/3'",
    ];
    for (let i = 0; i < 25; i++) {
      const seed = randomBytes(i % 2 === 0 ? 64 : 32);
      for (const path of paths) {
        expect(Buffer.from(privateKeyAtPath(seed, path, BIP32_XPUB)).toString('hex'), path).toBe(reference(seed, path));
      }
    }
  });

  it('BIP32 test vector 1 (m/0H/1/2H/2/1000000000)', () => {
    const seed = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
    expect(Buffer.from(privateKeyAtPath(seed, "m/0'/1/2'/2/1000000000", BIP32_TPUB)).toString('hex')).toBe(
      '471b76e389e528d6de6d816857e012c5455051cad6660850e58372a6c3e6e7c8',
    );
  });
});
