/**
 * generatewallet's wallets in Tatum's formats per chain family (chains/echo-wallet.ts), from
 * fixed entropy: the mnemonic is the BIP39 of that entropy, the address and key of SOL are
 * its index 0, the xpub is the one storemanagedwallet would store.
 */
import { ed25519 } from '@noble/curves/ed25519';
import { describe, expect, it } from 'vitest';
import { echoWallet } from '../../../src/chains/echo-wallet.js';
import { chainKit } from '../../../src/chains/kit.js';
import { generateMnemonic, mnemonicToSeed } from '../../../src/chains/mnemonic.js';

const entropy = () => new Uint8Array(32).fill(0x5a);
const words = generateMnemonic(entropy()).toString('utf8');

describe('generatewallet formats', () => {
  it('HD chains and ADA: {mnemonic, xpub} (the xpub storemanagedwallet stores)', () => {
    for (const chain of ['BTC', 'ETH', 'ADA']) {
      const kit = chainKit(chain);
      const w = echoWallet(kit, true, entropy());
      expect(Object.keys(w)).toEqual(['mnemonic', 'xpub']);
      expect(w.mnemonic).toBe(words);
      expect(w.xpub).toBe(kit.xpubFromSeed(kit.mnemonicToSeed(Buffer.from(words)), true));
    }
  });

  it('SOL: {mnemonic, address, privateKey} of index 0; EGLD: {mnemonic} alone', () => {
    const sol = chainKit('SOL');
    const w = echoWallet(sol, false, entropy());
    expect(Object.keys(w)).toEqual(['mnemonic', 'address', 'privateKey']);
    const k0 = sol.privateKeyFromSeed(mnemonicToSeed(Buffer.from(words)), 0, false);
    expect(w.privateKey).toBe(sol.formatPrivateKey(k0, false));
    expect(w.address).toBe(sol.addressFromPublicKey(Buffer.from(ed25519.getPublicKey(k0)), false));
    expect(echoWallet(chainKit('EGLD'), true, entropy())).toEqual({ mnemonic: words });
  });

  it('one-key chains: {address, secret} of a key from the entropy (XRP an ed25519 sEd… seed)', () => {
    for (const chain of ['XLM', 'ALGO', 'XRP']) {
      const kit = chainKit(chain);
      const w = echoWallet(kit, true, entropy());
      expect(Object.keys(w)).toEqual(['address', 'secret']);
      const secret = kit.parsePrivateKey(w.secret!, true);
      expect(kit.addressFromPublicKey(Buffer.from(kit.publicKeyFromPrivateKey(secret)), true)).toBe(w.address);
    }
    expect(echoWallet(chainKit('XRP'), true, entropy()).secret).toMatch(/^sEd/);
  });
});
