import { randomBytes } from 'node:crypto';
import { computeAddress, getAddress, SigningKey } from 'ethers';
import { describe, expect, it } from 'vitest';
import { checksumAddress, evmAddressOf } from '../../../src/chains/evm/address.js';

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

describe("checksumAddress (EIP-55, instead of ethers' getAddress)", () => {
  it('gives what getAddress gives for lower, upper and checksummed case, and refuses what it refuses', () => {
    for (let i = 0; i < 200; i++) {
      const lower = `0x${randomBytes(20).toString('hex')}`;
      const want = getAddress(lower);
      for (const form of [lower, `0x${lower.slice(2).toUpperCase()}`, want]) expect(checksumAddress(form)).toBe(want);
      // One letter's case flipped: a mixed-case address with a wrong checksum, refused by both.
      const at = [...want.slice(2)].findIndex((c) => /[a-fA-F]/.test(c));
      if (at < 0) continue;
      const c = want[at + 2]!;
      const flipped = `${want.slice(0, at + 2)}${c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()}${want.slice(at + 3)}`;
      const mixed = /[A-F]/.test(flipped.slice(2)) && /[a-f]/.test(flipped.slice(2));
      if (!mixed) continue;
      expect(() => getAddress(flipped)).toThrow();
      expect(() => checksumAddress(flipped)).toThrow();
      // Asked again (remembered now): the same answers, and the flipped one still refused.
      expect(checksumAddress(lower)).toBe(want);
      expect(checksumAddress(want)).toBe(want);
      expect(() => checksumAddress(flipped)).toThrow();
    }
  });

  it('refuses what is not 0x and 40 hex digits', () => {
    for (const bad of [
      '',
      '0x',
      `0x${'a'.repeat(39)}`,
      `0x${'a'.repeat(41)}`,
      `${'a'.repeat(40)}`,
      `0x${'g'.repeat(40)}`,
    ])
      expect(() => checksumAddress(bad)).toThrow();
  });
});
