import { ed25519 } from '@noble/curves/ed25519';
import { Keypair } from '@solana/web3.js';
import { describe, expect, it } from 'vitest';
import { slip10Ed25519, solanaPath } from '../../../src/chains/ed25519/slip10.js';
import { mnemonicToSeed } from '../../../src/chains/mnemonic.js';

const ABANDON = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

describe('SLIP-0010 ed25519', () => {
  it('SLIP-0010 test vector 1 (seed 000102…0f): m/0H/1H/2H/2H/1000000000H', () => {
    const seed = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
    expect(Buffer.from(slip10Ed25519(seed, 'm')).toString('hex')).toBe(
      '2b4be7f19ee27bbf30c667b642d5f4aa69fd169872f8fc3059c08ebae2eb19e7',
    );
    expect(Buffer.from(slip10Ed25519(seed, "m/0'/1'/2'/2'/1000000000'")).toString('hex')).toBe(
      '8f94d394a8e8fd6b1bc2f3f49f5c47e385281d5c17e65324b0f62483e37e8793',
    );
  });

  it("Tatum's SOL golden value: abandon…about index 0 is B9sVeu4rJU12oUrUtzjc6BSNuEXdfvurZkdcaTVkP2LY (checked with @solana/web3.js)", () => {
    const seed = mnemonicToSeed(Buffer.from(ABANDON));
    const key = slip10Ed25519(seed, solanaPath(0));
    const kp = Keypair.fromSeed(key);
    expect(kp.publicKey.toBase58()).toBe('B9sVeu4rJU12oUrUtzjc6BSNuEXdfvurZkdcaTVkP2LY');
    expect(Buffer.from(ed25519.getPublicKey(key))).toEqual(kp.publicKey.toBuffer());
  });

  it("Tatum's EGLD golden key (spec §4.3): abandon…about m/44'/508'/0'/0'/0'", () => {
    const key = slip10Ed25519(mnemonicToSeed(Buffer.from(ABANDON)), "m/44'/508'/0'/0'/0'");
    expect(Buffer.from(key).toString('hex')).toBe('0eb89d816d68610683f209074af218d121a7c7db45d861fbdd959ec662b6404b');
  });

  it('refuses non-hardened levels', () => {
    expect(() => slip10Ed25519(new Uint8Array(64), "m/44'/501'/0/0")).toThrow(/every level hardened/);
  });
});
