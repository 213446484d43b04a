import type { ChainKit } from '../vault/managed.js';
import { publicKeyFromPrivateKey } from './keys.js';
import { generateMnemonic, mnemonicToSeed, validateMnemonic } from './mnemonic.js';
import { getChainAdapter, isSupportedChain } from './registry.js';

/** Everything the managed-wallet operations need from the chain layer, for one chain. */
export function chainKit(chain: string): ChainKit {
  const adapter = getChainAdapter(chain);
  return {
    chain: adapter.chain,
    xpubFromSeed: (seed, testnet) => adapter.xpubFromSeed(seed, testnet),
    addressFromXpub: (xpub, index, testnet) => adapter.addressFromXpub(xpub, index, testnet),
    privateKeyFromSeed: (seed, index, testnet) => adapter.privateKeyFromSeed(seed, index, testnet),
    formatPrivateKey: (raw, testnet) => adapter.formatPrivateKey(raw, testnet),
    parsePrivateKey: (text, testnet) => adapter.parsePrivateKey(text, testnet),
    addressFromPublicKey: (pub, testnet) => adapter.addressFromPublicKey(pub, testnet),
    // addressesFromPublicKey lists the private-key form first and the xpub form last (BTC: P2PKH, P2WPKH).
    xpubAddressFromPublicKey: (pub, testnet) => adapter.addressesFromPublicKey(pub, testnet).at(-1) ?? adapter.addressFromPublicKey(pub, testnet),
    publicKeyFromPrivateKey: (raw) => publicKeyFromPrivateKey(raw),
    generateMnemonic: (entropy) => generateMnemonic(entropy),
    validateMnemonic: (m) => validateMnemonic(m),
    mnemonicToSeed: (m) => mnemonicToSeed(m),
  };
}

/** The kit for a stored entry's chain, or undefined for chains kept only for export (SOL, XRP, …). */
export function chainKitIfSupported(chain: string): ChainKit | undefined {
  return isSupportedChain(chain) ? chainKit(chain) : undefined;
}
