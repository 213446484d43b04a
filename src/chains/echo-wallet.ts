/**
 * `generatewallet` (Tatum's echo command: a wallet printed, nothing stored), in each chain's
 * format as Tatum KMS's managed wallets have it (spec §4.2, chains §1):
 * - SOL: `{mnemonic, address, privateKey}`, the key and address of index 0 (Tatum's v2 wallet;
 *   its v1 echo generator refuses SOL);
 * - one-key ed25519 chains (XLM, ALGO, XRP): `{address, secret}` of a random key (XRP an
 *   ed25519 family seed `sEd…`; Tatum's v1 echo generator is broken for XRP, chains §1);
 * - EGLD: `{mnemonic}` alone (ed25519 derivation is hardened only: no xpub);
 * - HD chains (and ADA, in its v2 format): `{mnemonic, xpub}`.
 * The CLI supplies the entropy and prints; the fields are strings only because they are
 * printed, and every intermediate buffer is zeroed here.
 */
import type { ChainKit } from '../vault/tatum-wallets.js';

type EchoWallet = Record<string, string>;

/** The wallet to print for `kit`'s chain, from 32 bytes of entropy (zeroed by the caller). */
export function echoWallet(kit: ChainKit, testnet: boolean, entropy: Uint8Array): EchoWallet {
  if (kit.curve === 'ed25519' && !kit.mnemonicPublicData && !kit.generatesMnemonic) {
    const seed = kit.newSecret ? kit.newSecret(entropy) : Uint8Array.from(entropy);
    try {
      return {
        address: kit.addressFromPublicKey(kit.publicKeyFromPrivateKey(seed), testnet),
        secret: kit.formatPrivateKey(seed, testnet),
      };
    } finally {
      seed.fill(0);
    }
  }
  const mnemonic = kit.generateMnemonic(entropy);
  try {
    if (kit.generatesMnemonic) return { mnemonic: mnemonic.toString('utf8') };
    const seed = kit.mnemonicToSeed(mnemonic);
    try {
      if (kit.mnemonicPublicData) {
        const key = kit.privateKeyFromSeed(seed, 0, testnet);
        try {
          const address = kit.addressFromPublicKey(Buffer.from(kit.publicKeyFromPrivateKey(key)), testnet);
          return { mnemonic: mnemonic.toString('utf8'), address, privateKey: kit.formatPrivateKey(key, testnet) };
        } finally {
          key.fill(0);
        }
      }
      return { mnemonic: mnemonic.toString('utf8'), xpub: kit.xpubFromSeed(seed, testnet) };
    } finally {
      seed.fill(0);
    }
  } finally {
    mnemonic.fill(0);
  }
}
