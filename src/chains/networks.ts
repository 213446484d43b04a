// Subpaths, not the package index: the index also loads Psbt, bip174 and the transaction
// code (about 60 files), which address derivation (getaddress, export) never uses.
import * as networks from 'bitcoinjs-lib/src/networks';
import type { Network } from 'bitcoinjs-lib/src/networks';

/**
 * Network parameters (address versions, WIF byte, BIP32 serialization versions) as
 * Tatum uses them (spec §4.2). bitcoinjs-lib only ships Bitcoin's, and Tatum's
 * choices differ from the coins' own registries in places (DOGE mainnet xpubs use
 * Bitcoin's `xpub` versions, not `dgub`), so they are pinned here.
 */

export interface Bip32Versions {
  public: number;
  private: number;
  /** How a public key with these versions starts in Base58, for error messages. */
  readonly prefix: string;
}

export const BIP32_XPUB: Bip32Versions = { public: 0x0488b21e, private: 0x0488ade4, prefix: 'xpub' };
export const BIP32_TPUB: Bip32Versions = { public: 0x043587cf, private: 0x04358394, prefix: 'tpub' };
const BIP32_LTUB: Bip32Versions = { public: 0x019da462, private: 0x019d9cfe, prefix: 'Ltub' };
const BIP32_TTUB: Bip32Versions = { public: 0x0436f6e1, private: 0x0436ef7d, prefix: 'ttub' };

/** Serialization versions of a UTXO chain's xpub (Tatum's choice, spec §4.2). */
export function utxoBip32Versions(chain: UtxoChain, testnet: boolean): Bip32Versions {
  if (chain === 'LTC') return testnet ? BIP32_TTUB : BIP32_LTUB;
  return testnet ? BIP32_TPUB : BIP32_XPUB;
}

type UtxoChain = 'BTC' | 'LTC' | 'DOGE' | 'BCH';

const LITECOIN: Network = {
  messagePrefix: '\x19Litecoin Signed Message:\n',
  // Tatum's LTC_NETWORK leaves bech32 empty; the real prefix only matters for paying to
  // ltc1 addresses, which a signer must be able to parse. Addresses we derive are P2PKH.
  bech32: 'ltc',
  bip32: BIP32_LTUB,
  pubKeyHash: 0x30,
  scriptHash: 0x32,
  wif: 0xb0,
};

const LITECOIN_TESTNET: Network = {
  messagePrefix: '\x19Litecoin Signed Message:\n',
  bech32: 'tltc',
  bip32: BIP32_TTUB,
  pubKeyHash: 0x6f,
  scriptHash: 0x3a,
  wif: 0xef,
};

const DOGECOIN: Network = {
  messagePrefix: '\x19Dogecoin Signed Message:\n',
  bech32: '', // Dogecoin has no segwit; an empty prefix matches no bech32 address
  bip32: BIP32_XPUB,
  pubKeyHash: 0x1e,
  scriptHash: 0x16,
  wif: 0x9e,
};

const DOGECOIN_TESTNET: Network = {
  messagePrefix: '\x19Dogecoin Signed Message:\n',
  bech32: '',
  bip32: BIP32_TPUB,
  pubKeyHash: 0x71,
  scriptHash: 0xc4,
  wif: 0xf1,
};

// BCH shares Bitcoin's versions but has no segwit: keep bc1/tb1 out of its address parser.
const BITCOIN_CASH: Network = { ...networks.bitcoin, messagePrefix: '\x18Bitcoin Signed Message:\n', bech32: '' };
const BITCOIN_CASH_TESTNET: Network = { ...networks.testnet, bech32: '' };

const TABLE: Record<UtxoChain, { main: Network; test: Network }> = {
  BTC: { main: networks.bitcoin, test: networks.testnet },
  LTC: { main: LITECOIN, test: LITECOIN_TESTNET },
  DOGE: { main: DOGECOIN, test: DOGECOIN_TESTNET },
  BCH: { main: BITCOIN_CASH, test: BITCOIN_CASH_TESTNET },
};

/** bitcoinjs-lib network object for a UTXO chain; BCH addresses are CashAddr on top of it. */
export function utxoNetwork(chain: UtxoChain, testnet: boolean): Network {
  return testnet ? TABLE[chain].test : TABLE[chain].main;
}

/** CashAddr prefix Tatum uses for BCH. */
export function cashAddrPrefix(testnet: boolean): 'bitcoincash' | 'bchtest' {
  return testnet ? 'bchtest' : 'bitcoincash';
}

/** SLIP-44 coin type of the testnet path m/44'/1'/0'/0 that most chains use on testnet. */
export const TESTNET_COIN_TYPE = 1;

export function changeLevelPath(coinType: number): string {
  return `m/44'/${coinType}'/0'/0`;
}
