import type { ChainAdapter } from '../types.js';
import {
  checkIndex,
  childPublicKey,
  encodeHexKey,
  keccakAccountId,
  parseHexKey,
  parseXpub,
  privateKeyAtPath,
  xpubAtPath,
} from '../keys.js';
import { BIP32_XPUB, changeLevelPath, TESTNET_COIN_TYPE } from '../networks.js';

type EvmChain = 'ETH' | 'BSC' | 'MATIC' | 'CELO' | 'KLAY' | 'ONE' | 'XDC' | 'KCS' | 'VET';

/** SLIP-44 coin types Tatum uses (spec §4.2); BSC and KCS reuse Ethereum's 60. */
const COIN_TYPE: Record<EvmChain, number> = {
  ETH: 60,
  BSC: 60,
  KCS: 60,
  MATIC: 966,
  CELO: 52752,
  KLAY: 8217,
  ONE: 1023,
  XDC: 550,
  VET: 818,
};

/** Lowercase hex account id with the chain's prefix; Tatum applies no EIP-55 checksum. */
function evmAddressFromPublicKey(pub33: Uint8Array, chain: EvmChain = 'ETH'): string {
  const hex = Buffer.from(keccakAccountId(pub33)).toString('hex');
  return (chain === 'XDC' ? 'xdc' : '0x') + hex;
}

/**
 * EVM-style chains: Tatum's ethereumjs hdkey always serializes `xpub` versions (also on
 * testnet), keys are 0x + 64 hex, addresses lowercase (XDC with its `xdc` prefix, ONE as
 * 0x hex rather than one1…).
 */
export function evmAdapter(chain: EvmChain): ChainAdapter {
  const path = (testnet: boolean) => changeLevelPath(testnet ? TESTNET_COIN_TYPE : COIN_TYPE[chain]);
  const what = (testnet: boolean) => `${chain} ${testnet ? 'testnet' : 'mainnet'}`;
  const address = (pub33: Uint8Array) => evmAddressFromPublicKey(pub33, chain);
  return {
    chain,
    family: 'evm',
    derivationPath: path,
    xpubFromSeed: (seed, testnet) => xpubAtPath(seed, path(testnet), BIP32_XPUB),
    addressFromXpub(xpub, index, testnet) {
      checkIndex(index);
      return address(childPublicKey(parseXpub(xpub, BIP32_XPUB, what(testnet)), index));
    },
    privateKeyFromSeed(seed, index, testnet) {
      checkIndex(index);
      return privateKeyAtPath(seed, `${path(testnet)}/${index}`, BIP32_XPUB);
    },
    formatPrivateKey: (raw) => encodeHexKey(raw, true),
    parsePrivateKey: (text, testnet) => parseHexKey(text, what(testnet), 'Use 0x followed by 64 hex digits.'),
    addressFromPublicKey: (pub33) => address(pub33),
    addressesFromPublicKey: (pub33) => [address(pub33)],
  };
}
