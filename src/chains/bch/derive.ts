import { createRequire } from 'node:module';
import { hash160 } from 'bitcoinjs-lib/src/crypto';
import { InputError } from '../../errors.js';
import type { ChainAdapter } from '../types.js';
import {
  checkCompressedPublicKey,
  checkIndex,
  childPublicKey,
  decodeWif,
  decodeWifAnyForm,
  encodeWif,
  encodeWifForm,
  parseXpub,
  privateKeyAtPath,
  xpubAtPath,
} from '../keys.js';
import { cashAddrPrefix, changeLevelPath, utxoBip32Versions, utxoNetwork } from '../networks.js';

interface CashAddrModule {
  encode(prefix: string, type: 'P2PKH' | 'P2SH', hash: Uint8Array): string;
  decode(address: string): { prefix: string; type: string; hash: Uint8Array };
}

let cashaddrModule: CashAddrModule | undefined;

// cashaddrjs is CommonJS without type declarations; createRequire loads it from ESM and
// lets us type exactly the two functions we use. On first use: every command that knows the
// chains loads this module, and only BCH needs the library (about 12 ms of CPU to load).
export function cashaddr(): CashAddrModule {
  cashaddrModule ??= createRequire(import.meta.url)('cashaddrjs') as CashAddrModule;
  return cashaddrModule;
}

/** Tatum derives BCH at m/44'/145'/0'/0 on both networks (its testnet path is the mainnet one). */
const BCH_PATH = changeLevelPath(145);

function netName(testnet: boolean): string {
  return testnet ? 'BCH testnet' : 'BCH mainnet';
}

function cashAddress(pub33: Uint8Array, testnet: boolean): string {
  checkCompressedPublicKey(pub33);
  return cashaddr().encode(cashAddrPrefix(testnet), 'P2PKH', hash160(pub33));
}

export function bchAdapter(): ChainAdapter {
  return {
    chain: 'BCH',
    family: 'bch',
    derivationPath: () => BCH_PATH,
    // Same key material on both nets, but the xpub is serialized with tpub versions on testnet.
    xpubFromSeed: (seed, testnet) => xpubAtPath(seed, BCH_PATH, utxoBip32Versions('BCH', testnet)),
    addressFromXpub(xpub, index, testnet) {
      checkIndex(index);
      const node = parseXpub(xpub, utxoBip32Versions('BCH', testnet), netName(testnet));
      return cashAddress(childPublicKey(node, index), testnet);
    },
    privateKeyFromSeed(seed, index, testnet) {
      checkIndex(index);
      return privateKeyAtPath(seed, `${BCH_PATH}/${index}`, utxoBip32Versions('BCH', testnet));
    },
    formatPrivateKey: (raw, testnet) => encodeWif(raw, utxoNetwork('BCH', testnet).wif),
    parsePrivateKey: (text, testnet) => decodeWif(text, utxoNetwork('BCH', testnet).wif, netName(testnet)),
    parseWifAsTatum(text, testnet) {
      const own = utxoNetwork('BCH', testnet).wif;
      const { key, form } = decodeWifAnyForm(text, [own, utxoNetwork('BCH', !testnet).wif], 'BCH');
      if (!form.compressed) {
        key.fill(0);
        // The BCH payload carries no spent scripts: inputs are signed as P2PKH of the compressed key.
        throw new InputError(
          'The BCH private key is an uncompressed-WIF key; hardkms signs BCH inputs only as compressed P2PKH.',
          'Move the funds of its uncompressed address with Tatum KMS first, or keep this wallet in Tatum KMS.',
        );
      }
      return form.version === own ? { key } : { key, form, otherNetwork: true };
    },
    formatWif: (raw, form) => encodeWifForm(raw, form),
    addressFromPublicKey: cashAddress,
    addressesFromPublicKey: (pub33, testnet) => [cashAddress(pub33, testnet)],
  };
}
