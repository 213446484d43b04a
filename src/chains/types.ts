/**
 * The chains hardkms derives keys and addresses for, and the one interface every chain
 * family implements. Derivation follows Tatum KMS exactly (spec §4), including its
 * quirks, because wallets imported from Tatum must keep their addresses.
 */
import type { ChainKeys } from '../vault/tatum-wallets.js';

export type ChainCode =
  'BTC' | 'LTC' | 'DOGE' | 'BCH' | 'ETH' | 'BSC' | 'MATIC' | 'CELO' | 'KLAY' | 'ONE' | 'XDC' | 'KCS' | 'TRON' | 'VET';

/** 'xlm', 'algo', 'xrp', 'sol' and 'egld' are ed25519 chains (src/chains/ed25519/spec.ts), 'ada' is Cardano (src/chains/ada/): not ChainAdapter families. */
export type ChainFamily = 'utxo' | 'bch' | 'evm' | 'tron' | 'xlm' | 'algo' | 'xrp' | 'sol' | 'egld' | 'ada';

/** A secp256k1 HD chain: the keys and addresses the wallet commands use (ChainKeys), its path and every address form of a key. */
export interface ChainAdapter extends ChainKeys {
  readonly chain: ChainCode;
  readonly family: ChainFamily;
  /** BIP32 path of the change level (depth 4), e.g. m/44'/0'/0'/0; the xpub sits here. */
  derivationPath(testnet: boolean): string;
  /**
   * Every address form that this key controls and that Tatum may hand out for it: for BTC
   * both P2PKH (private-key wallets) and P2WPKH (xpub wallets); one element elsewhere.
   * The first element equals addressFromPublicKey. Lets a signer match inputs to keys.
   */
  addressesFromPublicKey(pub33: Uint8Array, testnet: boolean): readonly string[];
}
