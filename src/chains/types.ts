/**
 * The chains hardkms derives keys and addresses for, and the one interface every chain
 * family implements. Derivation follows Tatum KMS exactly (spec §4), including its
 * quirks, because wallets imported from Tatum must keep their addresses.
 */
import type { WifForm } from './keys.js';

export type ChainCode =
  'BTC' | 'LTC' | 'DOGE' | 'BCH' | 'ETH' | 'BSC' | 'MATIC' | 'CELO' | 'KLAY' | 'ONE' | 'XDC' | 'KCS' | 'TRON' | 'VET';

/** 'xlm', 'algo', 'xrp', 'sol' and 'egld' are ed25519 chains (src/chains/ed25519/spec.ts), 'ada' is Cardano (src/chains/ada/): not ChainAdapter families. */
export type ChainFamily = 'utxo' | 'bch' | 'evm' | 'tron' | 'xlm' | 'algo' | 'xrp' | 'sol' | 'egld' | 'ada';

export interface ChainAdapter {
  readonly chain: ChainCode;
  readonly family: ChainFamily;
  /** BIP32 path of the change level (depth 4), e.g. m/44'/0'/0'/0; the xpub sits here. */
  derivationPath(testnet: boolean): string;
  /** Extended public key at derivationPath(testnet), in the serialization Tatum stores. */
  xpubFromSeed(seed: Uint8Array, testnet: boolean): string;
  /** Address of non-hardened child `index` of the xpub. */
  addressFromXpub(xpub: string, index: number, testnet: boolean): string;
  /** Raw 32-byte private key at derivationPath(testnet)/index. The caller zeroes it. */
  privateKeyFromSeed(seed: Uint8Array, index: number, testnet: boolean): Uint8Array;
  /** Export format: WIF (utxo, bch), 0x + 64 hex (evm), 64 hex (tron). */
  formatPrivateKey(raw: Uint8Array, testnet: boolean): string;
  /** Inverse of formatPrivateKey; InputError naming the rule that failed. The caller zeroes the result. */
  parsePrivateKey(text: string, testnet: boolean): Uint8Array;
  /**
   * WIF chains only: the key as Tatum's signers take it (uncompressed WIF, WIF of the other
   * network), with the form it was written in; `form` is absent when it is this net's compressed WIF.
   */
  parseWifAsTatum?(text: string, testnet: boolean): { key: Uint8Array; form?: WifForm; otherNetwork?: boolean };
  /** WIF chains only: the key in a given WIF form (the inverse of parseWifAsTatum). */
  formatWif?(raw: Uint8Array, form: WifForm): string;
  /** The P2PKH address of the key's uncompressed public key, where the chain's signer spends it (BTC, LTC, DOGE). */
  uncompressedAddress?(pub33: Uint8Array, testnet: boolean): string;
  /** Address Tatum reports for a private-key wallet (BTC: P2PKH legacy, see spec §4.2). */
  addressFromPublicKey(pub33: Uint8Array, testnet: boolean): string;
  /**
   * Every address form that this key controls and that Tatum may hand out for it: for BTC
   * both P2PKH (private-key wallets) and P2WPKH (xpub wallets); one element elsewhere.
   * The first element equals addressFromPublicKey. Lets a signer match inputs to keys.
   */
  addressesFromPublicKey(pub33: Uint8Array, testnet: boolean): readonly string[];
}
