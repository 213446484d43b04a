import type { BIP32Interface } from 'bip32';
import type { ChainAdapter } from '../types.js';
import {
  checkIndex,
  childPublicKey,
  encodeHexKey,
  parseHexKey,
  parseHexXpub,
  parseXpub,
  privateKeyAtPath,
  xpubAtPath,
} from '../keys.js';
import { BIP32_XPUB, changeLevelPath } from '../networks.js';
import { tronAddressFromPublicKey } from './address.js';

/** Tatum's TRON generator ignores the testnet flag: one path, one address format. */
const TRON_PATH = changeLevelPath(195);

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
