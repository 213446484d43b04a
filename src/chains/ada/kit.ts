/**
 * The managed-wallet operations for ADA (the vault's ChainKit): Tatum's v2 cardano wallets
 * `{mnemonic, xpub}` (spec §4.2, keys.ts for the path). The kit's "seed" is the Icarus root
 * key (96 bytes), made from the BIP39 entropy as Tatum's SDK makes it (bip39
 * mnemonicToEntropy, then CIP-3), not the BIP39 seed: ADA keys do not use it.
 *
 * Private keys (storemanagedprivatekey ADA) are refused: a BIP32-Ed25519 key cannot go into
 * the token (keys.ts says why), and hardkms keeps private keys only in the token.
 */
import { InputError } from '../../errors.js';
import type { ChainKit } from '../../vault/tatum-wallets.js';
import { generateMnemonic, mnemonicEntropy, validateTypedMnemonic } from '../mnemonic.js';
import { adaAddress } from './address.js';
import {
  adaPrivateKeyAt,
  adaPublicKeyFromXpub,
  adaPublicKeyOfExtended,
  adaRootFromEntropy,
  adaXpubFromRoot,
  parseAdaPrivateKey,
} from './keys.js';

/**
 * BIP39 entropy of a mnemonic given as UTF-8 bytes (the caller zeroes both). Tatum's SDK
 * takes the words exactly (bip39 mnemonicToEntropy fails on upper case or double spaces), so
 * a mnemonic that is not in canonical form is refused rather than derived differently.
 */
export function adaEntropyFromMnemonic(mnemonic: Uint8Array): Uint8Array {
  if (validateTypedMnemonic(mnemonic).length > 0) {
    throw new InputError(
      "ADA wallets take the mnemonic's words exactly as BIP39 lists them: Tatum's cardano wallet cannot read upper case, tabs or repeated spaces.",
      'Type the words in lowercase, separated by single spaces.',
    );
  }
  return mnemonicEntropy(mnemonic);
}

function refusePrivateKey(): never {
  throw new InputError(
    'hardkms does not store ADA private keys: a Cardano (BIP32-Ed25519) key cannot be held by a PKCS#11 token, and hardkms keeps private keys only in the token.',
    "Store the wallet's mnemonic instead (storemanagedwallet ADA); its keys are derived at signing time and wiped.",
  );
}

export function adaKit(): ChainKit {
  return {
    chain: 'ADA',
    xpubFromSeed: (root) => adaXpubFromRoot(root),
    addressFromXpub: (xpub, index, testnet) => adaAddress(adaPublicKeyFromXpub(xpub, index), testnet),
    privateKeyFromSeed: (root, index) => adaPrivateKeyAt(root, index),
    formatPrivateKey: (raw) => Buffer.from(raw).toString('hex'),
    parsePrivateKey: (text) => {
      // Checked first, so that a malformed key gets the format message, then refused.
      parseAdaPrivateKey(text).fill(0);
      return refusePrivateKey();
    },
    refusePrivateKeys: () => refusePrivateKey(),
    addressFromPublicKey: (pub, testnet) => adaAddress(pub, testnet),
    xpubAddressFromPublicKey: (pub, testnet) => adaAddress(pub, testnet),
    publicKeyFromPrivateKey: (raw) => adaPublicKeyOfExtended(raw),
    generateMnemonic: (entropy) => generateMnemonic(entropy),
    requireMnemonicWallets: () => undefined,
    validateMnemonic: (m) => {
      adaEntropyFromMnemonic(m).fill(0);
    },
    validateTypedMnemonic: (m) => {
      adaEntropyFromMnemonic(m).fill(0);
      return [];
    },
    mnemonicToSeed: (m) => {
      const entropy = adaEntropyFromMnemonic(m);
      const root = adaRootFromEntropy(entropy);
      try {
        return Buffer.from(root);
      } finally {
        entropy.fill(0);
        root.fill(0);
      }
    },
  };
}
