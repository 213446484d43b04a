import { randomBytes } from 'node:crypto';
import { computeAddress, SigningKey } from 'ethers';
import { describe, expect, it } from 'vitest';
import { evmAddressOf } from '../../../src/chains/evm/address.js';

describe('evmAddressOf (libsecp256k1 + keccak)', () => {
  it("gives ethers' checksummed address for compressed and uncompressed keys, asked once or again", () => {
    for (let i = 0; i < 50; i++) {
      const key = new SigningKey(`0x${randomBytes(32).toString('hex')}`);
      const compressed = Buffer.from(key.compressedPublicKey.slice(2), 'hex');
      const uncompressed = Buffer.from(key.publicKey.slice(2), 'hex');
      const want = computeAddress(key.publicKey);
      expect(evmAddressOf(compressed)).toBe(want);
      expect(evmAddressOf(uncompressed)).toBe(want);
      expect(evmAddressOf(compressed)).toBe(want);
    }
  });

  it('refuses a point that is not on the curve', () => {
    const bad = Buffer.alloc(33, 0xff);
    bad[0] = 0x02;
    expect(() => evmAddressOf(bad)).toThrow();
  });
});
