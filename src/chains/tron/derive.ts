import type { BIP32Interface } from 'bip32';
import type { ChainAdapter } from '../types.js';
import {
  base58CheckEncode,
  checkIndex,
  childPublicKey,
  encodeHexKey,
  keccakAccountId,
  parseHexKey,
  parseHexXpub,
  parseXpub,
  privateKeyAtPath,
  xpubAtPath,
} from '../keys.js';
import { BIP32_XPUB, changeLevelPath } from '../networks.js';

/** Tatum's TRON generator ignores the testnet flag: one path, one address format. */
const TRON_PATH = changeLevelPath(195);
const TRON_ADDRESS_VERSION = 0x41;

function tronAddressFromPublicKey(pub33: Uint8Array): string {
  const payload = new Uint8Array(21);
  payload[0] = TRON_ADDRESS_VERSION;
  payload.set(keccakAccountId(pub33), 1);
  return base58CheckEncode(payload);
}

function parseTronXpub(xpub: string): BIP32Interface {
  // Older Tatum stores hold the 130-hex form (pubkey ‖ chain code) instead of xpub….
  const t = xpub.trim();
  return /^[0-9a-fA-F]{130}$/.test(t) ? parseHexXpub(t, 'TRON') : parseXpub(t, BIP32_XPUB, 'TRON');
}

export function tronAdapter(): ChainAdapter {
  return {
    chain: 'TRON',
    family: 'tron',
    derivationPath: () => TRON_PATH,
    xpubFromSeed: (seed) => xpubAtPath(seed, TRON_PATH, BIP32_XPUB),
    addressFromXpub(xpub, index) {
      checkIndex(index);
      return tronAddressFromPublicKey(childPublicKey(parseTronXpub(xpub), index));
    },
    privateKeyFromSeed(seed, index) {
      checkIndex(index);
      return privateKeyAtPath(seed, `${TRON_PATH}/${index}`, BIP32_XPUB);
    },
    formatPrivateKey: (raw) => encodeHexKey(raw, false),
    parsePrivateKey: (text) => parseHexKey(text, 'TRON', 'Use 64 hex digits (no 0x prefix needed).'),
    addressFromPublicKey: tronAddressFromPublicKey,
    addressesFromPublicKey: (pub33) => [tronAddressFromPublicKey(pub33)],
  };
}
